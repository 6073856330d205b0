"""References by id: the messages, signals, errors and escalations events and tasks name, the
activity a compensation event names, and the process a call activity calls."""

from __future__ import annotations

import difflib
from collections.abc import Iterator

from apg_workflow.model.activities import Activity, CallActivity, ReceiveTask, SendTask
from apg_workflow.model.base import Element
from apg_workflow.model.errors import Problem
from apg_workflow.model.events import (
    CompensateDefinition,
    ErrorDefinition,
    EscalationDefinition,
    Event,
    EventDefinition,
    MessageDefinition,
    SignalDefinition,
)
from apg_workflow.model.validation.context import Context, Scope, describe
from apg_workflow.model.validation.rules import RuleSet

# Event definition class → (what it refers to, the field holding the id, whether one is needed).
_REFERENCES: dict[type[EventDefinition], tuple[str, str, bool]] = {
    MessageDefinition: ("message", "message_ref", True),
    SignalDefinition: ("signal", "signal_ref", True),
    ErrorDefinition: ("error", "error_ref", False),  # none: catches (or throws) any error
    EscalationDefinition: ("escalation", "escalation_ref", False),
}


def event_references(context: Context, scope: Scope, event: Event) -> Iterator[Problem]:
    for definition in event.definitions:
        entry = _REFERENCES.get(type(definition))
        if entry is not None:
            kind, field, required = entry
            yield from _reference(context, scope, event, kind, getattr(definition, field), required=required)
        if isinstance(definition, CompensateDefinition) and definition.activity_ref:
            home = context.homes.get(definition.activity_ref)
            if home is None or not isinstance(home[1], Activity):
                yield scope.error(
                    "unknown-activity-ref",
                    f"{describe(event)} compensates '{definition.activity_ref}', which is not an "
                    "activity of this file",
                    event,
                )


def task_messages(context: Context, scope: Scope, task: SendTask | ReceiveTask) -> Iterator[Problem]:
    required = isinstance(task, ReceiveTask)
    yield from _reference(context, scope, task, "message", task.message_ref, required=required)


def called_process(context: Context, scope: Scope, call: CallActivity) -> Iterator[Problem]:
    called = call.called_element
    if called and called.strip() and called not in context.process_ids:
        yield scope.info(
            "external-call",
            f"{describe(call)} calls '{called}', which is not a process of this file: it must be deployed, "
            "or given to `run` as another file",
            call,
        )


def _reference(
    context: Context, scope: Scope, element: Element, kind: str, ref: str | None, *, required: bool
) -> Iterator[Problem]:
    if ref is None or not ref.strip():
        if required:
            yield scope.warning(
                f"missing-{kind}-ref",
                f"{describe(element)} names no {kind}: it cannot be matched; name the {kind} it "
                "waits for or sends",
                element,
            )
        return
    defined = context.defined[kind]
    if ref in defined:
        return
    close = difflib.get_close_matches(ref, sorted(defined), n=1)
    hint = f"; did you mean '{close[0]}'?" if close else f": declare the {kind} in the file"
    yield scope.error(
        f"unknown-{kind}",
        f"{describe(element)} refers to {kind} '{ref}', which the file does not define{hint}",
        element,
    )


RULES = RuleSet(
    node=(
        (Event, event_references),
        ((SendTask, ReceiveTask), task_messages),
        (CallActivity, called_process),
    ),
)
