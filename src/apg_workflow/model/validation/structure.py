"""Structure: ids, start events, flows that lead nowhere or across a border, elements no token
reaches, and paths that stop without an end event."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator

from apg_workflow.model.activities import Activity, SubProcess
from apg_workflow.model.container import FlowContainer, LaneSet
from apg_workflow.model.definitions import Definitions
from apg_workflow.model.errors import Problem, Severity
from apg_workflow.model.events import (
    BoundaryEvent,
    CompensateDefinition,
    EndEvent,
    Event,
    IntermediateThrowEvent,
)
from apg_workflow.model.nodes import FlowNode, Gateway, SequenceFlow
from apg_workflow.model.validation.context import Context, Scope, describe, named
from apg_workflow.model.validation.graph import reachable
from apg_workflow.model.validation.rules import RuleSet


def no_process(context: Context) -> Iterator[Problem]:
    if not context.definitions.processes:
        yield context.problem(
            Severity.ERROR, "no-process", "the file defines no process: there is nothing to run"
        )


def duplicate_ids(context: Context) -> Iterator[Problem]:
    """Ids are unique across the whole file (readers may refuse some, models built in code may not)."""
    owners: dict[str, list[tuple[str, str | None]]] = defaultdict(list)
    for element_id, description, process_id in _identified(context):
        owners[element_id].append((description, process_id))
    for element_id, found in owners.items():
        if len(found) > 1:
            yield context.problem(
                Severity.ERROR,
                "duplicate-id",
                f"the id '{element_id}' is used {len(found)} times ({'; '.join(d for d, _ in found)}): "
                "give each element its own id",
                element_id=element_id,
                process_id=found[0][1],
            )


def _identified(context: Context) -> Iterator[tuple[str, str, str | None]]:
    """(id, description, process id) of everything in the file that has an id."""
    definitions: Definitions = context.definitions
    for process in definitions.processes:
        yield process.id, named("process", process.name, process.id), process.id
    for scope in context.scopes:
        container, process_id = scope.container, scope.process.id
        for element in (*container.nodes, *container.flows, *container.data, *container.artifacts):
            yield element.id, describe(element), process_id
        for node in container.nodes:
            for definition in node.definitions if isinstance(node, Event) else ():
                if definition.id:
                    yield definition.id, f"{definition.type} definition of {describe(node)}", process_id
        for lane_id, lane_name in _lanes(container.lane_sets):
            yield lane_id, named("lane", lane_name, lane_id), process_id
    for kind, items in (
        ("message", definitions.messages),
        ("signal", definitions.signals),
        ("error", definitions.errors),
        ("escalation", definitions.escalations),
    ):
        for item in items:
            yield item.id, named(kind, item.name, item.id), None
    for collaboration in definitions.collaborations:
        yield collaboration.id, named("collaboration", collaboration.name, collaboration.id), None
        for participant in collaboration.participants:
            yield participant.id, named("pool", participant.name, participant.id), None
        for message_flow in collaboration.message_flows:
            yield message_flow.id, named("message flow", message_flow.name, message_flow.id), None
        for artifact in collaboration.artifacts:
            yield artifact.id, describe(artifact), None


def _lanes(lane_sets: Iterable[LaneSet]) -> Iterator[tuple[str, str | None]]:
    pending = list(lane_sets)
    while pending:
        for lane in pending.pop().lanes:
            yield lane.id, lane.name
            if lane.child_lane_set is not None:
                pending.append(lane.child_lane_set)


def start_events(context: Context, scope: Scope) -> Iterator[Problem]:
    """A process or embedded sub-process with nodes starts at a start event; an event sub-process
    at exactly one (whose trigger the events rules check)."""
    container = scope.container
    if not container.nodes:
        if scope.owner is not None:
            yield scope.warning(
                "empty-sub-process", f"{scope.label} is empty: it completes at once, doing nothing"
            )
        elif scope.process.is_executable:
            yield scope.warning("empty-process", f"{scope.label} has no elements: there is nothing to run")
        return
    if scope.is_ad_hoc:
        return
    starts = container.start_events
    if scope.is_event_sub_process:
        if len(starts) != 1:
            yield scope.error(
                "event-sub-process-start",
                f"{scope.label} has {len(starts)} start events: an event sub-process needs exactly one, "
                "with the trigger that starts it (message, timer, signal, error, escalation, …)",
            )
    elif not starts:
        yield scope.error(
            "missing-start-event", f"{scope.label} has no start event: add one where its flow begins"
        )


def event_sub_process_flows(context: Context, scope: Scope, node: SubProcess) -> Iterator[Problem]:
    if node.triggered_by_event and (scope.container.incoming(node.id) or scope.container.outgoing(node.id)):
        yield scope.error(
            "event-sub-process-connected",
            f"{describe(node)} has sequence flows: an event sub-process is started by its start "
            "event's trigger and must not be connected",
            node,
        )


def flow_ends(context: Context, scope: Scope, flow: SequenceFlow) -> Iterator[Problem]:
    """Both ends of a flow are flow nodes of the flow's own scope."""
    for end, verb, code in (
        (flow.source, "starts at", "unknown-flow-source"),
        (flow.target, "leads to", "unknown-flow-target"),
    ):
        element = scope.container.get(end)
        if isinstance(element, FlowNode):
            continue
        if element is not None:
            yield scope.error(
                "flow-connects-non-node",
                f"{describe(flow)} {verb} {describe(element)}: sequence flows connect events, "
                "activities and gateways only",
                flow,
            )
        elif end in context.homes:
            home, node = context.homes[end]
            yield scope.error(
                "flow-crosses-border",
                f"{describe(flow)} in {scope.label} {verb} {describe(node)} in {home.label}: sequence "
                "flows cannot cross a sub-process border",
                flow,
            )
        else:
            yield scope.error(code, f"{describe(flow)} {verb} '{end}', which does not exist", flow)


def paths(context: Context, scope: Scope) -> Iterator[Problem]:
    """Nodes no token reaches (errors), and reachable nodes where the path stops without an end
    event (warnings). A node that is unreachable is not also called a dead end."""
    container = scope.container
    if scope.is_ad_hoc:
        return  # every node of an ad-hoc sub-process is enabled at once, and none needs a flow out
    # Without a start event (reported apart) reachability means nothing: every node counts as reached.
    reached = reachable(container) if container.start_events else None
    for node in container.nodes:
        if reached is not None and node.id not in reached:
            if not isinstance(node, BoundaryEvent):  # its activity is the one reported
                yield _unreachable(scope, node)
        elif not isinstance(node, EndEvent) and not _ends_elsewhere(node, container):
            yield _dead_end(scope, node)


def _unreachable(scope: Scope, node: FlowNode) -> Problem:
    return scope.error(
        "unreachable-element",
        f"{describe(node)} can never run: no path from a start event of {scope.label} leads to it",
        node,
    )


def _dead_end(scope: Scope, node: FlowNode) -> Problem:
    what = "the token stops at it" if isinstance(node, Gateway) else "the path ends there (an implicit end)"
    return scope.warning(
        "dead-end",
        f"{describe(node)} has no outgoing flow, so {what}: connect it, or end the path with an end event",
        node,
    )


def _ends_elsewhere(node: FlowNode, container: FlowContainer) -> bool:
    """True when no outgoing flow is needed: it has one, or it is a compensation handler, an event
    sub-process, a link throw event or a compensation boundary event."""
    if container.outgoing(node.id):
        return True
    if isinstance(node, Activity) and (
        node.is_for_compensation or (isinstance(node, SubProcess) and node.triggered_by_event)
    ):
        return True
    if isinstance(node, IntermediateThrowEvent) and node.trigger == "link":
        return True
    return isinstance(node, BoundaryEvent) and node.definition(CompensateDefinition) is not None


RULES = RuleSet(
    definition=(no_process, duplicate_ids),
    scope=(start_events, paths),
    node=((SubProcess, event_sub_process_flows),),
    flow=(flow_ends,),
)
