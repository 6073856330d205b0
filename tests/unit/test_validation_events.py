"""Event rules: triggers by position, boundary events, timers, links, flow directions, references."""

from __future__ import annotations

import pytest

from apg_workflow import model as m
from apg_workflow.model import Severity
from tests.unit.test_validation import chain, codes, flow, one, problems_of, process, sub_process


def timer(kind: m.TimerKind, text: str) -> m.TimerDefinition:
    return m.TimerDefinition(timer=kind, expression=m.Expression(text))


def _around(event: m.Event) -> m.Process:
    """start → event → end (for catch and throw events)."""
    return process(m.StartEvent(id="s"), event, m.EndEvent(id="e"), flows=chain("s", event.id, "e"))


def _on_task(boundary: m.BoundaryEvent) -> m.Process:
    return process(
        m.StartEvent(id="s"),
        m.Task(id="t"),
        boundary,
        m.EndEvent(id="e"),
        m.EndEvent(id="after"),
        flows=(*chain("s", "t", "e"), flow(boundary.id, "after")),
    )


def test_an_intermediate_catch_event_needs_a_trigger() -> None:
    problem = one(
        problems_of(_around(m.IntermediateCatchEvent(id="c"))), "missing-trigger", "c", Severity.ERROR
    )
    assert "an intermediate catch event needs one of" in problem.message


def test_a_none_boundary_event_is_an_error() -> None:
    one(
        problems_of(_on_task(m.BoundaryEvent(id="b", attached_to="t"))),
        "missing-trigger",
        "b",
        Severity.ERROR,
    )


def test_a_trigger_not_allowed_where_the_event_stands() -> None:
    start = m.StartEvent(id="s", definitions=(m.TerminateDefinition(),))
    found = problems_of(process(start, m.EndEvent(id="e"), flows=chain("s", "e")))
    one(found, "invalid-trigger", "s", Severity.ERROR)
    inner = sub_process(
        "sub",
        m.StartEvent(id="is", definitions=(timer(m.TimerKind.DURATION, "PT1M"),)),
        m.EndEvent(id="ie"),
        flows=chain("is", "ie"),
    )
    found = problems_of(
        process(m.StartEvent(id="s"), inner, m.EndEvent(id="e"), flows=chain("s", "sub", "e"))
    )
    assert "must have no trigger" in one(found, "invalid-trigger", "is", Severity.ERROR).message


def test_an_event_sub_process_start_needs_a_trigger() -> None:
    handler = sub_process(
        "h", m.StartEvent(id="hs"), m.EndEvent(id="he"), flows=chain("hs", "he"), triggered_by_event=True
    )
    found = problems_of(process(m.StartEvent(id="s"), m.EndEvent(id="e"), handler, flows=chain("s", "e")))
    one(found, "missing-trigger", "hs", Severity.ERROR)


def test_flows_into_start_and_boundary_events_and_out_of_end_events() -> None:
    found = problems_of(
        process(
            m.StartEvent(id="s"),
            m.Task(id="t"),
            m.BoundaryEvent(id="b", attached_to="t", definitions=(m.ErrorDefinition(),)),
            m.EndEvent(id="e"),
            flows=(*chain("s", "t", "e"), flow("e", "s", id="back"), flow("t", "b", id="into_b")),
        )
    )
    one(found, "start-event-incoming", "s", Severity.ERROR)
    one(found, "end-event-outgoing", "e", Severity.ERROR)
    one(found, "boundary-incoming", "b", Severity.ERROR)


@pytest.mark.parametrize(
    ("attached_to", "extra", "code"),
    [
        ("ghost", (), "unknown-boundary-host"),
        ("g", (m.ExclusiveGateway(id="g"),), "boundary-on-invalid-host"),
        ("ev", (m.IntermediateThrowEvent(id="ev"),), "boundary-on-invalid-host"),
    ],
)
def test_boundary_events_attach_to_activities_of_their_container(
    attached_to: str, extra: tuple[m.FlowNode, ...], code: str
) -> None:
    boundary = m.BoundaryEvent(id="b", attached_to=attached_to, definitions=(m.ErrorDefinition(),))
    found = problems_of(
        process(m.StartEvent(id="s"), m.EndEvent(id="e"), boundary, *extra, flows=chain("s", "e"))
    )
    one(found, code, "b", Severity.ERROR)


def test_a_boundary_event_on_an_activity_in_another_sub_process() -> None:
    inner = sub_process(
        "sub",
        m.StartEvent(id="is"),
        m.Task(id="inner"),
        m.EndEvent(id="ie"),
        flows=chain("is", "inner", "ie"),
    )
    boundary = m.BoundaryEvent(id="b", attached_to="inner", definitions=(m.ErrorDefinition(),))
    found = problems_of(
        process(m.StartEvent(id="s"), inner, boundary, m.EndEvent(id="e"), flows=chain("s", "sub", "e"))
    )
    assert "in sub-process 'sub'" in one(found, "boundary-on-invalid-host", "b", Severity.ERROR).message


def test_an_error_boundary_event_always_interrupts() -> None:
    boundary = m.BoundaryEvent(
        id="b", attached_to="t", cancel_activity=False, definitions=(m.ErrorDefinition(),)
    )
    one(problems_of(_on_task(boundary)), "boundary-must-interrupt", "b", Severity.ERROR)


@pytest.mark.parametrize(
    ("kind", "text"),
    [
        (m.TimerKind.DURATION, "PT10M"),
        (m.TimerKind.DURATION, "P1DT12H"),
        (m.TimerKind.DATE, "2025-03-01T09:00:00Z"),
        (m.TimerKind.DATE, "2025-03-01T09:00:00+01:00"),
        (m.TimerKind.CYCLE, "R3/PT10M"),
        (m.TimerKind.CYCLE, "R/P1D"),
        (m.TimerKind.CYCLE, "R5/2025-03-01T09:00:00Z/P1D"),
        (m.TimerKind.CYCLE, "0 9 * * MON-FRI"),
        (m.TimerKind.CYCLE, "0 0 9 * * ?"),
        (m.TimerKind.CYCLE, "*/15 * * * *"),
        (m.TimerKind.CYCLE, "0 0 12 L * ?"),
        (m.TimerKind.CYCLE, "@daily"),
        (m.TimerKind.DURATION, "${reminderDelay}"),
        (m.TimerKind.DATE, "=dueDate"),
    ],
)
def test_timer_values_that_parse(kind: m.TimerKind, text: str) -> None:
    assert problems_of(_around(m.IntermediateCatchEvent(id="c", definitions=(timer(kind, text),)))) == ()


@pytest.mark.parametrize(
    ("kind", "text", "says"),
    [
        (m.TimerKind.DURATION, "2h", "write 'PT2H'"),
        (m.TimerKind.DURATION, "soon", "not an ISO 8601 duration"),
        (m.TimerKind.DATE, "next monday", "not an ISO 8601 date-time"),
        (m.TimerKind.CYCLE, "R3/ten minutes", "not a repeating interval"),
        (m.TimerKind.CYCLE, "every hour", "neither a repeating interval"),
        (m.TimerKind.CYCLE, "0 25 * * *", "the hour '25' is not between 0 and 23"),
        (m.TimerKind.CYCLE, "0 9 * FOO *", "the month 'FOO'"),
        (m.TimerKind.DURATION, " ", "has no duration"),
    ],
)
def test_timer_values_that_do_not_parse(kind: m.TimerKind, text: str, says: str) -> None:
    found = problems_of(_around(m.IntermediateCatchEvent(id="c", definitions=(timer(kind, text),))))
    assert says in one(found, "invalid-timer", "c", Severity.ERROR).message


def test_a_dynamic_timer_is_checked_as_an_expression() -> None:
    found = problems_of(
        _around(m.IntermediateCatchEvent(id="c", definitions=(timer(m.TimerKind.DURATION, "${delay +}"),)))
    )
    one(found, "expression-syntax", "c", Severity.ERROR)


def _link(throw_name: str | None, catch_names: tuple[str, ...]) -> m.Process:
    catches = tuple(
        m.IntermediateCatchEvent(id=f"catch{i}", definitions=(m.LinkDefinition(link_name=name),))
        for i, name in enumerate(catch_names)
    )
    return process(
        m.StartEvent(id="s"),
        m.IntermediateThrowEvent(id="throw", definitions=(m.LinkDefinition(link_name=throw_name),)),
        *catches,
        m.EndEvent(id="e"),
        flows=(flow("s", "throw"), *(flow(c.id, "e") for c in catches)),
    )


def test_a_link_throw_needs_a_catch_of_its_name() -> None:
    assert (
        "no link catch event"
        in one(problems_of(_link("A", ("B",))), "link-no-catch", "throw", Severity.ERROR).message
    )
    assert (
        "no link name" in one(problems_of(_link(None, ())), "link-no-catch", "throw", Severity.ERROR).message
    )
    assert problems_of(_link("A", ("A",))) == ()


def test_two_link_catches_of_one_name() -> None:
    one(problems_of(_link("A", ("A", "A"))), "duplicate-link-catch", "catch1", Severity.ERROR)


def test_references_to_undeclared_messages_signals_errors_and_escalations() -> None:
    found = problems_of(
        process(
            m.StartEvent(id="s", definitions=(m.MessageDefinition(message_ref="Msg_Ordr"),)),
            m.IntermediateThrowEvent(id="sig", definitions=(m.SignalDefinition(signal_ref="Nope"),)),
            m.IntermediateThrowEvent(id="esc", definitions=(m.EscalationDefinition(escalation_ref="Up"),)),
            m.EndEvent(id="e", definitions=(m.ErrorDefinition(error_ref="Err"),)),
            flows=chain("s", "sig", "esc", "e"),
        ),
        messages=(m.Message(id="Msg_Order"),),
    )
    assert "did you mean 'Msg_Order'?" in one(found, "unknown-message", "s", Severity.ERROR).message
    one(found, "unknown-signal", "sig", Severity.ERROR)
    one(found, "unknown-escalation", "esc", Severity.ERROR)
    one(found, "unknown-error", "e", Severity.ERROR)


def test_message_and_signal_events_must_name_what_they_wait_for() -> None:
    found = problems_of(
        process(
            m.StartEvent(id="s", definitions=(m.MessageDefinition(),)),
            m.IntermediateCatchEvent(id="c", definitions=(m.SignalDefinition(),)),
            m.ReceiveTask(id="r"),
            m.EndEvent(id="e", definitions=(m.ErrorDefinition(),)),  # any error: fine
            flows=chain("s", "c", "r", "e"),
        )
    )
    one(found, "missing-message-ref", "s", Severity.WARNING)
    one(found, "missing-signal-ref", "c", Severity.WARNING)
    one(found, "missing-message-ref", "r", Severity.WARNING)
    assert "unknown-error" not in codes(found)


def test_a_compensation_event_names_an_existing_activity() -> None:
    found = problems_of(
        _around(
            m.IntermediateThrowEvent(id="undo", definitions=(m.CompensateDefinition(activity_ref="ghost"),))
        )
    )
    one(found, "unknown-activity-ref", "undo", Severity.ERROR)
