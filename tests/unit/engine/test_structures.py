"""Inclusive gateways, loops, multi-instance, call activities and event sub-processes."""

from __future__ import annotations

from datetime import timedelta

import pytest

from apg_workflow.model import (
    CallActivity,
    EndEvent,
    ErrorDefinition,
    Expression,
    InclusiveGateway,
    MessageDefinition,
    MultiInstance,
    Process,
    StandardLoop,
    StartEvent,
    SubProcess,
    Task,
    TimerDefinition,
    TimerKind,
    UserTask,
)

from .builders import END, START, definitions, flows, mapping, script, sub
from .conftest import EngineFactory


def _inclusive() -> object:
    return definitions(
        [
            START,
            InclusiveGateway(id="split", default="f_split_c"),
            script("a", "done_a = True"),
            UserTask(id="b"),
            script("c", "done_c = True"),
            InclusiveGateway(id="join"),
            script("after", "joined = True"),
            END,
        ],
        [
            "start > split",
            "split > a [x > 1]",
            "split > b [x > 2]",
            "split > c",
            "a > join",
            "b > join",
            "c > join",
            "join > after > end",
        ],
    )


def test_inclusive_join_after_a_split_where_only_some_conditions_hold(engine: EngineFactory) -> None:
    run = engine(_inclusive())
    eid = run.start(variables={"x": 2})  # only the flow to a holds
    assert run.status(eid) == "completed"
    assert run.variables(eid) == {"x": 2, "done_a": True, "joined": True}
    assert run.completed(eid).count("join") == 1


def test_inclusive_join_waits_for_a_branch_still_running(engine: EngineFactory) -> None:
    run = engine(_inclusive())
    eid = run.start(variables={"x": 5})  # a and b taken; b is a user task
    assert run.active(eid) == ["b"]
    assert "joined" not in run.variables(eid)
    run.complete_task(run.tasks(eid)[0].task_id)
    assert run.variables(eid)["joined"] is True
    assert run.completed(eid).count("join") == 1 and run.status(eid) == "completed"


def test_inclusive_split_takes_the_default_when_nothing_holds(engine: EngineFactory) -> None:
    run = engine(_inclusive())
    eid = run.start(variables={"x": 0})
    assert run.variables(eid) == {"x": 0, "done_c": True, "joined": True}


def test_inclusive_join_fires_once_when_every_branch_finishes_in_the_same_step(engine: EngineFactory) -> None:
    nodes = [
        START,
        InclusiveGateway(id="split"),
        script("a", "done_a = True"),
        script("b", "done_b = True"),
        InclusiveGateway(id="join"),
        script("after", "runs = runs + 1"),
        END,
    ]
    paths = [
        "start > split",
        "split > a [x > 1]",
        "split > b [x > 2]",
        "a > join",
        "b > join",
        "join > after > end",
    ]
    run = engine(definitions(nodes, paths))
    eid = run.start(variables={"x": 5, "runs": 0})  # a and b run at once, both reach the join
    assert run.variables(eid) == {"x": 5, "runs": 1, "done_a": True, "done_b": True}
    assert run.completed(eid).count("join") == 1 and run.status(eid) == "completed"


def test_standard_loop_repeats_while_its_condition_holds(engine: EngineFactory) -> None:
    task = script("inc", "n = n + 1", loop=StandardLoop(condition=Expression("n < 5")))
    run = engine(definitions([START, task, END], ["start > inc > end"]))
    eid = run.start(variables={"n": 0})
    assert run.variables(eid) == {"n": 5}


def test_standard_loop_test_before_and_maximum(engine: EngineFactory) -> None:
    never = script("never", "n = n + 1", loop=StandardLoop(condition=Expression("n < 0"), test_before=True))
    capped = script("capped", "m = m + 1", loop=StandardLoop(condition=Expression("True"), maximum=3))
    run = engine(definitions([START, never, capped, END], ["start > never > capped > end"]))
    eid = run.start(variables={"n": 0, "m": 0})
    assert run.variables(eid) == {"n": 0, "m": 3}


def test_parallel_multi_instance_over_a_collection_with_an_output_collection(engine: EngineFactory) -> None:
    task = UserTask(
        id="review",
        loop=MultiInstance(
            input_collection=Expression("papers"),
            input_element="paper",
            output_collection="scores",
            output_element=Expression("score"),
        ),
    )
    run = engine(definitions([START, task, END], ["start > review > end"]))
    eid = run.start(variables={"papers": ["p1", "p2", "p3"]})
    tasks = run.tasks(eid)
    assert [t.variables["paper"] for t in tasks] == ["p1", "p2", "p3"]
    assert [t.variables["loopCounter"] for t in tasks] == [0, 1, 2]
    for task_view, score in zip(reversed(tasks), (30, 20, 10), strict=True):  # complete out of order
        run.complete_task(task_view.task_id, {"score": score})
    assert run.status(eid) == "completed"
    assert run.variables(eid)["scores"] == [10, 20, 30]
    assert "paper" not in run.variables(eid) and "loopCounter" not in run.variables(eid)


def test_sequential_multi_instance_using_loop_counter(engine: EngineFactory) -> None:
    task = script(
        "step",
        "trace = trace + [loopCounter * 10]",
        loop=MultiInstance(sequential=True, cardinality=Expression("3")),
    )
    run = engine(definitions([START, task, END], ["start > step > end"]))
    eid = run.start(variables={"trace": []})
    assert run.variables(eid) == {"trace": [0, 10, 20]}


def test_multi_instance_completion_condition_cancels_the_rest(engine: EngineFactory) -> None:
    task = UserTask(
        id="vote",
        loop=MultiInstance(
            cardinality=Expression("5"), completion_condition=Expression("nrOfCompletedInstances >= 2")
        ),
    )
    run = engine(definitions([START, task, END], ["start > vote > end"]))
    eid = run.start()
    assert len(run.tasks(eid)) == 5
    for view in run.tasks(eid)[:2]:
        run.complete_task(view.task_id)
    assert run.status(eid) == "completed" and run.tasks(eid) == []


def test_multi_instance_sub_process_instances_have_their_own_scopes(engine: EngineFactory) -> None:
    body = sub(
        "each",
        [StartEvent(id="s1"), script("work", "total = total + item"), EndEvent(id="e1")],
        ["s1 > work > e1"],
        loop=MultiInstance(input_collection=Expression("items"), input_element="item"),
    )
    run = engine(definitions([START, body, END], ["start > each > end"]))
    eid = run.start(variables={"items": [1, 2, 3], "total": 0})
    assert run.variables(eid) == {"items": [1, 2, 3], "total": 6}


def _callee(process_id: str = "child", nodes: tuple = (), paths: tuple = ()) -> Process:
    nodes = nodes or (StartEvent(id="cs"), script("double", "doubled = value * 2"), EndEvent(id="ce"))
    paths = paths or ("cs > double > ce",)
    return Process(id=process_id, nodes=tuple(nodes), flows=tuple(flows(*paths)))


def test_a_call_activity_maps_variables_in_and_out(engine: EngineFactory) -> None:
    call = CallActivity(
        id="call",
        called_element="child",
        inputs=(mapping("value", "amount"),),
        outputs=(mapping("result", "doubled"),),
    )
    d = definitions([START, call, END], ["start > call > end"], more=[_callee()])
    run = engine(d)
    eid = run.start(variables={"amount": 21})
    assert run.status(eid) == "completed"
    assert run.variables(eid) == {"amount": 21, "result": 42}
    assert run.completed(eid) == ["start", "cs", "double", "ce", "call", "end"]


def test_a_call_activity_with_propagate_all_waits_for_the_child(engine: EngineFactory) -> None:
    callee = _callee(
        nodes=(StartEvent(id="cs"), UserTask(id="approve"), EndEvent(id="ce")), paths=("cs > approve > ce",)
    )
    call = CallActivity(id="call", called_element="child", propagate_all=True)
    run = engine(
        [definitions([START, call, END], ["start > call > end"]), definitions([], [], more=[callee])]
    )
    eid = run.start(variables={"who": "ana"})
    [task] = run.tasks()
    assert task.variables == {"who": "ana"}
    assert run.active(eid) == ["call", "approve"]
    run.complete_task(task.task_id, {"approved": True})
    assert run.variables(eid) == {"who": "ana", "approved": True}


def test_an_error_ending_the_called_process_is_caught_on_the_call_activity(engine: EngineFactory) -> None:
    from apg_workflow.model import BoundaryEvent

    callee = _callee(
        nodes=(StartEvent(id="cs"), EndEvent(id="fail", definitions=(ErrorDefinition(error_ref="E"),))),
        paths=("cs > fail",),
    )
    d = definitions(
        [
            START,
            CallActivity(id="call", called_element="child"),
            BoundaryEvent(id="caught", attached_to="call", definitions=(ErrorDefinition(error_ref="E"),)),
            END,
            EndEvent(id="end2"),
        ],
        ["start > call > end", "caught > end2"],
        more=[callee],
        errors=[("E", "CHILD_ERR")],
    )
    run = engine(d)
    eid = run.start()
    assert run.status(eid) == "completed"
    assert run.completed(eid)[-2:] == ["caught", "end2"]


def test_calling_a_missing_process_opens_an_incident(engine: EngineFactory) -> None:
    run = engine(
        definitions([START, CallActivity(id="call", called_element="nope"), END], ["start > call > end"])
    )
    run.start()
    assert ["the called process failed" in m for _, _, m in run.incidents.values()] == [True]


def _event_subprocess(start: StartEvent) -> SubProcess:
    return sub(
        "esp",
        [start, script("handle", "handled = handled + 1"), EndEvent(id="esp_end")],
        [f"{start.id} > handle > esp_end"],
        triggered_by_event=True,
    )


@pytest.mark.parametrize(
    ("interrupting", "status", "handled"), [(True, "completed", 1), (False, "running", 1)]
)
def test_event_sub_process_on_a_message(
    engine: EngineFactory, interrupting: bool, status: str, handled: int
) -> None:
    start = StartEvent(
        id="esp_start", is_interrupting=interrupting, definitions=(MessageDefinition(message_ref="Stop"),)
    )
    d = definitions(
        [START, UserTask(id="work"), END, _event_subprocess(start)], ["start > work > end"], messages=["Stop"]
    )
    run = engine(d)
    eid = run.start(variables={"handled": 0})
    run.correlate("Stop")
    assert run.status(eid) == status
    assert run.variables(eid)["handled"] == handled
    assert len(run.tasks(eid)) == (0 if interrupting else 1)


def test_non_interrupting_timer_event_sub_process_repeats(engine: EngineFactory) -> None:
    timer = TimerDefinition(timer=TimerKind.CYCLE, expression=Expression("R2/PT1M"))
    start = StartEvent(id="esp_start", is_interrupting=False, definitions=(timer,))
    run = engine(
        definitions([START, UserTask(id="work"), END, _event_subprocess(start)], ["start > work > end"])
    )
    eid = run.start(variables={"handled": 0})
    run.advance(timedelta(minutes=5))
    assert run.variables(eid)["handled"] == 2
    run.complete_task(run.tasks(eid)[0].task_id)
    assert run.status(eid) == "completed"


def test_error_event_sub_process_catches_an_error_of_its_scope(engine: EngineFactory) -> None:
    start = StartEvent(id="esp_start", definitions=(ErrorDefinition(),))
    d = definitions(
        [
            START,
            Task(id="t"),
            EndEvent(id="boom", definitions=(ErrorDefinition(error_ref="E"),)),
            _event_subprocess(start),
        ],
        ["start > t > boom"],
        errors=[("E", "ANY")],
    )
    run = engine(d)
    eid = run.start(variables={"handled": 0})
    assert run.status(eid) == "completed" and run.variables(eid)["handled"] == 1


def test_cancel_and_modify(engine: EngineFactory) -> None:
    d = definitions([START, UserTask(id="a"), UserTask(id="b"), END], ["start > a > b > end"])
    run = engine(d)
    eid = run.start()
    run.modify(eid, cancel=["a"], activate=["b"])
    assert run.active(eid) == ["b"]
    other = run.start()
    run.cancel(other, "no longer needed")
    assert run.status(other) == "cancelled" and run.tasks(other) == []
