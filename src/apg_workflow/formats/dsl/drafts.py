"""Drafts: the model under construction, while ids are still being given.

The builder fills drafts in the order the source is written; then :func:`assign_ids` gives every
element without an id a deterministic one (:mod:`apg_workflow.model.ids`), and :func:`assemble`
resolves references (flow ends, default flows, attachments) and makes the frozen model.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, fields
from typing import Any

from apg_workflow import model as m
from apg_workflow.formats.dsl.keywords import kind_name
from apg_workflow.formats.dsl.syntax import Pos, Ref, SourceError
from apg_workflow.model.ids import claim_id, element_id_for, flow_id_for

Fields = dict[str, Any]


@dataclass(eq=False)
class Draft:
    """A process, a declaration (message, error, …) or a flow node."""

    cls: type
    pos: Pos
    fields: Fields = field(default_factory=dict)
    id_hint: str | None = None  # what a missing id is made from, when not the name
    content: ContainerDraft | None = None  # of processes and sub-processes
    # For nodes the reader adds (joins, the start and end of a LOOP body): the node whose id
    # this one's id is made from, and the suffix (``check`` → ``check_join``).
    derived: tuple[Draft, str] | None = None

    @property
    def id(self) -> str:
        return self.fields["id"]


@dataclass(eq=False)
class FlowDraft:
    """A sequence flow; its ends are drafts (implicit flows) or ids as written (``FLOW a -> b``)."""

    source: Draft | Ref
    target: Draft | Ref
    pos: Pos
    fields: Fields = field(default_factory=dict)

    @property
    def id(self) -> str:
        return self.fields["id"]


@dataclass(eq=False)
class ContainerDraft:
    explicit: bool = False  # ``flows: explicit``: no implicit sequence
    nodes: list[Draft] = field(default_factory=list)
    flows: list[FlowDraft] = field(default_factory=list)
    marked_default: list[FlowDraft] = field(default_factory=list)  # ``FLOW … DEFAULT``


def _containers(root: ContainerDraft) -> Iterator[ContainerDraft]:
    yield root
    for node in root.nodes:
        if node.content is not None:
            yield from _containers(node.content)


def _end_id(end: Draft | Ref) -> str:
    return end.id if isinstance(end, Draft) else end.text


def assign_ids(elements: list[Draft], processes: list[Draft]) -> None:
    """Check the ids written for uniqueness, then give the others theirs, in source order."""
    containers = [c for p in processes if p.content for c in _containers(p.content)]
    nodes = [node for c in containers for node in c.nodes]
    flows = [flow for c in containers for flow in c.flows]
    seen: dict[str, Pos] = {}
    for item in [*elements, *processes, *nodes, *flows]:
        written = item.fields.get("id")
        if written is None:
            continue
        if written in seen:
            raise SourceError(
                f"the id '{written}' is used twice: first on line {seen[written].line}", item.pos, written
            )
        seen[written] = item.pos
    taken = set(seen)
    for draft in [*elements, *processes, *nodes]:
        if "id" in draft.fields:
            continue
        if draft.derived is not None:
            base, suffix = draft.derived
            draft.fields["id"] = claim_id(base.id + suffix, taken)
        else:
            base = draft.fields.get("name") or draft.id_hint
            draft.fields["id"] = element_id_for(base, kind_name(draft.cls), taken)
    for flow in flows:
        if "id" not in flow.fields:
            flow.fields["id"] = flow_id_for(_end_id(flow.source), _end_id(flow.target), taken)


# ---------------------------------------------------------------------------------------------
# Assembly


@dataclass
class _Scope:
    """What references inside one process or sub-process may point at."""

    nodes: dict[str, Draft]
    flows: dict[str, FlowDraft]
    elsewhere: Callable[[str], bool]  # whether an id belongs to another (sub-)process


def assemble_container(content: ContainerDraft, elsewhere: Callable[[str], bool]) -> dict[str, Any]:
    """The ``nodes`` and ``flows`` of a process or sub-process."""
    scope = _Scope({n.id: n for n in content.nodes}, {f.id: f for f in content.flows}, elsewhere)
    flows = tuple(_flow(flow, scope) for flow in content.flows)
    for flow in content.marked_default:
        source = scope.nodes[_end_id(flow.source)]
        if "default" not in {f.name for f in fields(source.cls)}:
            raise SourceError(
                "DEFAULT marks the flow an activity or an exclusive, inclusive or complex gateway takes "
                f"when no condition holds; '{source.id}' is none of these",
                flow.pos,
            )
        if "default" in source.fields:
            raise SourceError(f"'{source.id}' already has a default flow", flow.pos)
        source.fields["default"] = flow
    nodes = tuple(_node(node, scope) for node in content.nodes)
    return {"nodes": nodes, "flows": flows}


def _flow(flow: FlowDraft, scope: _Scope) -> m.SequenceFlow:
    source = _node_ref(flow.source, scope, "flow from")
    target = _node_ref(flow.target, scope, "flow to")
    return m.SequenceFlow(source=source, target=target, **flow.fields)


def _node_ref(end: Draft | Ref, scope: _Scope, what: str) -> str:
    if isinstance(end, Draft):
        return end.id
    if end.text in scope.nodes:
        return end.text
    raise _unknown(end, scope.nodes, what, scope.elsewhere)


def _unknown(ref: Ref, known: dict[str, Any], what: str, elsewhere: Callable[[str], bool]) -> SourceError:
    if elsewhere(ref.text):
        reason = "it is in another process or sub-process, and flows cannot cross their border"
        return SourceError(f"{what} '{ref.text}': {reason}", ref.pos, ref.text)
    close = difflib.get_close_matches(ref.text, list(known), n=1)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    return SourceError(f"{what} '{ref.text}': there is no such element here{hint}", ref.pos, ref.text)


def _node(draft: Draft, scope: _Scope) -> m.FlowNode:
    values = dict(draft.fields)
    default = values.get("default")
    if isinstance(default, FlowDraft):
        values["default"] = default.id
    elif isinstance(default, Ref):
        flow = scope.flows.get(default.text)
        if flow is None:
            raise _unknown(default, scope.flows, "default flow", scope.elsewhere)
        if _end_id(flow.source) != draft.id:
            raise SourceError(f"the default flow '{default.text}' does not leave '{draft.id}'", default.pos)
        values["default"] = default.text
    attached = values.get("attached_to")
    if attached is not None:
        values["attached_to"] = _node_ref(attached, scope, "attached_to")
    if "definitions" in values:
        values["definitions"] = tuple(d() if callable(d) else d for d in values["definitions"])
    if draft.content is not None:
        values.update(assemble_container(draft.content, scope.elsewhere))
    return draft.cls(**values)


def node_positions(processes: list[Draft]) -> Iterator[tuple[str, Pos]]:
    """Where each process, node and flow was written (added nodes at the block that made them)."""
    for process in processes:
        yield process.id, process.pos
        assert process.content is not None
        for container in _containers(process.content):
            for node in container.nodes:
                yield node.id, node.pos
            for flow in container.flows:
                yield flow.id, flow.pos


def all_node_ids(processes: list[Draft]) -> set[str]:
    """The id of every node of every process and sub-process."""
    return {
        node.id
        for process in processes
        if process.content is not None
        for container in _containers(process.content)
        for node in container.nodes
    }
