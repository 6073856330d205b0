"""Gateways and the conditions on the flows that leave them (or leave activities)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from apg_workflow.model.activities import Activity, ReceiveTask
from apg_workflow.model.errors import Problem
from apg_workflow.model.events import Event, IntermediateCatchEvent
from apg_workflow.model.nodes import (
    ComplexGateway,
    EventBasedGateway,
    ExclusiveGateway,
    Gateway,
    InclusiveGateway,
    ParallelGateway,
    SequenceFlow,
)
from apg_workflow.model.validation.context import Context, Scope, describe, quoted
from apg_workflow.model.validation.graph import BranchEnds
from apg_workflow.model.validation.rules import RuleSet

_EVENT_GATEWAY_TRIGGERS = frozenset({"timer", "message", "signal", "conditional"})
# Splits that send the token down one (or some) of their branches, never surely all of them.
_CHOOSING = (ExclusiveGateway, InclusiveGateway, EventBasedGateway)


def decision_conditions(
    context: Context, scope: Scope, gateway: ExclusiveGateway | InclusiveGateway
) -> Iterator[Problem]:
    """A gateway that chooses between flows needs a condition on each, or a default flow."""
    outgoing = scope.container.outgoing(gateway.id)
    if len(outgoing) < 2:
        return
    bare = [flow.id for flow in outgoing if flow.condition is None and flow.id != gateway.default]
    if not bare:
        return
    default = "" if gateway.default else " and none is the default flow"
    yield scope.error(
        "gateway-no-condition",
        f"{describe(gateway)} chooses between {len(outgoing)} flows, but {quoted(bare)} "
        f"{'has' if len(bare) == 1 else 'have'} no condition{default}: give each flow a condition, "
        "or mark one as the default flow",
        gateway,
    )


def default_flow(
    context: Context, scope: Scope, node: Activity | ExclusiveGateway | InclusiveGateway | ComplexGateway
) -> Iterator[Problem]:
    if node.default is None:
        return
    flow = next((f for f in scope.container.outgoing(node.id) if f.id == node.default), None)
    if flow is None:
        yield scope.error(
            "invalid-default-flow",
            f"the default flow '{node.default}' of {describe(node)} is not one of its outgoing flows",
            node,
        )
    elif flow.condition is not None:
        yield scope.warning(
            "default-flow-condition",
            f"{describe(flow)} is the default flow of {describe(node)} and also has a condition, which "
            "is ignored: a default flow is taken when no other condition holds",
            flow,
        )


def ignored_condition(context: Context, scope: Scope, flow: SequenceFlow) -> Iterator[Problem]:
    if flow.condition is None:
        return
    source = scope.container.get(flow.source)
    if isinstance(source, ParallelGateway):
        why = "a parallel gateway takes all its outgoing flows"
    elif isinstance(source, EventBasedGateway):
        why = "an event-based gateway follows the event that happens first"
    elif isinstance(source, Event):
        why = "a flow leaving an event is always taken"
    else:
        return
    yield scope.warning("condition-ignored", f"the condition of {describe(flow)} is ignored: {why}", flow)


def conditional_activity_flows(context: Context, scope: Scope, activity: Activity) -> Iterator[Problem]:
    """Conditional flows out of an activity act as a hidden inclusive gateway; with no other way out,
    the token stops when no condition holds."""
    outgoing = scope.container.outgoing(activity.id)
    conditional = [flow.id for flow in outgoing if flow.condition is not None and flow.id != activity.default]
    if not conditional:
        return
    if len(conditional) == len(outgoing):
        yield scope.warning(
            "conditional-flow-from-activity",
            f"{describe(activity)} leaves only through conditional flows ({quoted(conditional)}): when no "
            "condition holds the token stops; use an exclusive gateway with a default flow",
            activity,
        )
    else:
        yield scope.info(
            "conditional-flow-from-activity",
            f"{describe(activity)} has conditional outgoing flows ({quoted(conditional)}): they are taken "
            "whenever their condition holds, as well as the other flows; a gateway makes the choice explicit",
            activity,
        )


def fan(context: Context, scope: Scope, gateway: Gateway) -> Iterator[Problem]:
    """A gateway joins, or splits, or both (warned), or neither (it does nothing). Event-based
    gateways have their own rule."""
    incoming = len(scope.container.incoming(gateway.id))
    outgoing = len(scope.container.outgoing(gateway.id))
    if incoming == 1 and outgoing == 1:
        yield scope.warning(
            "gateway-pass-through",
            f"{describe(gateway)} has one incoming and one outgoing flow: it does nothing; remove it",
            gateway,
        )
    elif incoming > 1 and outgoing > 1:
        yield scope.warning(
            "gateway-mixed",
            f"{describe(gateway)} both joins {incoming} flows and splits into {outgoing}: use one gateway "
            "to join and another to split, so each does one thing",
            gateway,
        )


def event_gateway(context: Context, scope: Scope, gateway: EventBasedGateway) -> Iterator[Problem]:
    outgoing = scope.container.outgoing(gateway.id)
    if len(outgoing) < 2:
        yield scope.error(
            "event-gateway-fan-out",
            f"{describe(gateway)} has {len(outgoing)} outgoing flow{'s' if len(outgoing) != 1 else ''}: an "
            "event-based gateway waits for one of at least two events",
            gateway,
        )
    for flow in outgoing:
        target = scope.container.get(flow.target)
        if target is None or isinstance(target, ReceiveTask):
            continue  # a missing target is reported with the flow
        if isinstance(target, IntermediateCatchEvent) and target.trigger in _EVENT_GATEWAY_TRIGGERS:
            continue
        yield scope.error(
            "event-gateway-target",
            f"{describe(gateway)} leads to {describe(target)}: after an event-based gateway come only "
            "intermediate catch events (timer, message, signal, conditional) and receive tasks",
            gateway,
        )


def mismatched_joins(context: Context, scope: Scope) -> Iterator[Problem]:
    """Branches of a split that meet again at a gateway of the wrong kind (the simple case: each
    branch is a straight line of nodes from the split to the join)."""
    container = scope.container
    ends = BranchEnds(container)
    for split in container.nodes:
        if not isinstance(split, Gateway):
            continue
        outgoing = container.outgoing(split.id)
        if len(outgoing) < 2:
            continue
        meetings = Counter(ends.gateway_after(flow.target) for flow in outgoing)
        for join_id, count in meetings.items():
            join = container.get(join_id) if join_id else None
            if count < 2 or not isinstance(join, Gateway) or join is split:
                continue
            if isinstance(split, _CHOOSING) and isinstance(join, ParallelGateway):
                yield scope.warning(
                    "parallel-join-after-choice",
                    f"{describe(join)} waits for all {count} branches of {describe(split)}, but that gateway "
                    "sends the token down only some of them: the join waits forever; join with the same "
                    "kind of gateway that split",
                    join,
                )
            elif isinstance(split, ParallelGateway) and isinstance(join, ExclusiveGateway):
                yield scope.warning(
                    "exclusive-join-after-parallel",
                    f"{describe(join)} merges {count} parallel branches of {describe(split)} without "
                    "waiting: everything after it runs once per branch; join with a parallel gateway",
                    join,
                )


RULES = RuleSet(
    scope=(mismatched_joins,),
    node=(
        ((ExclusiveGateway, InclusiveGateway), decision_conditions),
        ((Activity, ExclusiveGateway, InclusiveGateway, ComplexGateway), default_flow),
        (Activity, conditional_activity_flows),
        ((ExclusiveGateway, InclusiveGateway, ParallelGateway, ComplexGateway), fan),
        (EventBasedGateway, event_gateway),
    ),
    flow=(ignored_condition,),
)
