"""Event definitions (what triggers or is thrown by an event) and the five event element kinds."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar

from apg_workflow.model.base import BaseElement, ElementKind, Expression
from apg_workflow.model.nodes import FlowNode


class TimerKind(StrEnum):
    DURATION = "duration"  # timeDuration: ISO 8601 duration, e.g. PT10M
    DATE = "date"  # timeDate: ISO 8601 date-time
    CYCLE = "cycle"  # timeCycle: R3/PT10M, or a cron expression


@dataclass(frozen=True, slots=True, kw_only=True)
class EventDefinition(BaseElement):
    TYPE: ClassVar[str]

    @property
    def type(self) -> str:
        return self.TYPE


@dataclass(frozen=True, slots=True, kw_only=True)
class TimerDefinition(EventDefinition):
    TYPE = "timer"
    timer: TimerKind
    expression: Expression


@dataclass(frozen=True, slots=True, kw_only=True)
class MessageDefinition(EventDefinition):
    TYPE = "message"
    message_ref: str | None = None
    correlation_key: Expression | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SignalDefinition(EventDefinition):
    TYPE = "signal"
    signal_ref: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ErrorDefinition(EventDefinition):
    TYPE = "error"
    error_ref: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class EscalationDefinition(EventDefinition):
    TYPE = "escalation"
    escalation_ref: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class TerminateDefinition(EventDefinition):
    TYPE = "terminate"


@dataclass(frozen=True, slots=True, kw_only=True)
class ConditionalDefinition(EventDefinition):
    TYPE = "conditional"
    condition: Expression


@dataclass(frozen=True, slots=True, kw_only=True)
class LinkDefinition(EventDefinition):
    TYPE = "link"
    link_name: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CompensateDefinition(EventDefinition):
    TYPE = "compensate"
    activity_ref: str | None = None
    wait_for_completion: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class CancelDefinition(EventDefinition):
    TYPE = "cancel"


EVENT_DEFINITION_TYPES: dict[str, type[EventDefinition]] = {
    cls.TYPE: cls
    for cls in (
        TimerDefinition,
        MessageDefinition,
        SignalDefinition,
        ErrorDefinition,
        EscalationDefinition,
        TerminateDefinition,
        ConditionalDefinition,
        LinkDefinition,
        CompensateDefinition,
        CancelDefinition,
    )
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Event(FlowNode):
    """An event. No definitions means a *none* event; several mean *multiple*."""

    definitions: tuple[EventDefinition, ...] = ()
    parallel_multiple: bool = False

    @property
    def trigger(self) -> str:
        """``none``, ``multiple`` or the single definition's type (``timer``, ``message``, …)."""
        if not self.definitions:
            return "none"
        if len(self.definitions) > 1:
            return "multiple"
        return self.definitions[0].type

    def definition(self, cls: type[EventDefinition]) -> EventDefinition | None:
        return next((d for d in self.definitions if isinstance(d, cls)), None)


@dataclass(frozen=True, slots=True, kw_only=True)
class StartEvent(Event):
    KIND = ElementKind.START_EVENT
    is_interrupting: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class EndEvent(Event):
    KIND = ElementKind.END_EVENT


@dataclass(frozen=True, slots=True, kw_only=True)
class IntermediateCatchEvent(Event):
    KIND = ElementKind.INTERMEDIATE_CATCH_EVENT


@dataclass(frozen=True, slots=True, kw_only=True)
class IntermediateThrowEvent(Event):
    KIND = ElementKind.INTERMEDIATE_THROW_EVENT


@dataclass(frozen=True, slots=True, kw_only=True)
class BoundaryEvent(Event):
    KIND = ElementKind.BOUNDARY_EVENT
    attached_to: str
    cancel_activity: bool = True
