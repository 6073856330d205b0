"""What every element writer shares: the context and the composition of one element.

:func:`compose` puts an element together the way the reader takes it apart: its attributes, then
the preserved foreign attributes; children in XSD order (:func:`.schema.slot`), the field-derived
ones before the preserved ones of the same position.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from apg_workflow.formats.bpmn import registry
from apg_workflow.formats.bpmn.namespaces import XSI_TYPE, bpmn, local_name
from apg_workflow.formats.bpmn.schema import slot
from apg_workflow.formats.bpmn.xmlout import Fragment, Node
from apg_workflow.formats.errors import FormatError
from apg_workflow.model import BaseElement, Expression, FlowContainer, Preserved

DOCUMENTATION = bpmn("documentation")
EXTENSION_ELEMENTS = bpmn("extensionElements")
FORMAL_EXPRESSION = "bpmn:tFormalExpression"


class WriteContext:
    """The (sub-)process whose elements are being written: incoming and outgoing come from its flows."""

    __slots__ = ("containers",)

    def __init__(self) -> None:
        self.containers: list[FlowContainer] = []

    @property
    def container(self) -> FlowContainer:
        return self.containers[-1]

    @contextmanager
    def inside(self, container: FlowContainer) -> Iterator[None]:
        self.containers.append(container)
        try:
            yield
        finally:
            self.containers.pop()


def write(obj: object, context: WriteContext) -> Node:
    """The XML of any model object that has a registered writer."""
    function = registry.WRITERS.get(type(obj))
    if function is None:
        raise FormatError(f"cannot write BPMN: no writer for {type(obj).__name__}", format="bpmn")
    return function(obj, context)


def compose(
    tag: str,
    attributes: Iterable[tuple[str, str | None]],
    preserved: Preserved,
    *,
    documentation: str | None = None,
    children: Iterable[Node | Fragment] = (),
    extensions: Iterable[Node | Fragment] = (),
    text: str | None = None,
) -> Node:
    node = Node(tag, attributes, text=text)
    written = {name for name, _ in node.attributes}
    node.attributes += [(name, value) for name, value in preserved.attributes.items() if name not in written]
    kids: list[Node | Fragment] = []
    if documentation is not None:
        kids.append(Node(DOCUMENTATION, text=documentation))
    extension_nodes = [*extensions, *(Fragment(xml) for xml in preserved.extensions)]
    if extension_nodes:
        kids.append(Node(EXTENSION_ELEMENTS, children=extension_nodes))
    kids += children
    kids += [Fragment(xml) for xml in preserved.children]
    kind = local_name(tag)
    kids.sort(key=lambda kid: slot(kind, kid.tag))
    node.children = kids
    return node


def element(
    local: str,
    obj: BaseElement,
    attributes: Iterable[tuple[str, str | None]] = (),
    children: Iterable[Node | Fragment] = (),
    extensions: Iterable[Node | Fragment] = (),
) -> Node:
    """A BPMN model element with the id, documentation and preserved parts of ``obj``."""
    return compose(
        bpmn(local),
        [("id", obj.id), *attributes],
        obj.preserved,
        documentation=obj.documentation,
        children=children,
        extensions=extensions,
    )


def expression(local: str, value: Expression) -> Node:
    """A ``tFormalExpression`` element (``conditionExpression``, ``timeDuration``, …)."""
    kind = None if XSI_TYPE in value.preserved.attributes else FORMAL_EXPRESSION
    return compose(
        bpmn(local), [(XSI_TYPE, kind), ("language", value.language)], value.preserved, text=value.text
    )


def connections(node_id: str, context: WriteContext) -> list[Node]:
    """``incoming`` and ``outgoing`` of a flow node, from the sequence flows of its container."""
    container = context.container
    return [
        *(Node(bpmn("incoming"), text=flow.id) for flow in container.incoming(node_id)),
        *(Node(bpmn("outgoing"), text=flow.id) for flow in container.outgoing(node_id)),
    ]


def flag(value: bool) -> str:
    return "true" if value else "false"


def optional_flag(value: bool, default: bool) -> str | None:
    """A boolean attribute, left out when it has the schema's default value."""
    return None if value == default else flag(value)


def number(value: float) -> str:
    """``100.0`` → ``"100"``, ``12.5`` → ``"12.5"``: what DI tools write, read back exactly."""
    return str(int(value)) if float(value).is_integer() and abs(value) < 1e15 else repr(float(value))
