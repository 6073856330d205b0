"""``write_bpmn``: :class:`~apg_workflow.model.Definitions` → BPMN 2.0 XML, deterministic and
pretty-printed, with diagram interchange (an automatic layout for processes drawn nowhere)."""

from __future__ import annotations

from apg_workflow.formats.bpmn import activities, containers, events, flows, gateways, root  # noqa: F401
from apg_workflow.formats.bpmn.diagram import write_diagram
from apg_workflow.formats.bpmn.namespaces import STANDARD_PREFIXES, XML, bpmn
from apg_workflow.formats.bpmn.reader import DEFAULT_TARGET_NAMESPACE
from apg_workflow.formats.bpmn.writing import WriteContext, compose, write
from apg_workflow.formats.bpmn.xmlout import Serializer
from apg_workflow.model import Definitions, FlowContainer, SubProcess


def _undrawn(container: FlowContainer, drawn: set[str]) -> bool:
    return bool(container.nodes) and not any(node.id in drawn for node in container.nodes)


def needs_layout(definitions: Definitions) -> bool:
    """Whether the definitions draw no process at all (no element drawn, no pool), or a sub-process
    drawn expanded has none of its elements drawn.

    A process left undrawn in a file that draws others (a process only called by a call activity)
    stays so: its source chose that, and a file read and written again keeps its diagrams.
    """
    shapes = [shape for diagram in definitions.diagrams for shape in diagram.plane.shapes]
    drawn = {shape.element_ref for shape in shapes}
    expanded = {shape.element_ref for shape in shapes if shape.is_expanded}
    pools = {
        participant.process_ref
        for collaboration in definitions.collaborations
        for participant in collaboration.participants
        if participant.id in drawn
    }
    undrawn = [
        process for process in definitions.processes if process.id not in pools and _undrawn(process, drawn)
    ]
    if undrawn and len(undrawn) == len(definitions.processes):
        return True
    return any(
        isinstance(item, SubProcess) and item.id in expanded and _undrawn(item, drawn)
        for process in definitions.processes
        for _, item in process.walk()
    )


def _declarations(definitions: Definitions) -> dict[str, str]:
    """Our prefixes, then the source's own (those that do not clash with ours)."""
    declared = dict(STANDARD_PREFIXES)
    for prefix, uri in definitions.namespaces.items():
        if prefix not in declared and prefix != "xml" and uri != XML:
            declared[prefix] = uri
    return declared


def write_bpmn(definitions: Definitions) -> str:
    """The BPMN 2.0 XML of ``definitions``: the same model always gives the same text."""
    if needs_layout(definitions):
        from apg_workflow.formats.layout import layout_definitions

        definitions = layout_definitions(definitions)
    context = WriteContext()
    children = [
        write(item, context)
        for group in (
            definitions.collaborations,
            definitions.processes,
            definitions.messages,
            definitions.signals,
            definitions.errors,
            definitions.escalations,
        )
        for item in group
    ]
    children += [write_diagram(diagram) for diagram in definitions.diagrams]
    attributes = [
        ("id", definitions.id),
        ("name", definitions.name),
        ("targetNamespace", definitions.target_namespace or DEFAULT_TARGET_NAMESPACE),
        ("exporter", definitions.exporter),
        ("exporterVersion", definitions.exporter_version),
    ]
    root_node = compose(
        bpmn("definitions"),
        attributes,
        definitions.preserved,
        documentation=definitions.documentation,
        children=children,
    )
    return Serializer(_declarations(definitions)).serialize(root_node)
