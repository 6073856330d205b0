"""Definitions compiled once for execution: per node its flows, boundary events and behaviour;
per (sub-)process its start event, event sub-processes and link targets; per inclusive join the
upstream sets. A :class:`Program` is immutable and shared by every execution of a version.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from apg_workflow.engine import families  # noqa: F401  (registers the element behaviours)
from apg_workflow.engine.behaviour import Behaviour, behaviour_for
from apg_workflow.model import (
    Activity,
    BoundaryEvent,
    Definitions,
    ElementNotFound,
    Error,
    Escalation,
    FlowContainer,
    FlowNode,
    Gateway,
    InclusiveGateway,
    IntermediateCatchEvent,
    IntermediateThrowEvent,
    LinkDefinition,
    Process,
    SequenceFlow,
    StartEvent,
    SubProcess,
)
from apg_workflow.model.decisions import Decision, DecisionDefinitions


class Sandbox(Protocol):
    """What the engine needs from :class:`apg_workflow.expressions.sandbox.Sandbox`."""

    def evaluate(
        self, text: str, language: str | None, variables: Mapping[str, Any], *, now: datetime
    ) -> Any: ...

    def execute(self, script: str, variables: Mapping[str, Any], *, now: datetime) -> dict[str, Any]: ...


@dataclass(frozen=True, slots=True, eq=False)
class NodeInfo:
    """A flow node with everything a step needs about it, computed once."""

    id: str
    node: FlowNode
    container: str  # the process or sub-process that holds the node
    behaviour: Behaviour
    outgoing: tuple[SequenceFlow, ...]
    incoming: tuple[str, ...]  # ids of the incoming sequence flows
    boundaries: tuple[BoundaryEvent, ...]
    default: str | None  # default flow id
    conditional: bool  # an activity or event whose outgoing flows have conditions or a default
    upstream: Mapping[str, frozenset[str]]  # inclusive join: incoming flow → nodes that can reach it
    link_target: str | None  # link throw event: the catch event it jumps to
    plain: bool  # no output mappings; for an activity no inputs, loop, boundary events or pre/post-script
    immediate: bool  # plain, and a token passes it without an instance record (tokens.pass_through)
    prepared: Any  # what the behaviour works out once for the node (Behaviour.prepare)
    pre_script: str | None  # an activity's script run before its work (SpiffWorkflow's preScript)
    post_script: str | None  # an activity's script run after its work, before its outputs


@dataclass(frozen=True, slots=True, eq=False)
class ContainerInfo:
    """A process or sub-process body."""

    id: str
    start: str | None  # its none start event
    event_subprocesses: tuple[SubProcess, ...]


@dataclass(frozen=True, slots=True, eq=False)
class ProcessProgram:
    process: Process
    nodes: Mapping[str, NodeInfo]
    containers: Mapping[str, ContainerInfo]
    start: str | None = None  # where a plain start begins: the none start event, else the only one


@dataclass(frozen=True, slots=True, eq=False)
class Program:
    """Executable form of one or more definitions (processes, messages, signals, errors, decisions)."""

    processes: Mapping[str, ProcessProgram]
    main: str
    sandbox: Sandbox
    messages: Mapping[str, str] = field(default_factory=dict)  # message id → name
    signals: Mapping[str, str] = field(default_factory=dict)  # signal id → name
    errors: Mapping[str, Error] = field(default_factory=dict)
    escalations: Mapping[str, Escalation] = field(default_factory=dict)
    decisions: Mapping[str, Decision] = field(default_factory=dict)

    def process(self, key: str | None) -> ProcessProgram:
        """A process by id (or name); the main process for ``None``."""
        if key is None:
            return self.processes[self.main]
        found = self.processes.get(key)
        if found is None:
            found = next((p for p in self.processes.values() if p.process.name == key), None)
        if found is None:
            raise ElementNotFound(key)
        return found


def compile_program(
    definitions: Definitions | Iterable[Definitions],
    *,
    sandbox: Sandbox,
    decisions: Mapping[str, Any] | None = None,
) -> Program:
    """Compile definitions (the first one's main process runs by default) for the engine.

    ``decisions`` maps decision ids to decisions (from .dmn files) that business-rule tasks call.
    """
    files = [definitions] if isinstance(definitions, Definitions) else list(definitions)
    if not files or not files[0].processes:
        raise ElementNotFound("process")
    processes: dict[str, ProcessProgram] = {}
    messages: dict[str, str] = {}
    signals: dict[str, str] = {}
    errors: dict[str, Error] = {}
    escalations: dict[str, Escalation] = {}
    for file in files:
        for process in file.processes:
            processes.setdefault(process.id, _compile_process(process))
        for message in file.messages:
            messages.setdefault(message.id, message.name or message.id)
        for signal in file.signals:
            signals.setdefault(signal.id, signal.name or signal.id)
        for error in file.errors:
            errors.setdefault(error.id, error)
        for escalation in file.escalations:
            escalations.setdefault(escalation.id, escalation)
    return Program(
        processes=processes,
        main=files[0].main_process.id,
        sandbox=sandbox,
        messages=messages,
        signals=signals,
        errors=errors,
        escalations=escalations,
        decisions=_index_decisions(decisions),
    )


def _index_decisions(
    decisions: Iterable[DecisionDefinitions] | Mapping[str, Decision] | None,
) -> dict[str, Decision]:
    if decisions is None:
        return {}
    if isinstance(decisions, Mapping):
        return dict(decisions)
    index: dict[str, Decision] = {}
    for file in decisions:
        for decision in file:
            index.setdefault(decision.id, decision)
        for decision in file:
            if decision.name:
                index.setdefault(decision.name, decision)
    return index


def _compile_process(process: Process) -> ProcessProgram:
    nodes: dict[str, NodeInfo] = {}
    containers: dict[str, ContainerInfo] = {}
    _compile_container(process, process.id, nodes, containers)
    start = containers[process.id].start
    if start is None and len(process.start_events) == 1:
        start = process.start_events[0].id
    return ProcessProgram(process=process, nodes=nodes, containers=containers, start=start)


def _compile_container(
    container: FlowContainer,
    container_id: str,
    nodes: dict[str, NodeInfo],
    containers: dict[str, ContainerInfo],
) -> None:
    links = _catches(container)
    start = next(
        (n.id for n in container.nodes if isinstance(n, StartEvent) and not n.definitions),
        None,
    )
    event_subprocesses = tuple(
        n for n in container.nodes if isinstance(n, SubProcess) and n.triggered_by_event
    )
    containers[container_id] = ContainerInfo(
        id=container_id, start=start, event_subprocesses=event_subprocesses
    )
    for node in container.nodes:
        outgoing = container.outgoing(node.id)
        default = getattr(node, "default", None)
        conditional = not isinstance(node, Gateway) and (
            default is not None or any(f.condition is not None for f in outgoing)
        )
        upstream: dict[str, frozenset[str]] = {}
        if isinstance(node, InclusiveGateway) and len(container.incoming(node.id)) > 1:
            upstream = {f.id: _upstream(container, f, node.id) for f in container.incoming(node.id)}
        behaviour = behaviour_for(node)
        boundaries = container.boundary_events(node.id) if isinstance(node, Activity) else ()
        plain = _plain(node, boundaries)
        nodes[node.id] = NodeInfo(
            id=node.id,
            node=node,
            container=container_id,
            behaviour=behaviour,
            outgoing=outgoing,
            incoming=tuple(f.id for f in container.incoming(node.id)),
            boundaries=boundaries,
            default=default,
            conditional=conditional,
            upstream=upstream,
            link_target=_link_target(node, links),
            plain=plain,
            immediate=behaviour.immediate and plain,
            prepared=behaviour.prepare(node),
            pre_script=_hook_script(node, "pre_script"),
            post_script=_hook_script(node, "post_script"),
        )
        if isinstance(node, SubProcess):
            _compile_container(node, node.id, nodes, containers)


def _plain(node: FlowNode, boundaries: tuple[BoundaryEvent, ...]) -> bool:
    """No output mappings, and for an activity no inputs, loop, boundary events or pre/post-script
    either: nothing that needs an instance record while the node runs."""
    if node.outputs:
        return False
    if not isinstance(node, Activity):
        return True
    return not (node.inputs or node.loop or boundaries or node.pre_script or node.post_script)


def _hook_script(node: FlowNode, name: str) -> str | None:
    """An activity's pre- or post-script, ``None`` when it has none (or only blank text)."""
    text: str | None = getattr(node, name, None) if isinstance(node, Activity) else None
    return text if text and text.strip() else None


def _link_target(node: FlowNode, links: Mapping[str, str]) -> str | None:
    if not isinstance(node, IntermediateThrowEvent):
        return None
    link = node.definition(LinkDefinition)
    if not isinstance(link, LinkDefinition):
        return None
    return links.get(link.link_name or link.id or "")


def _upstream(container: FlowContainer, flow: SequenceFlow, join: str) -> frozenset[str]:
    """Nodes from which a token can still reach ``flow`` without passing the join itself."""
    throws_by_target: dict[str, list[str]] = {}
    links = _catches(container)
    for node in container.nodes:
        if isinstance(node, IntermediateThrowEvent):
            target = _link_target(node, links)
            if target is not None:
                throws_by_target.setdefault(target, []).append(node.id)
    seen: set[str] = set()
    todo = [flow.source]
    while todo:
        current = todo.pop()
        if current == join or current in seen:
            continue
        seen.add(current)
        todo.extend(f.source for f in container.incoming(current))
        todo.extend(throws_by_target.get(current, ()))
        node = container.get(current)
        if isinstance(node, BoundaryEvent):
            todo.append(node.attached_to)
    return frozenset(seen)


def _catches(container: FlowContainer) -> dict[str, str]:
    return {
        d.link_name or d.id: node.id
        for node in container.nodes
        if isinstance(node, IntermediateCatchEvent)
        for d in node.definitions
        if isinstance(d, LinkDefinition)
    }
