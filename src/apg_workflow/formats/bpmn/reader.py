"""``read_bpmn``: a BPMN 2.0 XML document → :class:`~apg_workflow.model.Definitions`."""

from __future__ import annotations

from lxml import etree

from apg_workflow.formats.bpmn import activities, containers, events, flows, gateways, registry  # noqa: F401
from apg_workflow.formats.bpmn.diagram import BPMN_DIAGRAM, read_diagram
from apg_workflow.formats.bpmn.namespaces import bpmn
from apg_workflow.formats.bpmn.reading import (
    ID,
    ElementSpec,
    ReadContext,
    collect,
    read_element,
    reader_for,
    text,
)
from apg_workflow.formats.bpmn.root import COLLABORATION, ERROR, ESCALATION, MESSAGE, PROCESS, SIGNAL
from apg_workflow.formats.bpmn.safe import parse_xml
from apg_workflow.model import Definitions, FrozenDict, freeze

# What the writer puts in targetNamespace (which the XSD requires) when the model has none.
DEFAULT_TARGET_NAMESPACE = "urn:apg-workflow:definitions"


def _target_namespace(value: str, element: etree._Element, context: ReadContext) -> str | None:
    return None if value == DEFAULT_TARGET_NAMESPACE else value


_DEFINITIONS = ElementSpec(
    Definitions,
    attributes={
        **ID,
        "name": ("name", text),
        "targetNamespace": ("target_namespace", _target_namespace),
        "exporter": ("exporter", text),
        "exporterVersion": ("exporter_version", text),
    },
    children={
        bpmn("process"): collect("processes", reader_for(PROCESS)),
        bpmn("collaboration"): collect("collaborations", reader_for(COLLABORATION)),
        bpmn("message"): collect("messages", reader_for(MESSAGE)),
        bpmn("signal"): collect("signals", reader_for(SIGNAL)),
        bpmn("error"): collect("errors", reader_for(ERROR)),
        bpmn("escalation"): collect("escalations", reader_for(ESCALATION)),
        BPMN_DIAGRAM: collect("diagrams", read_diagram),
    },
)


def _positions(root: etree._Element, data: str | bytes) -> dict[str, tuple[int, int]]:
    """id → (line, column) of the start tag of every element with an id (lxml knows only lines)."""
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    lines = text.splitlines()
    positions: dict[str, tuple[int, int]] = {}
    for element in root.iter():
        element_id = element.get("id")
        line = element.sourceline
        if element_id is None or line is None or element_id in positions:
            continue
        source_line = lines[line - 1] if line <= len(lines) else ""
        found = source_line.find(f'id="{element_id}"')
        if found < 0:
            found = source_line.find(f"id='{element_id}'")
        positions[element_id] = (line, source_line.rfind("<", 0, found) + 1 if found >= 0 else 1)
    return positions


def read_bpmn(data: str | bytes, *, source: str | None = None) -> Definitions:
    """Read a BPMN 2.0 XML document (text or bytes).

    Raises :class:`~apg_workflow.formats.errors.FormatError`, located by line, when the XML is not
    well-formed, declares a DOCTYPE, is not BPMN or lacks what an element needs (an id, a
    sequence flow's source and target, …).
    """
    root = parse_xml(data, source=source)
    context = ReadContext(source)
    context.target_namespace = root.get("targetNamespace")
    namespaces = freeze({prefix or "": uri for prefix, uri in root.nsmap.items()})
    positions = FrozenDict(_positions(root, data))  # values are tuples already: no deep freeze
    definitions: Definitions = read_element(
        root, _DEFINITIONS, context, namespaces=namespaces, positions=positions
    )
    return definitions
