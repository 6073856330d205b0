"""Timers, messages, signals, links, conditional events and event-based gateways."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from apg_workflow.model import (
    BoundaryEvent,
    ConditionalDefinition,
    EndEvent,
    EventBasedGateway,
    Expression,
    IntermediateCatchEvent,
    IntermediateThrowEvent,
    LinkDefinition,
    MessageDefinition,
    ParallelGateway,
    SignalDefinition,
    StartEvent,
    TimerDefinition,
    TimerKind,
    UserTask,
)

from .builders import END, START, definitions, mapping, script, sub
from .conftest import EngineFactory


def _wait(node_id: str, definition: object) -> IntermediateCatchEvent:
    return IntermediateCatchEvent(id=node_id, definitions=(definition,))  # type: ignore[arg-type]


def _timer(text: str, kind: TimerKind = TimerKind.DURATION) -> TimerDefinition:
    return TimerDefinition(timer=kind, expression=Expression(text))


def _message(ref: str, key: str | None = None) -> MessageDefinition:
    return MessageDefinition(message_ref=ref, correlation_key=Expression(key) if key else None)


def test_timer_catch_event_waits_for_its_duration(engine: EngineFactory) -> None:
    run = engine(definitions([START, _wait("pause", _timer("PT30M")), END], ["start > pause > end"]))
    eid = run.start()
    assert run.active(eid) == ["pause"]
    run.advance(timedelta(minutes=29))
    assert run.status(eid) == "running"
    assert run.advance_to_next_timer()
    assert run.status(eid) == "completed"
    assert run.now == datetime(2025, 1, 1, 0, 30, tzinfo=UTC)
    assert not run.advance_to_next_timer()


def test_timer_dates_cron_and_expressions(engine: EngineFactory) -> None:
    d = definitions(
        [
            START,
            _wait("date", _timer("2025-01-02T09:00:00+00:00", TimerKind.DATE)),
            _wait("cron", _timer("0 12 * * *", TimerKind.CYCLE)),
            _wait("expr", _timer("delay", TimerKind.DURATION)),
            END,
        ],
        ["start > date > cron > expr > end"],
    )
    run = engine(d)
    eid = run.start(variables={"delay": "PT5M"})
    run.advance_to_next_timer()
    assert run.now == datetime(2025, 1, 2, 9, tzinfo=UTC)
    run.advance_to_next_timer()
    assert run.now == datetime(2025, 1, 2, 12, tzinfo=UTC)
    run.advance_to_next_timer()
    assert run.now == datetime(2025, 1, 2, 12, 5, tzinfo=UTC)
    assert run.status(eid) == "completed"


def test_a_six_field_cron_reads_seconds_first_as_the_scheduler_does(engine: EngineFactory) -> None:
    boundary = BoundaryEvent(
        id="every",
        attached_to="wait",
        cancel_activity=False,
        definitions=(_timer("30 0 */6 * * ?", TimerKind.CYCLE),),  # second 30 of minute 0, every 6 h
    )
    d = definitions(
        [START, UserTask(id="wait"), boundary, script("tick", "ticks = ticks + 1"), END, EndEvent(id="e2")],
        ["start > wait > end", "every > tick > e2"],
    )
    run = engine(d)
    eid = run.start(variables={"ticks": 0})
    run.advance_to_next_timer()
    assert run.now == datetime(2025, 1, 1, 0, 0, 30, tzinfo=UTC)
    run.advance_to_next_timer()
    assert run.now == datetime(2025, 1, 1, 6, 0, 30, tzinfo=UTC)
    assert run.variables(eid)["ticks"] == 2


def test_message_catch_correlates_by_name_and_key(engine: EngineFactory) -> None:
    d = definitions(
        [START, _wait("paid", _message("Payment", "order_id")), script("ship", "shipped = amount"), END],
        ["start > paid > ship > end"],
        messages=["Payment"],
    )
    run = engine(d)
    first = run.start(variables={"order_id": "A"})
    second = run.start(variables={"order_id": "B"})
    assert run.correlate("Payment", "B", {"amount": 20}) == second
    assert run.variables(second)["shipped"] == 20
    assert run.status(first) == "running"


def test_a_message_that_arrives_before_the_subscription_is_buffered(engine: EngineFactory) -> None:
    d = definitions(
        [START, UserTask(id="prepare"), _wait("paid", _message("Payment", "order_id")), END],
        ["start > prepare > paid > end"],
        messages=["Payment"],
    )
    run = engine(d, message_ttl=timedelta(minutes=10))
    eid = run.start(variables={"order_id": "A"})
    assert run.correlate("Payment", "A", {"amount": 5}) is None
    run.complete_task(run.tasks(eid)[0].task_id)
    assert run.status(eid) == "completed"
    assert run.variables(eid)["amount"] == 5


def test_a_buffered_message_expires_after_its_time_to_live(engine: EngineFactory) -> None:
    d = definitions(
        [START, UserTask(id="prepare"), _wait("paid", _message("Payment")), END],
        ["start > prepare > paid > end"],
        messages=["Payment"],
    )
    run = engine(d, message_ttl=timedelta(minutes=10))
    eid = run.start()
    run.correlate("Payment")
    run.advance(timedelta(minutes=11))
    run.complete_task(run.tasks(eid)[0].task_id)
    assert run.active(eid) == ["paid"]


def test_a_signal_is_caught_by_two_executions(engine: EngineFactory) -> None:
    d = definitions(
        [START, _wait("go", SignalDefinition(signal_ref="Go")), END], ["start > go > end"], signals=["Go"]
    )
    run = engine(d)
    first, second = run.start(), run.start()
    assert run.broadcast("Go", {"via": "signal"}) == 2
    assert run.status(first) == run.status(second) == "completed"
    assert run.variables(first) == {"via": "signal"}


def test_a_signal_end_event_reaches_other_executions(engine: EngineFactory) -> None:
    waiter = definitions(
        [START, _wait("go", SignalDefinition(signal_ref="Go")), END], ["start > go > end"], signals=["Go"]
    )
    thrower = definitions(
        [START, EndEvent(id="shout", definitions=(SignalDefinition(signal_ref="Go"),))],
        ["start > shout"],
        process_id="t",
    )
    run = engine([waiter, thrower])
    waiting = run.start()
    run.start("t")
    assert run.status(waiting) == "completed"


def test_a_signal_reaches_the_throwing_execution_once_and_the_others_too(engine: EngineFactory) -> None:
    go = SignalDefinition(signal_ref="Go")
    esp = sub(
        "esp",
        [
            StartEvent(id="esp_start", is_interrupting=False, definitions=(go,)),
            script("count", "caught = caught + 1"),
            EndEvent(id="esp_end"),
        ],
        ["esp_start > count > esp_end"],
        triggered_by_event=True,
    )
    shout = IntermediateThrowEvent(id="shout", definitions=(go,), inputs=(mapping("sent", "True"),))
    d = definitions(
        [
            START,
            ParallelGateway(id="fork"),
            UserTask(id="work"),
            shout,
            END,
            _wait("heard", go),
            EndEvent(id="end2"),
            esp,
        ],
        ["start > fork > work > shout > end", "fork > heard > end2"],
        signals=["Go"],
    )
    run = engine(d)
    thrower, other = run.start(variables={"caught": 0}), run.start(variables={"caught": 0})
    run.complete_task(next(t.task_id for t in run.tasks(thrower)))
    assert run.status(thrower) == "completed"
    assert run.variables(thrower) == {"caught": 1, "sent": True}  # its own catchers, each once
    assert run.variables(other) == {"caught": 1, "sent": True}
    assert run.active(other) == ["work"]


def test_an_interrupting_event_sub_process_started_by_the_own_signal_cancels_the_thrower(
    engine: EngineFactory,
) -> None:
    go = SignalDefinition(signal_ref="Go")
    esp = sub(
        "esp",
        [StartEvent(id="esp_start", definitions=(go,)), script("handle", "handled = True"), EndEvent(id="e")],
        ["esp_start > handle > e"],
        triggered_by_event=True,
    )
    shout = EndEvent(id="shout", definitions=(go,))
    run = engine(definitions([START, shout, esp], ["start > shout"], signals=["Go"]))
    eid = run.start()
    assert run.status(eid) == "completed" and run.variables(eid) == {"handled": True}
    assert "shout" not in run.completed(eid)
    assert run.broadcast("Go") == 0  # the consumed subscription was dropped


def test_link_throw_jumps_to_the_catch_of_the_same_name(engine: EngineFactory) -> None:
    d = definitions(
        [
            START,
            script("a", "a = 1"),
            IntermediateThrowEvent(id="to", definitions=(LinkDefinition(link_name="L"),)),
            IntermediateCatchEvent(id="from", definitions=(LinkDefinition(link_name="L"),)),
            script("b", "b = a + 1"),
            END,
        ],
        ["start > a > to", "from > b > end"],
    )
    run = engine(d)
    eid = run.start()
    assert run.variables(eid) == {"a": 1, "b": 2}
    assert run.completed(eid) == ["start", "a", "to", "from", "b", "end"]


def _race() -> object:
    return definitions(
        [
            START,
            EventBasedGateway(id="race"),
            _wait("reply", _message("Reply")),
            _wait("timeout", _timer("PT1H")),
            script("on_reply", "outcome = 'reply'"),
            script("on_timeout", "outcome = 'timeout'"),
            END,
            EndEvent(id="end2"),
        ],
        ["start > race", "race > reply > on_reply > end", "race > timeout > on_timeout > end2"],
        messages=["Reply"],
    )


def test_event_based_gateway_where_the_message_wins(engine: EngineFactory) -> None:
    run = engine(_race())
    eid = run.start()
    run.correlate("Reply")
    assert run.variables(eid) == {"outcome": "reply"}
    assert not run.timers and run.status(eid) == "completed"


def test_event_based_gateway_where_the_timer_wins(engine: EngineFactory) -> None:
    run = engine(_race())
    eid = run.start()
    run.advance(timedelta(hours=1))
    assert run.variables(eid) == {"outcome": "timeout"}
    assert run.correlate("Reply") is None  # nobody listens any more: buffered
    assert run.status(eid) == "completed"


def test_conditional_catch_waits_until_its_condition_holds(engine: EngineFactory) -> None:
    d = definitions(
        [
            START,
            UserTask(id="fill"),
            _wait("ready", ConditionalDefinition(condition=Expression("score > 50"))),
            script("go", "went = True"),
            END,
            StartEvent(id="s2"),
            EndEvent(id="e2"),
        ],
        ["start > fill > ready > go > end"],
    )
    run = engine(d)
    eid = run.start(variables={"score": 10})
    run.complete_task(run.tasks(eid)[0].task_id, {"score": 20})
    assert run.active(eid) == ["ready"]
    run.modify(eid, variables={"score": 80})
    assert run.variables(eid)["went"] is True


def test_conditional_boundary_interrupts_when_variables_change(engine: EngineFactory) -> None:
    d = definitions(
        [
            START,
            UserTask(id="a"),
            UserTask(id="b"),
            BoundaryEvent(
                id="cancelled",
                attached_to="b",
                definitions=(ConditionalDefinition(condition=Expression("cancel_order")),),
            ),
            END,
            EndEvent(id="end2"),
        ],
        ["start > a > b > end", "cancelled > end2"],
    )
    run = engine(d)
    eid = run.start(variables={"cancel_order": False})
    run.complete_task(run.tasks(eid)[0].task_id)
    assert run.active(eid) == ["b"]
    run.modify(eid, variables={"cancel_order": True})
    assert run.completed(eid)[-2:] == ["cancelled", "end2"]
    assert run.tasks(eid) == []
