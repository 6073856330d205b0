"""What triggers an event (or what it throws): timer, message, signal, error, escalation,
condition, link, compensation, terminate, cancel.

A trigger is written as a key of the event (``timer: {duration: PT10M}``, ``message: OrderPaid``,
``terminate: true``) or, for an event with several, as a list under ``triggers``
(``[{type: timer, duration: PT1H}, {type: message, ref: Cancelled}]``). Each class below is one
entry of that list and knows its short form.
"""

from __future__ import annotations

from abc import abstractmethod
from typing import Annotated, Any, ClassVar, Literal, Self

from pydantic import ConfigDict, Tag, model_validator
from pydantic_core import PydanticCustomError

from apg_workflow.formats.jsonyaml.diagnostics import PathPart
from apg_workflow.formats.jsonyaml.entry import NodeContext
from apg_workflow.formats.jsonyaml.fields import (
    ExpressionValue,
    Strict,
    by_shape,
    by_type,
    expression,
    expression_value,
    is_object,
    is_text,
    is_true,
    present,
    schema_extra,
    unless,
)
from apg_workflow.model import (
    CancelDefinition,
    CompensateDefinition,
    ConditionalDefinition,
    ErrorDefinition,
    EscalationDefinition,
    EventDefinition,
    Expression,
    LinkDefinition,
    MessageDefinition,
    SignalDefinition,
    TerminateDefinition,
    TimerDefinition,
    TimerKind,
)

Key = tuple[PathPart, ...]


class Trigger(Strict):
    """One event definition. ``SHORTHAND`` is its key on an event; ``MAIN`` the field a bare value
    (``message: OrderPaid``) fills; ``true`` stands for the trigger with every field absent."""

    DEFINITION: ClassVar[type[EventDefinition]]
    SHORTHAND: ClassVar[str]
    MAIN: ClassVar[str | None] = None

    type: str

    @abstractmethod
    def definition(self, ctx: NodeContext, key: Key) -> EventDefinition:
        """The model's event definition; ``key`` is where the trigger is written, for problems."""

    @classmethod
    def fields_of(cls, definition: Any) -> dict[str, Any]:
        """The written fields of ``definition``, defaults left out."""
        return {}

    @classmethod
    def from_shorthand(cls, value: Any) -> Self:
        if isinstance(value, cls):
            return value
        # The value is validated already (as the event's shorthand key): build without validating again.
        if value is True or cls.MAIN is None:
            return cls.model_construct()
        return cls.model_construct(**{cls.MAIN: value})

    @classmethod
    def shorthand(cls, definition: Any) -> Any:
        """The shortest value of the shorthand key: ``true``, the main field alone, or an object."""
        fields = cls.fields_of(definition)
        if not fields:
            return True
        if cls.MAIN is not None and set(fields) == {cls.MAIN}:
            return fields[cls.MAIN]
        return fields

    @classmethod
    def item(cls, definition: Any) -> dict[str, Any]:
        """The entry of the ``triggers`` list."""
        return {"type": definition.TYPE, **cls.fields_of(definition)}


class TimerTrigger(Trigger):
    """A timer: exactly one of ``duration`` (``PT10M``, or ``10m``), ``date`` (ISO 8601 date-time) and
    ``cycle`` (``R3/PT10M`` or a cron expression)."""

    model_config = ConfigDict(
        json_schema_extra=schema_extra(oneOf=[{"required": [k]} for k in ("duration", "date", "cycle")])
    )
    DEFINITION = TimerDefinition
    SHORTHAND = "timer"

    type: Literal["timer"] = "timer"
    duration: ExpressionValue | None = None
    """Fire this long after the event is reached: ISO 8601 (``PT10M``) or ``10m``, ``1h 30m``."""
    date: ExpressionValue | None = None
    """Fire at this ISO 8601 date-time."""
    cycle: ExpressionValue | None = None
    """Fire repeatedly: ``R3/PT10M`` or a cron expression."""

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        if sum(value is not None for value in (self.duration, self.date, self.cycle)) != 1:
            raise PydanticCustomError("timer", "a timer takes exactly one of duration, date and cycle")
        return self

    def definition(self, ctx: NodeContext, key: Key) -> TimerDefinition:
        kind = next(k for k in TimerKind if getattr(self, k.value) is not None)
        expr = expression(getattr(self, kind.value))
        assert expr is not None
        if kind is TimerKind.DURATION and expr.language is None:
            expr = Expression(ctx.duration(expr.text, (*key, "duration"), strict=False) or expr.text)
        return TimerDefinition(timer=kind, expression=expr)

    @classmethod
    def fields_of(cls, definition: TimerDefinition) -> dict[str, Any]:
        return {definition.timer.value: expression_value(definition.expression)}


class MessageTrigger(Trigger):
    """A message, by the id of a message in ``messages``."""

    DEFINITION = MessageDefinition
    SHORTHAND = "message"
    MAIN = "ref"

    type: Literal["message"] = "message"
    ref: str | None = None
    """The id of the message (see ``messages``)."""
    correlation_key: ExpressionValue | None = None
    """Which waiting execution the message is for: an expression compared with the message's key."""

    def definition(self, ctx: NodeContext, key: Key) -> MessageDefinition:
        return MessageDefinition(message_ref=self.ref, correlation_key=expression(self.correlation_key))

    @classmethod
    def fields_of(cls, definition: MessageDefinition) -> dict[str, Any]:
        return present(
            {"ref": definition.message_ref, "correlation_key": expression_value(definition.correlation_key)}
        )


class RefTrigger(Trigger):
    """A trigger naming a definition-level object by id (a signal, an error, an escalation):
    ``REF_FIELD`` is the model field that holds the id."""

    MAIN = "ref"
    REF_FIELD: ClassVar[str]

    ref: str | None = None

    def definition(self, ctx: NodeContext, key: Key) -> EventDefinition:
        return self.DEFINITION(**{self.REF_FIELD: self.ref})

    @classmethod
    def fields_of(cls, definition: Any) -> dict[str, Any]:
        return present({"ref": getattr(definition, cls.REF_FIELD)})


class SignalTrigger(RefTrigger):
    """A signal, broadcast to every waiting execution."""

    DEFINITION = SignalDefinition
    SHORTHAND = "signal"
    REF_FIELD = "signal_ref"

    type: Literal["signal"] = "signal"
    ref: str | None = None
    """The id of the signal (see ``signals``)."""


class ErrorTrigger(RefTrigger):
    """A BPMN error: thrown by an end event, caught by a boundary event or event sub-process."""

    DEFINITION = ErrorDefinition
    SHORTHAND = "error"
    REF_FIELD = "error_ref"

    type: Literal["error"] = "error"
    ref: str | None = None
    """The id of the error (see ``errors``); absent on a catching event, it catches every error."""


class EscalationTrigger(RefTrigger):
    """An escalation: like an error, but the thrower may go on."""

    DEFINITION = EscalationDefinition
    SHORTHAND = "escalation"
    REF_FIELD = "escalation_ref"

    type: Literal["escalation"] = "escalation"
    ref: str | None = None
    """The id of the escalation (see ``escalations``)."""


class ConditionalTrigger(Trigger):
    """Fires when ``condition`` becomes true."""

    DEFINITION = ConditionalDefinition
    SHORTHAND = "condition"
    MAIN = "condition"

    type: Literal["conditional"] = "conditional"
    condition: ExpressionValue
    """The condition watched."""

    def definition(self, ctx: NodeContext, key: Key) -> ConditionalDefinition:
        condition = expression(self.condition)
        assert condition is not None
        return ConditionalDefinition(condition=condition)

    @classmethod
    def fields_of(cls, definition: ConditionalDefinition) -> dict[str, Any]:
        return {"condition": expression_value(definition.condition)}


class LinkTrigger(Trigger):
    """A link: a throwing link event continues at the catching one of the same name."""

    DEFINITION = LinkDefinition
    SHORTHAND = "link"
    MAIN = "name"

    type: Literal["link"] = "link"
    name: str | None = None
    """The link name shared by the throwing and the catching event."""

    def definition(self, ctx: NodeContext, key: Key) -> LinkDefinition:
        return LinkDefinition(link_name=self.name)

    @classmethod
    def fields_of(cls, definition: LinkDefinition) -> dict[str, Any]:
        return present({"name": definition.link_name})


class CompensateTrigger(Trigger):
    """Compensation: undo completed activities with their compensation handlers."""

    DEFINITION = CompensateDefinition
    SHORTHAND = "compensate"
    MAIN = "activity"

    type: Literal["compensate"] = "compensate"
    activity: str | None = None
    """The id of the activity to compensate; absent means all of the scope."""
    wait_for_completion: bool = True
    """Wait until compensation is done before going on."""

    def definition(self, ctx: NodeContext, key: Key) -> CompensateDefinition:
        return CompensateDefinition(activity_ref=self.activity, wait_for_completion=self.wait_for_completion)

    @classmethod
    def fields_of(cls, definition: CompensateDefinition) -> dict[str, Any]:
        return present(
            {
                "activity": definition.activity_ref,
                "wait_for_completion": unless(definition.wait_for_completion, True),
            }
        )


class TerminateTrigger(Trigger):
    """End the whole execution (a terminate end event)."""

    DEFINITION = TerminateDefinition
    SHORTHAND = "terminate"

    type: Literal["terminate"] = "terminate"

    def definition(self, ctx: NodeContext, key: Key) -> TerminateDefinition:
        return TerminateDefinition()


class CancelTrigger(Trigger):
    """Cancel a transaction sub-process."""

    DEFINITION = CancelDefinition
    SHORTHAND = "cancel"

    type: Literal["cancel"] = "cancel"

    def definition(self, ctx: NodeContext, key: Key) -> CancelDefinition:
        return CancelDefinition()


TRIGGERS: tuple[type[Trigger], ...] = (
    TimerTrigger,
    MessageTrigger,
    SignalTrigger,
    ErrorTrigger,
    EscalationTrigger,
    ConditionalTrigger,
    LinkTrigger,
    CompensateTrigger,
    TerminateTrigger,
    CancelTrigger,
)
TRIGGER_TYPES = {cls.DEFINITION.TYPE: cls for cls in TRIGGERS}
TRIGGER_FOR_DEFINITION = {cls.DEFINITION: cls for cls in TRIGGERS}


TriggerItem = Annotated[
    Annotated[TimerTrigger, Tag("~timer")]
    | Annotated[MessageTrigger, Tag("~message")]
    | Annotated[SignalTrigger, Tag("~signal")]
    | Annotated[ErrorTrigger, Tag("~error")]
    | Annotated[EscalationTrigger, Tag("~escalation")]
    | Annotated[ConditionalTrigger, Tag("~conditional")]
    | Annotated[LinkTrigger, Tag("~link")]
    | Annotated[CompensateTrigger, Tag("~compensate")]
    | Annotated[TerminateTrigger, Tag("~terminate")]
    | Annotated[CancelTrigger, Tag("~cancel")],
    by_type(TRIGGER_TYPES, error_type="trigger_type"),
]

_text_or_true = {"text": is_text, "true": is_true}
RefValue = Annotated[
    Annotated[str, Tag("~text")] | Annotated[Literal[True], Tag("~true")],
    by_shape("an id (text), or true for none in particular", **_text_or_true),
]
MessageValue = Annotated[
    Annotated[str, Tag("~text")]
    | Annotated[Literal[True], Tag("~true")]
    | Annotated[MessageTrigger, Tag("~object")],
    by_shape(
        "a message id (text), true, or an object {ref, correlation_key}", **_text_or_true, object=is_object
    ),
]
CompensateValue = Annotated[
    Annotated[str, Tag("~text")]
    | Annotated[Literal[True], Tag("~true")]
    | Annotated[CompensateTrigger, Tag("~object")],
    by_shape(
        "an activity id (text), true, or an object {activity, wait_for_completion}",
        **_text_or_true,
        object=is_object,
    ),
]
