"""The model → a document: ids always written, defaults and empty values left out, keys in a stable,
readable order, short forms wherever they say everything."""

from __future__ import annotations

from typing import Any

from apg_workflow.formats.errors import FormatError
from apg_workflow.formats.jsonyaml.document import ELEMENT_ENTRIES
from apg_workflow.formats.jsonyaml.fields import expression_value, present, unless
from apg_workflow.model import (
    Definitions,
    Error,
    Escalation,
    FlowContainer,
    FlowNode,
    Process,
    SequenceFlow,
)

_ENTRY_FOR_MODEL = {entry.MODEL: entry for entry in ELEMENT_ENTRIES.values()}

# fmt: off
_TOP_ORDER = (
    "definitions_id", "definitions_name", "id", "name", "description", "executable", "version_tag",
    "processes", "activities", "flows", "messages", "signals", "errors", "escalations",
)
_NODE_ORDER = (
    "id", "type", "name", "description",
    # events
    "attached_to", "interrupting", "timer", "message", "signal", "error", "escalation", "condition", "link",
    "compensate", "terminate", "cancel", "triggers", "parallel_multiple",
    # tasks
    "message_ref", "correlation_key", "instantiate", "component", "config", "implementation", "script",
    "script_format", "decision_ref", "called_element", "propagate_all", "assignee", "candidate_users",
    "candidate_groups", "form", "due", "priority", "result_variable",
    # gateways
    "direction", "exclusive", "activation_condition",
    # every activity
    "inputs", "outputs", "default", "retry", "sla", "loop", "multi_instance", "is_for_compensation",
    "pre_script", "post_script",
    # sub-processes
    "triggered_by_event", "completion_condition", "ordering", "activities", "flows",
)
# fmt: on


def definitions_to_dict(definitions: Definitions) -> dict[str, Any]:
    """The document for ``definitions``: plain dicts, lists and scalars, ready for JSON or YAML."""
    written: dict[str, Any] = {"definitions_id": definitions.id, "definitions_name": definitions.name}
    if len(definitions.processes) == 1:
        written |= _process(definitions.processes[0])
    else:
        written["processes"] = [_process(process) for process in definitions.processes]
    written |= {
        "messages": [present({"id": m.id, "name": m.name}) for m in definitions.messages],
        "signals": [present({"id": s.id, "name": s.name}) for s in definitions.signals],
        "errors": [_raised(e, e.error_code) for e in definitions.errors],
        "escalations": [_raised(e, e.escalation_code) for e in definitions.escalations],
    }
    return _ordered(written, _TOP_ORDER, keep_empty=("processes",))


def _raised(item: Error | Escalation, code: str | None) -> dict[str, Any]:
    """An error or escalation of the catalogue."""
    return present(
        {
            "id": item.id,
            "name": item.name,
            "code": code,
            "payload": expression_value(item.payload),
            "payload_variable": item.payload_variable,
        }
    )


def _process(process: Process) -> dict[str, Any]:
    written = {
        "id": process.id,
        "name": process.name,
        "description": process.documentation,
        "executable": unless(process.is_executable, True),
        "version_tag": process.version_tag,
        **_content(process),
    }
    return _ordered(written, _TOP_ORDER)


def _content(container: FlowContainer) -> dict[str, list[dict[str, Any]]]:
    """Nodes and flows; a default flow says ``default: true`` itself when it leaves its node."""
    sources = {flow.id: flow.source for flow in container.flows}
    activities: list[dict[str, Any]] = []
    marked: set[str] = set()
    for node in container.nodes:
        entry = _node(node)
        default = entry.get("default")
        if default is not None and sources.get(default) == node.id:
            marked.add(entry.pop("default"))
        activities.append(entry)
    flows = [_flow(flow) | ({"default": True} if flow.id in marked else {}) for flow in container.flows]
    return {"activities": activities, "flows": flows}


def _node(node: FlowNode) -> dict[str, Any]:
    entry = _ENTRY_FOR_MODEL.get(type(node))
    if entry is None:
        raise FormatError(
            f"element '{node.id}' ({node.kind.value}) has no equivalent in JSON or YAML; "
            "keep this definition in BPMN XML",
            format="json",
        )
    written = entry.entry(node)
    if isinstance(node, FlowContainer):
        written |= _content(node)
    return _ordered(written, _NODE_ORDER)


def _flow(flow: SequenceFlow) -> dict[str, Any]:
    return present(
        {
            "id": flow.id,
            "from": flow.source,
            "to": flow.target,
            "name": flow.name,
            "condition": expression_value(flow.condition),
            "description": flow.documentation,
        }
    )


def _ordered(
    written: dict[str, Any], order: tuple[str, ...], keep_empty: tuple[str, ...] = ()
) -> dict[str, Any]:
    """``written`` in ``order``, without ``None`` values and empty lists (except those in ``keep_empty``)."""
    rank = {key: index for index, key in enumerate(order)}
    return {
        key: written[key]
        for key in sorted(written, key=lambda key: rank.get(key, len(order)))
        if written[key] is not None and (written[key] != [] or key in keep_empty)
    }
