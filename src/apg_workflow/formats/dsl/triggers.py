"""Event triggers: ``TIMER "2h"``, ``MESSAGE paid CORRELATION "order.id"``, ``ERROR failed``, …
← → the model's event definitions."""

from __future__ import annotations

from collections.abc import Callable

from apg_workflow import model as m
from apg_workflow.formats.dsl import values as v
from apg_workflow.formats.dsl.lexical import ident, quote
from apg_workflow.formats.dsl.syntax import Ref, SourceError, Trigger

# kind → the definition class and the field its reference fills
_REFERENCES: dict[str, tuple[type[m.EventDefinition], str]] = {
    "message": (m.MessageDefinition, "message_ref"),
    "signal": (m.SignalDefinition, "signal_ref"),
    "error": (m.ErrorDefinition, "error_ref"),
    "escalation": (m.EscalationDefinition, "escalation_ref"),
}
_KEYWORD = {cls: kind.upper() for kind, (cls, _) in _REFERENCES.items()}

Lazy = Callable[[], m.EventDefinition]
# Resolves a "quoted" reference (a message by name, an error by code, …) to the declaration's id,
# which is known only once every id has been given: hence a function to call later.
Declare = Callable[[str, Ref], Callable[[], str]]


def read_trigger(trigger: Trigger, declare: Declare) -> Lazy:
    """The event definition ``trigger`` writes, built once every id is known."""
    kind = trigger.kind
    if kind in _REFERENCES:
        cls, field = _REFERENCES[kind]
        ref = _reference(kind, trigger.ref, declare)
        key = trigger.expr.expression if trigger.expr else None
        if cls is m.MessageDefinition:
            return lambda: m.MessageDefinition(message_ref=ref(), correlation_key=key)
        return lambda: cls(**{field: ref()})
    definition = _plain(trigger)
    return lambda: definition


def _reference(kind: str, ref: Ref | None, declare: Declare) -> Callable[[], str | None]:
    if ref is None:
        return lambda: None
    if ref.quoted:
        return declare(kind, ref)
    return lambda: ref.text


def _plain(trigger: Trigger) -> m.EventDefinition:
    kind = trigger.kind
    if kind == "timer":
        assert trigger.expr is not None and trigger.timer is not None
        return v.timer(trigger.timer, trigger.expr.expression, trigger.expr.pos)
    if kind == "conditional":
        assert trigger.expr is not None
        return m.ConditionalDefinition(condition=trigger.expr.expression)
    if kind == "link":
        return m.LinkDefinition(link_name=trigger.ref.text if trigger.ref else None)
    if kind == "compensate":
        activity = trigger.ref.text if trigger.ref else None
        return m.CompensateDefinition(activity_ref=activity, wait_for_completion=not trigger.no_wait)
    if kind == "terminate":
        return m.TerminateDefinition()
    if kind == "cancel":
        return m.CancelDefinition()
    raise SourceError(f"unknown trigger {kind}", trigger.pos)  # the grammar admits no other


# ---------------------------------------------------------------------------------------------
# Writing


def expression_text(expression: m.Expression, reserved: frozenset[str]) -> str:
    """``"text"``, or ``language "text"`` when the expression names its language."""
    if expression.language is None:
        return quote(expression.text)
    return f"{ident(expression.language, reserved)} {quote(expression.text)}"


def triggers_text(event: m.Event, reserved: frozenset[str]) -> str:
    """The triggers of ``event`` as its statement writes them ("" for a none event)."""
    joiner = " AND " if event.parallel_multiple else " OR "
    return joiner.join(_trigger_text(d, reserved) for d in event.definitions)


def _trigger_text(definition: m.EventDefinition, reserved: frozenset[str]) -> str:
    if isinstance(definition, m.TimerDefinition):
        expression = definition.expression
        if definition.timer is m.TimerKind.DURATION and expression.language is None:
            text = quote(str(v.of_duration(expression.text).value))
        else:
            text = expression_text(expression, reserved)
        kind = "" if definition.timer is m.TimerKind.DURATION else f" {definition.timer.value.upper()}"
        return f"TIMER{kind} {text}"
    if type(definition) in _KEYWORD:
        _, field = _REFERENCES[definition.type]
        ref = getattr(definition, field)
        text = _KEYWORD[type(definition)] + (f" {ident(ref, reserved)}" if ref is not None else "")
        if isinstance(definition, m.MessageDefinition) and definition.correlation_key is not None:
            text += f" CORRELATION {expression_text(definition.correlation_key, reserved)}"
        return text
    if isinstance(definition, m.ConditionalDefinition):
        return f"CONDITION {expression_text(definition.condition, reserved)}"
    if isinstance(definition, m.LinkDefinition):
        return "LINK" + (f" {quote(definition.link_name)}" if definition.link_name is not None else "")
    if isinstance(definition, m.CompensateDefinition):
        activity = definition.activity_ref
        text = "COMPENSATE" + (f" {ident(activity, reserved)}" if activity is not None else "")
        return text + ("" if definition.wait_for_completion else " NO_WAIT")
    return definition.type.upper()  # TERMINATE, CANCEL
