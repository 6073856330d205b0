"""Waiting for timers, messages, signals and conditions, and what happens when one fires.

A wait belongs to a catch event or receive task (role ``self``), a boundary event of an activity
(``boundary``), a target of an event-based gateway (``gateway``) or the start event of an event
sub-process (``start``). Firing dispatches on the role through :data:`ROLES`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from apg_workflow.engine import scopes, timers, tokens
from apg_workflow.engine.context import Ctx, Fault
from apg_workflow.engine.effects import SetTimer, SubscribeMessage, SubscribeSignal, Unsubscribe
from apg_workflow.model import (
    BoundaryEvent,
    ConditionalDefinition,
    Event,
    EventDefinition,
    MessageDefinition,
    SignalDefinition,
    StartEvent,
    TimerDefinition,
)

Subscriber = Callable[[Ctx, str, Any, str, dict[str, Any]], None]
RoleHandler = Callable[[Ctx, str, Mapping[str, Any], Mapping[str, Any]], None]


def subscribe(
    ctx: Ctx,
    definition: EventDefinition,
    element_id: str,
    eval_scope: str,
    *,
    role: str,
    instance: str | None,
    scope: str | None = None,
) -> str:
    """Start waiting for ``definition``'s trigger; expressions (timer, correlation key) are read
    in ``eval_scope``. Returns the wait id."""
    subscriber = _SUBSCRIBERS.get(type(definition))
    if subscriber is None:
        raise Fault(f"'{element_id}': {definition.type} events cannot be waited for")
    wait_id = ctx.external_id()
    record: dict[str, Any] = {"role": role, "element": element_id, "instance": instance}
    if scope is not None:
        record["scope"] = scope
    subscriber(ctx, wait_id, definition, eval_scope, record)
    return wait_id


def _timer(
    ctx: Ctx, wait_id: str, definition: TimerDefinition, eval_scope: str, record: dict[str, Any]
) -> None:
    text = definition.expression.text
    try:
        due, cycle = timers.due_at(definition.timer, text, ctx.now)
    except timers.TimerError:  # not a literal: an expression computing the value
        value = scopes.evaluate(ctx, definition.expression, eval_scope, "timer expression")
        try:
            due, cycle = timers.due_at(definition.timer, value, ctx.now)
        except timers.TimerError as exc:
            raise Fault(f"'{record['element']}': {exc}") from None
    record["kind"] = "timer"
    if cycle is not None:
        record["cycle"] = cycle
    ctx.add_wait(wait_id, record)
    ctx.emit(SetTimer(timer_id=wait_id, element_id=record["element"], due_at=due))


def message_name(ctx: Ctx, message_ref: str | None, element_id: str) -> str:
    if message_ref is None:
        raise Fault(f"'{element_id}' names no message")
    return ctx.program.messages.get(message_ref, message_ref)


def correlation_key(ctx: Ctx, definition: MessageDefinition, eval_scope: str) -> str | None:
    if definition.correlation_key is None:
        return None
    value = scopes.evaluate(ctx, definition.correlation_key, eval_scope, "correlation key")
    return None if value is None else str(value)


def _message(
    ctx: Ctx, wait_id: str, definition: MessageDefinition, eval_scope: str, record: dict[str, Any]
) -> None:
    name = message_name(ctx, definition.message_ref, record["element"])
    key = correlation_key(ctx, definition, eval_scope)
    record["kind"] = "message"
    ctx.add_wait(wait_id, record)
    ctx.emit(
        SubscribeMessage(
            subscription_id=wait_id, element_id=record["element"], message_name=name, correlation_key=key
        )
    )


def signal_name(ctx: Ctx, definition: SignalDefinition, element_id: str) -> str:
    if definition.signal_ref is None:
        raise Fault(f"'{element_id}' names no signal")
    return ctx.program.signals.get(definition.signal_ref, definition.signal_ref)


def _signal(
    ctx: Ctx, wait_id: str, definition: SignalDefinition, eval_scope: str, record: dict[str, Any]
) -> None:
    name = signal_name(ctx, definition, record["element"])
    record["kind"] = "signal"
    ctx.add_wait(wait_id, record)
    ctx.emit(SubscribeSignal(subscription_id=wait_id, element_id=record["element"], signal_name=name))


def _condition(
    ctx: Ctx, wait_id: str, definition: ConditionalDefinition, eval_scope: str, record: dict[str, Any]
) -> None:
    record["scope"] = eval_scope
    record["last"] = False
    ctx.insert("conditions", wait_id, record)
    ctx.vars_changed = True  # evaluate it once the step settles


_SUBSCRIBERS: dict[type[EventDefinition], Subscriber] = {
    TimerDefinition: _timer,
    MessageDefinition: _message,
    SignalDefinition: _signal,
    ConditionalDefinition: _condition,
}


# Firing ------------------------------------------------------------------------------------


def fire(ctx: Ctx, wait_id: str, variables: Mapping[str, Any]) -> None:
    """The timer, message or signal behind ``wait_id`` arrived."""
    wait = ctx.state["waits"][wait_id]
    ROLES[wait["role"]](ctx, wait_id, wait, variables)


def keeps_waiting(ctx: Ctx, wait_id: str, wait: Mapping[str, Any]) -> bool:
    """After a non-interrupting event fired: stay subscribed (re-arming a timer cycle) or not."""
    if wait.get("kind") != "timer":
        return True
    cycle = wait.get("cycle")
    following = timers.next_due(cycle, ctx.now) if cycle else None
    if following is None:
        ctx.remove("waits", wait_id)
        return False
    due, cycle = following
    ctx.record("waits", wait_id)["cycle"] = cycle
    ctx.emit(SetTimer(timer_id=wait_id, element_id=wait["element"], due_at=due))
    return True


def _boundary(ctx: Ctx, wait_id: str, wait: Mapping[str, Any], variables: Mapping[str, Any]) -> None:
    info = ctx.info(wait["element"])
    node = info.node
    assert isinstance(node, BoundaryEvent)
    host = wait["instance"]
    if node.cancel_activity or not keeps_waiting(ctx, wait_id, wait):
        ctx.remove("waits", wait_id)
        ctx.remove("conditions", wait_id)
        subs = ctx.record("instances", host).get("subs", [])
        ctx.record("instances", host)["subs"] = [s for s in subs if s != wait_id]
    fire_boundary(ctx, host, info.id, variables)


def fire_boundary(ctx: Ctx, host: str, boundary_id: str, variables: Mapping[str, Any]) -> None:
    """A boundary event of instance ``host`` occurred: a token leaves it, the host is cancelled
    when the event is interrupting."""
    info = ctx.info(boundary_id)
    node = info.node
    assert isinstance(node, BoundaryEvent)
    event = tokens.spawn(ctx, ctx.state["instances"][host]["scope"], info)
    if node.cancel_activity:
        tokens.cancel(ctx, host)
    tokens.complete(ctx, event, variables)


def _self(ctx: Ctx, wait_id: str, wait: Mapping[str, Any], variables: Mapping[str, Any]) -> None:
    ctx.remove("conditions", wait_id)
    ctx.info(wait["element"]).behaviour.resume(ctx, wait_id, wait, variables)


def deliver_signal(ctx: Ctx, name: str, variables: Mapping[str, Any]) -> None:
    """A signal this execution throws reaches its own catchers that wait for it now, within the
    step, as a broadcast from outside would (each one fires; an interrupting one may cancel the
    thrower). The driver delivers the signal to other executions only."""
    waiting = [
        wait_id
        for wait_id, wait in ctx.waits.items()
        if wait["kind"] == "signal" and _signal_of(ctx, wait["element"]) == name
    ]
    for wait_id in waiting:
        if wait_id not in ctx.waits:
            continue  # dropped by a catcher that fired before it
        fire(ctx, wait_id, variables)
        if wait_id not in ctx.waits:  # consumed here: the driver must forget the subscription
            ctx.emit(Unsubscribe(subscription_id=wait_id))


def _signal_of(ctx: Ctx, element_id: str) -> str | None:
    node = ctx.info(element_id).node
    definition = node.definition(SignalDefinition) if isinstance(node, Event) else None
    return signal_name(ctx, definition, element_id) if isinstance(definition, SignalDefinition) else None


def _gateway(ctx: Ctx, wait_id: str, wait: Mapping[str, Any], variables: Mapping[str, Any]) -> None:
    """An event after an event-based gateway won the race: the others are dropped."""
    gateway = wait["instance"]
    ctx.remove("waits", wait_id)
    ctx.remove("conditions", wait_id)
    scope = ctx.state["instances"][gateway]["scope"]
    gateway_info = ctx.info(ctx.state["instances"][gateway]["element"])
    ctx.history("element.completed", gateway_info.id, gateway)
    target = tokens.spawn(ctx, scope, ctx.info(wait["element"]))
    tokens.end(ctx, gateway)
    tokens.complete(ctx, target, variables)


ROLES: dict[str, RoleHandler] = {"self": _self, "boundary": _boundary, "gateway": _gateway}


def evaluate_conditions(ctx: Ctx) -> None:
    """Fire the conditional events whose condition turned true since they were last evaluated.
    A condition that cannot be evaluated yet (a variable not set) counts as false."""
    for wait_id, record in list(ctx.state["conditions"].items()):
        if wait_id not in ctx.state["conditions"]:
            continue  # dropped by an event that fired before it
        definition = _condition_of(ctx, record["element"])
        try:
            value = bool(scopes.evaluate(ctx, definition.condition, record["scope"], "condition"))
        except Fault:
            value = False
        if value == record["last"]:
            continue
        ctx.record("conditions", wait_id)["last"] = value
        if value:
            ROLES[record["role"]](ctx, wait_id, ctx.state["conditions"][wait_id], {})


def _condition_of(ctx: Ctx, element_id: str) -> ConditionalDefinition:
    node = ctx.info(element_id).node
    definitions = getattr(node, "definitions", ())
    found = next(d for d in definitions if isinstance(d, ConditionalDefinition))
    return found


def is_interrupting(node: Any) -> bool:
    if isinstance(node, BoundaryEvent):
        return node.cancel_activity
    return isinstance(node, StartEvent) and node.is_interrupting
