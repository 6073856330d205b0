"""Start, end, intermediate and boundary events, for every trigger the engine runs.

Catch events wait through :mod:`~apg_workflow.engine.triggers`; error and escalation throws
propagate through :mod:`~apg_workflow.engine.propagation`; boundary events are fired by their
host's waits or by propagation, never reached by a sequence flow.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from apg_workflow.engine import propagation, scopes, tokens, triggers
from apg_workflow.engine.behaviour import Behaviour, Pass, register
from apg_workflow.engine.context import Ctx, Fault
from apg_workflow.engine.effects import ThrowMessage, ThrowSignal
from apg_workflow.model import (
    BoundaryEvent,
    EndEvent,
    ErrorDefinition,
    EscalationDefinition,
    Event,
    IntermediateCatchEvent,
    IntermediateThrowEvent,
    MessageDefinition,
    SignalDefinition,
    StartEvent,
)

if TYPE_CHECKING:
    from apg_workflow.engine.program import NodeInfo


def _event(info: NodeInfo) -> Event:
    node = info.node
    assert isinstance(node, Event)
    return node


class CatchEvent(Behaviour):
    """Waits for its timer, message, signal or condition, then completes with the payload."""

    def start(self, ctx: Ctx, inst_id: str, info: NodeInfo) -> None:
        inst = ctx.state["instances"][inst_id]
        wait = triggers.subscribe(
            ctx, _event(info).definitions[0], info.id, inst["scope"], role="self", instance=inst_id
        )
        ctx.record("instances", inst_id)["wait"] = wait


class TerminateEnd(Behaviour):
    """Ends every token of its own scope (the sub-process, or the process), then the scope."""

    def start(self, ctx: Ctx, inst_id: str, info: NodeInfo) -> None:
        tokens.clear_scope(ctx, ctx.state["instances"][inst_id]["scope"], keep=inst_id)
        tokens.complete(ctx, inst_id)


class ErrorThrow(Behaviour):
    def start(self, ctx: Ctx, inst_id: str, info: NodeInfo) -> None:
        definition = _event(info).definition(ErrorDefinition)
        assert isinstance(definition, ErrorDefinition)
        sent = propagation.payload_of(ctx, definition, ctx.instances[inst_id]["scope"])
        code = propagation.error_code(ctx, definition.error_ref)
        propagation.throw_error(ctx, inst_id, code, own=False, sent=sent)


class EscalationThrow(Behaviour):
    """Escalates outward; the flow goes on unless an interrupting catcher cancelled it."""

    def start(self, ctx: Ctx, inst_id: str, info: NodeInfo) -> None:
        definition = _event(info).definition(EscalationDefinition)
        assert isinstance(definition, EscalationDefinition)
        sent = propagation.payload_of(ctx, definition, ctx.instances[inst_id]["scope"])
        code = propagation.escalation_code(ctx, definition.escalation_ref)
        propagation.throw_escalation(ctx, inst_id, code, sent)
        if inst_id in ctx.state["instances"]:
            tokens.complete(ctx, inst_id)


def payload(ctx: Ctx, inst_id: str, info: NodeInfo) -> dict[str, Any]:
    """What a thrown message or signal carries: the element's input mappings, else every variable."""
    scope = ctx.state["instances"][inst_id]["scope"]
    if info.node.inputs:
        return scopes.map_values(ctx, info.node.inputs, scope, "input")
    return scopes.snapshot(ctx, scope)


class MessageThrow(Behaviour):
    def start(self, ctx: Ctx, inst_id: str, info: NodeInfo) -> None:
        definition = _event(info).definition(MessageDefinition)
        assert isinstance(definition, MessageDefinition)
        scope = ctx.state["instances"][inst_id]["scope"]
        ctx.emit(
            ThrowMessage(
                element_id=info.id,
                message_name=triggers.message_name(ctx, definition.message_ref, info.id),
                correlation_key=triggers.correlation_key(ctx, definition, scope),
                variables=payload(ctx, inst_id, info),
            )
        )
        tokens.complete(ctx, inst_id)


class SignalThrow(Behaviour):
    """Broadcasts its signal: to this execution's own catchers at once (see
    :func:`~apg_workflow.engine.triggers.deliver_signal`), to other executions through the driver;
    the flow goes on unless an interrupting catcher cancelled the thrower."""

    def start(self, ctx: Ctx, inst_id: str, info: NodeInfo) -> None:
        definition = _event(info).definition(SignalDefinition)
        assert isinstance(definition, SignalDefinition)
        name = triggers.signal_name(ctx, definition, info.id)
        variables = payload(ctx, inst_id, info)
        ctx.emit(ThrowSignal(element_id=info.id, signal_name=name, variables=variables))
        triggers.deliver_signal(ctx, name, variables)
        if inst_id in ctx.instances:
            tokens.complete(ctx, inst_id)


class LinkThrow(Behaviour):
    """Jumps to the catch link event of the same name in the same (sub-)process."""

    def start(self, ctx: Ctx, inst_id: str, info: NodeInfo) -> None:
        if info.link_target is None:
            raise Fault(f"{info.node.label}: no catching link event has its name")
        ctx.history("element.completed", info.id, inst_id)
        tokens.push(ctx, ctx.state["instances"][inst_id]["scope"], info.link_target, None)
        tokens.end(ctx, inst_id)


PASS = Pass()
TRIGGERS = ("timer", "message", "signal", "conditional")

register(StartEvent, PASS, "none", *TRIGGERS, "error", "escalation")
register(EndEvent, PASS, "none")
register(EndEvent, TerminateEnd(), "terminate")
register(EndEvent, ErrorThrow(), "error")
register(EndEvent, EscalationThrow(), "escalation")
register(EndEvent, MessageThrow(), "message")
register(EndEvent, SignalThrow(), "signal")
register(IntermediateThrowEvent, PASS, "none")
register(IntermediateThrowEvent, EscalationThrow(), "escalation")
register(IntermediateThrowEvent, MessageThrow(), "message")
register(IntermediateThrowEvent, SignalThrow(), "signal")
register(IntermediateThrowEvent, LinkThrow(), "link")
register(IntermediateCatchEvent, CatchEvent(), *TRIGGERS)
register(IntermediateCatchEvent, PASS, "link")
register(BoundaryEvent, PASS, *TRIGGERS, "error", "escalation")
