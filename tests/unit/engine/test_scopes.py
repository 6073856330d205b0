"""Sub-processes, variable scopes, boundary events, errors, escalations and terminate."""

from __future__ import annotations

from datetime import timedelta

from apg_workflow.model import (
    BoundaryEvent,
    EndEvent,
    ErrorDefinition,
    EscalationDefinition,
    Expression,
    IntermediateThrowEvent,
    ParallelGateway,
    StartEvent,
    Task,
    TerminateDefinition,
    TimerDefinition,
    TimerKind,
    UserTask,
)

from .builders import END, START, definitions, mapping, script, sub
from .conftest import EngineFactory


def _timer(text: str, kind: TimerKind = TimerKind.DURATION) -> TimerDefinition:
    return TimerDefinition(timer=kind, expression=Expression(text))


def test_sub_process_runs_its_body_and_writes_to_the_process_scope(engine: EngineFactory) -> None:
    body = sub(
        "sp", [StartEvent(id="s1"), script("inner", "x = x + 1"), EndEvent(id="e1")], ["s1 > inner > e1"]
    )
    run = engine(definitions([START, body, END], ["start > sp > end"]))
    eid = run.start(variables={"x": 1})
    assert run.variables(eid) == {"x": 2}
    assert run.completed(eid) == ["start", "s1", "inner", "e1", "sp", "end"]


def test_local_inputs_stay_local_and_outputs_write_outward(engine: EngineFactory) -> None:
    body = sub(
        "sp",
        [StartEvent(id="s1"), script("inner", "doubled = local * 2\nseen = local"), EndEvent(id="e1")],
        ["s1 > inner > e1"],
        inputs=(mapping("local", "x"),),
        outputs=(mapping("result", "doubled"),),
    )
    run = engine(definitions([START, body, END], ["start > sp > end"]))
    eid = run.start(variables={"x": 5})
    assert run.variables(eid) == {"x": 5, "doubled": 10, "seen": 5, "result": 10}
    assert "local" not in run.variables(eid)


def test_a_write_goes_to_the_nearest_scope_holding_the_name(engine: EngineFactory) -> None:
    body = sub(
        "sp",
        [StartEvent(id="s1"), script("inner", "counter = counter + 1\nfresh = 1"), EndEvent(id="e1")],
        ["s1 > inner > e1"],
        inputs=(mapping("counter", "10"),),
        outputs=(mapping("inner_counter", "counter"),),
    )
    run = engine(definitions([START, body, END], ["start > sp > end"]))
    eid = run.start(variables={"counter": 0})
    assert run.variables(eid) == {"counter": 0, "fresh": 1, "inner_counter": 11}


def test_interrupting_timer_boundary_cancels_the_task(engine: EngineFactory) -> None:
    d = definitions(
        [
            START,
            UserTask(id="approve"),
            BoundaryEvent(id="late", attached_to="approve", definitions=(_timer("PT1H"),)),
            script("escalate", "escalated = True"),
            END,
            EndEvent(id="end2"),
        ],
        ["start > approve > end", "late > escalate > end2"],
    )
    run = engine(d)
    eid = run.start()
    assert len(run.tasks(eid)) == 1
    run.advance(timedelta(minutes=59))
    assert run.status(eid) == "running"
    run.advance(timedelta(minutes=1))
    assert run.status(eid) == "completed"
    assert run.tasks(eid) == []
    assert run.variables(eid) == {"escalated": True}
    assert "approve" not in run.completed(eid)
    assert ("element.cancelled", "approve") in [(h["event"], h["element_id"]) for h in run.history(eid)]


def test_non_interrupting_cycle_boundary_fires_while_the_task_stays(engine: EngineFactory) -> None:
    d = definitions(
        [
            START,
            UserTask(id="approve"),
            BoundaryEvent(
                id="remind",
                attached_to="approve",
                cancel_activity=False,
                definitions=(_timer("R3/PT10M", TimerKind.CYCLE),),
            ),
            script("nudge", "reminders = reminders + 1"),
            END,
            EndEvent(id="end2"),
        ],
        ["start > approve > end", "remind > nudge > end2"],
    )
    run = engine(d)
    eid = run.start(variables={"reminders": 0})
    for _ in range(5):
        run.advance(timedelta(minutes=10))
    assert run.variables(eid)["reminders"] == 3
    assert len(run.tasks(eid)) == 1 and not run.timers
    run.complete_task(run.tasks(eid)[0].task_id)
    assert run.status(eid) == "completed"


def test_an_error_in_a_nested_sub_process_is_caught_two_levels_up(engine: EngineFactory) -> None:
    inner = sub(
        "inner",
        [StartEvent(id="s2"), EndEvent(id="boom", definitions=(ErrorDefinition(error_ref="Err"),))],
        ["s2 > boom"],
    )
    outer = sub("outer", [StartEvent(id="s1"), inner, EndEvent(id="e1")], ["s1 > inner > e1"])
    d = definitions(
        [
            START,
            outer,
            BoundaryEvent(id="caught", attached_to="outer", definitions=(ErrorDefinition(error_ref="Err"),)),
            script("handle", "handled = True"),
            END,
            EndEvent(id="end2"),
        ],
        ["start > outer > end", "caught > handle > end2"],
        errors=[("Err", "PAYMENT_FAILED")],
    )
    run = engine(d)
    eid = run.start()
    assert run.status(eid) == "completed"
    assert run.variables(eid) == {"handled": True}
    assert run.completed(eid) == ["start", "s1", "s2", "caught", "handle", "end2"]


def test_an_error_code_from_a_job_is_caught_by_a_boundary_matching_the_code(engine: EngineFactory) -> None:
    from apg_workflow.engine.memory_driver import JobError
    from apg_workflow.model import ComponentRef, ServiceTask

    task = ServiceTask(id="pay", component=ComponentRef(type="pay"))
    d = definitions(
        [
            START,
            task,
            BoundaryEvent(id="declined", attached_to="pay", definitions=(ErrorDefinition(error_ref="E"),)),
            END,
            EndEvent(id="end2"),
        ],
        ["start > pay > end", "declined > end2"],
        errors=[("E", "CARD_DECLINED")],
    )
    run = engine(d)

    def decline(job: object) -> None:
        raise JobError("declined by bank", error_code="CARD_DECLINED")

    run.register_job_handler("pay", decline)
    eid = run.start()
    assert run.completed(eid) == ["start", "declined", "end2"]


def test_an_uncaught_error_fails_the_execution_naming_the_error_and_element(engine: EngineFactory) -> None:
    d = definitions(
        [
            START,
            ParallelGateway(id="fork"),
            UserTask(id="wait"),
            EndEvent(id="boom", name="Out of stock", definitions=(ErrorDefinition(error_ref="E"),)),
        ],
        ["start > fork > boom", "fork > wait"],
        errors=[("E", "NO_STOCK")],
    )
    run = engine(d)
    eid = run.start()
    assert run.status(eid) == "failed"
    error = run.error(eid)
    assert error is not None and "NO_STOCK" in error and "Out of stock" in error
    assert run.tasks(eid) == [] and run.active(eid) == []


def test_terminate_inside_a_sub_process_ends_only_that_scope(engine: EngineFactory) -> None:
    body = sub(
        "sp",
        [
            StartEvent(id="s1"),
            ParallelGateway(id="fork"),
            UserTask(id="slow"),
            EndEvent(id="stop", definitions=(TerminateDefinition(),)),
        ],
        ["s1 > fork > stop", "fork > slow"],
    )
    d = definitions(
        [
            START,
            ParallelGateway(id="split"),
            body,
            UserTask(id="outside"),
            script("after", "after = True"),
            END,
            EndEvent(id="end2"),
        ],
        ["start > split > sp > after > end", "split > outside > end2"],
    )
    run = engine(d)
    eid = run.start()
    assert run.variables(eid) == {"after": True}
    assert [t.element_id for t in run.tasks(eid)] == ["outside"]
    assert run.status(eid) == "running"
    run.complete_task(run.tasks(eid)[0].task_id)
    assert run.status(eid) == "completed"


def test_escalation_caught_by_a_non_interrupting_boundary_lets_the_sub_process_go_on(
    engine: EngineFactory,
) -> None:
    body = sub(
        "sp",
        [
            StartEvent(id="s1"),
            IntermediateThrowEvent(id="esc", definitions=(EscalationDefinition(escalation_ref="X"),)),
            script("more", "more = True"),
            EndEvent(id="e1"),
        ],
        ["s1 > esc > more > e1"],
    )
    d = definitions(
        [
            START,
            body,
            BoundaryEvent(
                id="heard",
                attached_to="sp",
                cancel_activity=False,
                definitions=(EscalationDefinition(escalation_ref="X"),),
            ),
            script("notify", "notified = True"),
            END,
            EndEvent(id="end2"),
        ],
        ["start > sp > end", "heard > notify > end2"],
        escalations=[("X", "LATE")],
    )
    run = engine(d)
    eid = run.start()
    assert run.status(eid) == "completed"
    assert run.variables(eid) == {"notified": True, "more": True}


def test_an_uncaught_escalation_changes_nothing(engine: EngineFactory) -> None:
    d = definitions(
        [
            START,
            IntermediateThrowEvent(id="esc", definitions=(EscalationDefinition(escalation_ref="X"),)),
            Task(id="t"),
            END,
        ],
        ["start > esc > t > end"],
    )
    run = engine(d)
    eid = run.start()
    assert run.status(eid) == "completed"
