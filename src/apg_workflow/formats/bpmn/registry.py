"""The tables that drive reading and writing (STYLE.md habit 4: tag → reader, not an if/elif ladder).

Element-family modules (:mod:`.events`, :mod:`.activities`, …) register their readers and writers
here when imported; dialect modules (:mod:`.extensions`) register the foreign attributes and
extension elements they map onto model fields. :mod:`.reader` and :mod:`.writer` import them all.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lxml import etree

    from apg_workflow.formats.bpmn.reading import Draft, ReadContext
    from apg_workflow.formats.bpmn.writing import WriteContext
    from apg_workflow.formats.bpmn.xmlout import Node


class Category(Enum):
    """Where a flow element read inside a (sub-)process goes in :class:`~apg_workflow.model.FlowContainer`."""

    NODE = "nodes"
    FLOW = "flows"
    DATA = "data"
    ARTIFACT = "artifacts"


Reader = Callable[["etree._Element", "ReadContext"], Any]
Writer = Callable[[Any, "WriteContext"], "Node"]
# A foreign attribute mapped onto a field: (value, draft, context, element) → mapped?
AttributeHandler = Callable[[str, "Draft", "ReadContext", "etree._Element"], bool]
# An extension element mapped onto fields: returns True when it was consumed entirely. A handler
# may also consume part of it (pop attributes, remove children): what is left stays preserved.
ExtensionHandler = Callable[["etree._Element", "Draft", "ReadContext"], bool]

FLOW_READERS: dict[str, tuple[Reader, Category]] = {}
EVENT_DEFINITION_READERS: dict[str, Reader] = {}
WRITERS: dict[type, Writer] = {}
APG_HANDLERS: dict[str, ExtensionHandler] = {}
ATTRIBUTE_HANDLERS: dict[str, AttributeHandler] = {}
EXTENSION_HANDLERS: dict[str, ExtensionHandler] = {}


def flow_reader(category: Category, *tags: str) -> Callable[[Reader], Reader]:
    """Register a reader for flow elements with these Clark tags."""

    def register(reader: Reader) -> Reader:
        for tag in tags:
            FLOW_READERS[tag] = (reader, category)
        return reader

    return register


def writer(*classes: type) -> Callable[[Writer], Writer]:
    """Register the writer of these model classes (exact types)."""

    def register(function: Writer) -> Writer:
        for cls in classes:
            WRITERS[cls] = function
        return function

    return register
