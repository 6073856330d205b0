"""Events: which triggers an event may have where it stands, boundary events and their hosts,
timers, links, and flows into start events or out of end events."""

from __future__ import annotations

from collections.abc import Iterator

from apg_workflow.model.activities import Activity, SubProcess
from apg_workflow.model.errors import Problem
from apg_workflow.model.events import (
    BoundaryEvent,
    CancelDefinition,
    EndEvent,
    ErrorDefinition,
    Event,
    IntermediateCatchEvent,
    IntermediateThrowEvent,
    StartEvent,
    TimerDefinition,
)
from apg_workflow.model.validation.context import Context, Scope, describe
from apg_workflow.model.validation.graph import link_catches, link_name
from apg_workflow.model.validation.rules import RuleSet
from apg_workflow.model.validation.timing import timer_problem

# Where an event stands → the triggers BPMN allows there ("none" = no event definition).
_CATCHING = frozenset({"timer", "message", "signal", "conditional"})
_ALLOWED_TRIGGERS: dict[str, frozenset[str]] = {
    "a start event of a process": _CATCHING | {"none"},
    "a start event of an embedded sub-process": frozenset({"none"}),
    "a start event of an event sub-process": _CATCHING | {"error", "escalation", "compensate"},
    "an intermediate catch event": _CATCHING | {"link"},
    "an intermediate throw event": frozenset(
        {"none", "message", "signal", "escalation", "compensate", "link"}
    ),
    "an end event": frozenset(
        {"none", "message", "signal", "error", "escalation", "terminate", "compensate", "cancel"}
    ),
    "a boundary event": _CATCHING | {"error", "escalation", "compensate", "cancel"},
}
_POSITIONS: tuple[tuple[type[Event], str], ...] = (
    (IntermediateCatchEvent, "an intermediate catch event"),
    (IntermediateThrowEvent, "an intermediate throw event"),
    (EndEvent, "an end event"),
    (BoundaryEvent, "a boundary event"),
)


def _position(event: Event, scope: Scope) -> str:
    if isinstance(event, StartEvent):
        if scope.owner is None:
            return "a start event of a process"
        return (
            "a start event of an event sub-process"
            if scope.is_event_sub_process
            else "a start event of an embedded sub-process"
        )
    return next(name for cls, name in _POSITIONS if isinstance(event, cls))


def triggers(context: Context, scope: Scope, event: Event) -> Iterator[Problem]:
    position = _position(event, scope)
    allowed = _ALLOWED_TRIGGERS[position]
    options = ", ".join(sorted(allowed - {"none"}))
    if not event.definitions and "none" not in allowed:
        yield scope.error(
            "missing-trigger",
            f"{describe(event)} has no trigger: {position} needs one of: {options}",
            event,
        )
    for definition in event.definitions:
        if definition.type not in allowed:
            hint = f"allowed: {options}" if options else "it must have no trigger"
            yield scope.error(
                "invalid-trigger",
                f"{describe(event)} has a {definition.type} trigger, which {position} cannot have ({hint})",
                event,
            )


def flow_direction(context: Context, scope: Scope, event: Event) -> Iterator[Problem]:
    """Nothing flows into a start or boundary event, nothing out of an end event."""
    container = scope.container
    if isinstance(event, StartEvent | BoundaryEvent) and container.incoming(event.id):
        code = "start-event-incoming" if isinstance(event, StartEvent) else "boundary-incoming"
        yield scope.error(
            code, f"{describe(event)} has an incoming flow: nothing can flow into a {_kind(event)}", event
        )
    if isinstance(event, EndEvent) and container.outgoing(event.id):
        yield scope.error(
            "end-event-outgoing",
            f"{describe(event)} has an outgoing flow: a path ends at an end event",
            event,
        )


def _kind(event: Event) -> str:
    return "start event" if isinstance(event, StartEvent) else "a boundary event"


def boundary_host(context: Context, scope: Scope, event: BoundaryEvent) -> Iterator[Problem]:
    host = scope.container.get(event.attached_to)
    if host is None:
        home = context.homes.get(event.attached_to)
        if home is None:
            yield scope.error(
                "unknown-boundary-host",
                f"{describe(event)} is attached to '{event.attached_to}', which does not exist",
                event,
            )
        else:
            yield scope.error(
                "boundary-on-invalid-host",
                f"{describe(event)} is attached to {describe(home[1])} in {home[0].label}: a boundary "
                "event sits in the same process or sub-process as its activity",
                event,
            )
        return
    if not isinstance(host, Activity):
        yield scope.error(
            "boundary-on-invalid-host",
            f"{describe(event)} is attached to {describe(host)}: boundary events attach to tasks, "
            "sub-processes and call activities only",
            event,
        )
    elif isinstance(host, SubProcess) and host.triggered_by_event:
        yield scope.error(
            "boundary-on-invalid-host",
            f"{describe(event)} is attached to {describe(host)}: an event sub-process cannot carry "
            "boundary events",
            event,
        )


def boundary_interrupts(context: Context, scope: Scope, event: BoundaryEvent) -> Iterator[Problem]:
    if event.cancel_activity:
        return
    for definition in event.definitions:
        if isinstance(definition, ErrorDefinition | CancelDefinition):
            yield scope.error(
                "boundary-must-interrupt",
                f"{describe(event)} is non-interrupting, but a {definition.type} boundary event always "
                "interrupts its activity: make it interrupting",
                event,
            )


def timers(context: Context, scope: Scope, event: Event) -> Iterator[Problem]:
    for definition in event.definitions:
        if isinstance(definition, TimerDefinition):
            problem = timer_problem(definition.timer, definition.expression.text)
            if problem:
                yield scope.error("invalid-timer", f"{describe(event)}: {problem}", event)


def links(context: Context, scope: Scope) -> Iterator[Problem]:
    """Each link throw has one link catch of its name in the same scope."""
    catches = link_catches(scope.container)
    for name, found in catches.items():
        for duplicate in found[1:]:
            yield scope.error(
                "duplicate-link-catch",
                f"{describe(duplicate)} catches link '{name}', like {describe(found[0])}: "
                f"in {scope.label} each link name has one catch event",
                duplicate,
            )
    for node in scope.container.nodes:
        if not isinstance(node, IntermediateThrowEvent) or node.trigger != "link":
            continue
        target = link_name(node)
        if target is None:
            yield scope.error(
                "link-no-catch", f"{describe(node)} has no link name: name the link it jumps to", node
            )
        elif target not in catches:
            yield scope.error(
                "link-no-catch",
                f"{describe(node)} jumps to link '{target}', but {scope.label} has no link catch event "
                "of that name",
                node,
            )


RULES = RuleSet(
    scope=(links,),
    node=(
        (Event, triggers),
        (Event, flow_direction),
        (Event, timers),
        (BoundaryEvent, boundary_host),
        (BoundaryEvent, boundary_interrupts),
    ),
)
