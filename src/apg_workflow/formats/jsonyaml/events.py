"""Events: the five event entry types. What triggers them is in :mod:`.triggers`."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from apg_workflow.formats.jsonyaml.entry import NodeContext, NodeEntry
from apg_workflow.formats.jsonyaml.fields import ExpressionValue, unless
from apg_workflow.formats.jsonyaml.triggers import (
    TRIGGER_FOR_DEFINITION,
    TRIGGERS,
    CompensateValue,
    Key,
    MessageValue,
    RefValue,
    TimerTrigger,
    Trigger,
    TriggerItem,
)
from apg_workflow.model import (
    BoundaryEvent,
    EndEvent,
    Event,
    IntermediateCatchEvent,
    IntermediateThrowEvent,
    StartEvent,
)


class EventEntry(NodeEntry):
    """Common to events: what triggers them (no trigger at all makes a *none* event)."""

    MODEL: ClassVar[type[Event]]

    timer: TimerTrigger | None = None
    """A timer trigger: ``{duration: PT10M}``, ``{date: 2026-01-01T09:00:00Z}`` or ``{cycle: R3/PT1H}``."""
    message: MessageValue | None = None
    """A message trigger: the message id, or ``{ref, correlation_key}``; ``true`` for any message."""
    signal: RefValue | None = None
    """A signal trigger: the signal id."""
    error: RefValue | None = None
    """An error trigger: the error id; ``true`` catches every error."""
    escalation: RefValue | None = None
    """An escalation trigger: the escalation id; ``true`` catches every escalation."""
    condition: ExpressionValue | None = None
    """A conditional trigger: fires when this expression becomes true."""
    link: RefValue | None = None
    """A link trigger: the link name."""
    compensate: CompensateValue | None = None
    """A compensation trigger: ``true``, the activity id, or ``{activity, wait_for_completion}``."""
    terminate: Literal[True] | None = None
    """``true``: a terminate end event, which ends the whole execution."""
    cancel: Literal[True] | None = None
    """``true``: a cancel event (transactions)."""
    triggers: list[TriggerItem] | None = None
    """Several triggers (a *multiple* event): ``[{type: timer, duration: PT1H}, {type: message, ref: M}]``."""
    parallel_multiple: bool = False
    """With several triggers: wait for all of them instead of the first."""

    def node_fields(self, ctx: NodeContext) -> dict[str, Any]:
        found: list[tuple[Key, Trigger]] = [
            ((cls.SHORTHAND,), cls.from_shorthand(value))
            for cls in TRIGGERS
            if (value := getattr(self, cls.SHORTHAND)) is not None
        ]
        if found and self.triggers is not None:
            ctx.report("triggers", f"give the triggers either here or as '{found[0][0][0]}', not both")
        found += [(("triggers", index), trigger) for index, trigger in enumerate(self.triggers or ())]
        definitions = tuple(trigger.definition(ctx, key) for key, trigger in found)
        return super().node_fields(ctx) | {
            "definitions": definitions,
            "parallel_multiple": self.parallel_multiple,
        }

    @classmethod
    def entry(cls, node: Any) -> dict[str, Any]:  # an Event
        written = super().entry(node)
        if len(node.definitions) == 1:
            trigger = TRIGGER_FOR_DEFINITION[type(node.definitions[0])]
            written[trigger.SHORTHAND] = trigger.shorthand(node.definitions[0])
        elif node.definitions:
            written["triggers"] = [TRIGGER_FOR_DEFINITION[type(d)].item(d) for d in node.definitions]
        written["parallel_multiple"] = unless(node.parallel_multiple, False)
        return written


class StartEventEntry(EventEntry):
    """Where an execution (or an event sub-process) starts."""

    MODEL = StartEvent
    type: Literal["startEvent"]
    interrupting: bool = True
    """In an event sub-process: whether starting it cancels the enclosing scope."""

    def node_fields(self, ctx: NodeContext) -> dict[str, Any]:
        return super().node_fields(ctx) | {"is_interrupting": self.interrupting}

    @classmethod
    def entry(cls, node: StartEvent) -> dict[str, Any]:
        return super().entry(node) | {"interrupting": unless(node.is_interrupting, True)}


class EndEventEntry(EventEntry):
    """Where a path ends; with a trigger it also throws (error, message, terminate, …)."""

    MODEL = EndEvent
    type: Literal["endEvent"]


class IntermediateCatchEventEntry(EventEntry):
    """Waits on the path until its trigger happens (a timer, a message, …)."""

    MODEL = IntermediateCatchEvent
    type: Literal["intermediateCatchEvent"]


class IntermediateThrowEventEntry(EventEntry):
    """Throws its trigger (message, signal, escalation, …) and goes on."""

    MODEL = IntermediateThrowEvent
    type: Literal["intermediateThrowEvent"]


class BoundaryEventEntry(EventEntry):
    """Attached to an activity: its trigger interrupts the activity (or runs beside it)."""

    MODEL = BoundaryEvent
    type: Literal["boundaryEvent"]
    attached_to: str
    """The id (or name) of the activity it is attached to."""
    interrupting: bool = True
    """Whether the trigger cancels the activity (``false``: the activity goes on)."""

    def node_fields(self, ctx: NodeContext) -> dict[str, Any]:
        return super().node_fields(ctx) | {
            "attached_to": ctx.resolve(self.attached_to, "attached_to"),
            "cancel_activity": self.interrupting,
        }

    @classmethod
    def entry(cls, node: BoundaryEvent) -> dict[str, Any]:
        return super().entry(node) | {
            "attached_to": node.attached_to,
            "interrupting": unless(node.cancel_activity, True),
        }


EVENT_ENTRIES: tuple[type[EventEntry], ...] = (
    StartEventEntry,
    EndEventEntry,
    IntermediateCatchEventEntry,
    IntermediateThrowEventEntry,
    BoundaryEventEntry,
)
