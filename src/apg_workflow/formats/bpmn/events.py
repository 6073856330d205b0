"""Events (start, end, intermediate catch / throw, boundary) and their event definitions."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from lxml import etree

from apg_workflow.formats.bpmn import registry
from apg_workflow.formats.bpmn.extensions.apg import apg_extensions
from apg_workflow.formats.bpmn.formal_expressions import read_expression
from apg_workflow.formats.bpmn.namespaces import bpmn
from apg_workflow.formats.bpmn.reading import (
    ID,
    NAMED,
    Draft,
    ElementSpec,
    ReadContext,
    boolean,
    reader_for,
    reference,
    text,
)
from apg_workflow.formats.bpmn.registry import Category
from apg_workflow.formats.bpmn.writing import (
    WriteContext,
    connections,
    element,
    expression,
    flag,
    optional_flag,
    write,
)
from apg_workflow.formats.bpmn.xmlout import Node
from apg_workflow.model import (
    BoundaryEvent,
    CancelDefinition,
    CompensateDefinition,
    ConditionalDefinition,
    EndEvent,
    ErrorDefinition,
    EscalationDefinition,
    Event,
    EventDefinition,
    Expression,
    IntermediateCatchEvent,
    IntermediateThrowEvent,
    LinkDefinition,
    MessageDefinition,
    SignalDefinition,
    StartEvent,
    TerminateDefinition,
    TimerDefinition,
    TimerKind,
)

_TIMER_TAGS = {"timeDate": TimerKind.DATE, "timeDuration": TimerKind.DURATION, "timeCycle": TimerKind.CYCLE}
_TIMER_TAG_OF = {kind: tag for tag, kind in _TIMER_TAGS.items()}
_EMPTY = Expression("")

# Event definitions ---------------------------------------------------------------------------


def _timer_expression(child: etree._Element, draft: Draft, context: ReadContext) -> bool:
    if not draft.free("expression"):
        return False
    draft.set("timer", _TIMER_TAGS[etree.QName(child).localname])
    draft.set("expression", read_expression(child, context))
    return True


def _condition(child: etree._Element, draft: Draft, context: ReadContext) -> bool:
    return draft.offer("condition", read_expression(child, context))


def _spec(cls: type, attributes: Mapping[str, tuple[str, Any]] = ID, **options: Any) -> ElementSpec:
    return ElementSpec(cls, attributes=MappingProxyType(dict(attributes)), **options)


_DEFINITIONS: dict[str, ElementSpec] = {
    "timerEventDefinition": _spec(
        TimerDefinition,
        children={bpmn(tag): _timer_expression for tag in _TIMER_TAGS},
        defaults={"timer": TimerKind.DURATION, "expression": _EMPTY},
    ),
    "messageEventDefinition": _spec(MessageDefinition, {**ID, "messageRef": ("message_ref", reference)}),
    "signalEventDefinition": _spec(SignalDefinition, {**ID, "signalRef": ("signal_ref", reference)}),
    "errorEventDefinition": _spec(ErrorDefinition, {**ID, "errorRef": ("error_ref", reference)}),
    "escalationEventDefinition": _spec(
        EscalationDefinition, {**ID, "escalationRef": ("escalation_ref", reference)}
    ),
    "terminateEventDefinition": _spec(TerminateDefinition),
    "conditionalEventDefinition": _spec(
        ConditionalDefinition, children={bpmn("condition"): _condition}, defaults={"condition": _EMPTY}
    ),
    "linkEventDefinition": _spec(LinkDefinition, {**ID, "name": ("link_name", text)}),
    "compensateEventDefinition": _spec(
        CompensateDefinition,
        {
            **ID,
            "activityRef": ("activity_ref", reference),
            "waitForCompletion": ("wait_for_completion", boolean),
        },
    ),
    "cancelEventDefinition": _spec(CancelDefinition),
}


for _local, _definition_spec in _DEFINITIONS.items():
    registry.EVENT_DEFINITION_READERS[bpmn(_local)] = reader_for(_definition_spec)


def _is_empty(value: Expression) -> bool:
    return value == _EMPTY


def _definition(
    local: str,
    definition: EventDefinition,
    attributes: list[tuple[str, str | None]],
    children: list[Node] | None = None,
) -> Node:
    return element(local, definition, attributes, children or [], apg_extensions(definition))


@registry.writer(TimerDefinition)
def _write_timer(value: TimerDefinition, context: WriteContext) -> Node:
    # An empty duration is how a timer without any time element reads, so it writes as one.
    empty = value.timer is TimerKind.DURATION and _is_empty(value.expression)
    children = [] if empty else [expression(_TIMER_TAG_OF[value.timer], value.expression)]
    return _definition("timerEventDefinition", value, [], children)


@registry.writer(ConditionalDefinition)
def _write_conditional(value: ConditionalDefinition, context: WriteContext) -> Node:
    children = [] if _is_empty(value.condition) else [expression("condition", value.condition)]
    return _definition("conditionalEventDefinition", value, [], children)


@registry.writer(MessageDefinition)
def _write_message(value: MessageDefinition, context: WriteContext) -> Node:
    return _definition("messageEventDefinition", value, [("messageRef", value.message_ref)])


@registry.writer(SignalDefinition)
def _write_signal(value: SignalDefinition, context: WriteContext) -> Node:
    return _definition("signalEventDefinition", value, [("signalRef", value.signal_ref)])


@registry.writer(ErrorDefinition)
def _write_error(value: ErrorDefinition, context: WriteContext) -> Node:
    return _definition("errorEventDefinition", value, [("errorRef", value.error_ref)])


@registry.writer(EscalationDefinition)
def _write_escalation(value: EscalationDefinition, context: WriteContext) -> Node:
    return _definition("escalationEventDefinition", value, [("escalationRef", value.escalation_ref)])


@registry.writer(LinkDefinition)
def _write_link(value: LinkDefinition, context: WriteContext) -> Node:
    return _definition("linkEventDefinition", value, [("name", value.link_name)])


@registry.writer(CompensateDefinition)
def _write_compensate(value: CompensateDefinition, context: WriteContext) -> Node:
    attributes = [("activityRef", value.activity_ref), ("waitForCompletion", flag(value.wait_for_completion))]
    return _definition("compensateEventDefinition", value, attributes)


@registry.writer(TerminateDefinition, CancelDefinition)
def _write_plain(value: EventDefinition, context: WriteContext) -> Node:
    return _definition(f"{value.TYPE}EventDefinition", value, [])


# Events --------------------------------------------------------------------------------------


def _event_definition(child: etree._Element, draft: Draft, context: ReadContext) -> bool:
    reader = registry.EVENT_DEFINITION_READERS[child.tag]
    draft.values.setdefault("definitions", []).append(reader(child, context))
    return True


_EVENT_CHILDREN = MappingProxyType({tag: _event_definition for tag in registry.EVENT_DEFINITION_READERS})
_EVENT_ATTRIBUTES = {**NAMED, "parallelMultiple": ("parallel_multiple", boolean)}
_EVENTS: dict[str, ElementSpec] = {
    "startEvent": _spec(
        StartEvent,
        {**_EVENT_ATTRIBUTES, "isInterrupting": ("is_interrupting", boolean)},
        children=_EVENT_CHILDREN,
        required=("id",),
    ),
    "endEvent": _spec(EndEvent, _EVENT_ATTRIBUTES, children=_EVENT_CHILDREN, required=("id",)),
    "intermediateCatchEvent": _spec(
        IntermediateCatchEvent, _EVENT_ATTRIBUTES, children=_EVENT_CHILDREN, required=("id",)
    ),
    "intermediateThrowEvent": _spec(
        IntermediateThrowEvent, _EVENT_ATTRIBUTES, children=_EVENT_CHILDREN, required=("id",)
    ),
    "boundaryEvent": _spec(
        BoundaryEvent,
        {
            **_EVENT_ATTRIBUTES,
            "attachedToRef": ("attached_to", reference),
            "cancelActivity": ("cancel_activity", boolean),
        },
        children=_EVENT_CHILDREN,
        required=("id", "attachedToRef"),
    ),
}


for _local, _event_spec in _EVENTS.items():
    registry.flow_reader(Category.NODE, bpmn(_local))(reader_for(_event_spec))


@registry.writer(StartEvent, EndEvent, IntermediateCatchEvent, IntermediateThrowEvent, BoundaryEvent)
def _write_event(event: Event, context: WriteContext) -> Node:
    attributes: list[tuple[str, str | None]] = [("name", event.name)]
    if isinstance(event, StartEvent):
        attributes.append(("isInterrupting", optional_flag(event.is_interrupting, True)))
    if isinstance(event, BoundaryEvent):
        attributes += [("cancelActivity", flag(event.cancel_activity)), ("attachedToRef", event.attached_to)]
    attributes.append(("parallelMultiple", optional_flag(event.parallel_multiple, False)))
    children = [*connections(event.id, context), *(write(d, context) for d in event.definitions)]
    return element(event.KIND.value, event, attributes, children, apg_extensions(event))
