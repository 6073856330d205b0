"""Token flow: sequences, exclusive and parallel gateways, scripts, variables."""

from __future__ import annotations

import json

import pytest

from apg_workflow.engine import Start, step
from apg_workflow.model import ExclusiveGateway, ParallelGateway, Task

from .builders import END, START, definitions, flows, script
from .conftest import EngineFactory, make_sandbox


def test_a_sequence_of_scripts_runs_to_the_end(engine: EngineFactory) -> None:
    d = definitions(
        [START, script("a", "x = 1"), script("b", "y = x + 1"), END],
        ["start > a > b > end"],
    )
    run = engine(d)
    eid = run.start()
    assert run.status(eid) == "completed"
    assert run.variables(eid) == {"x": 1, "y": 2}
    assert run.completed(eid) == ["start", "a", "b", "end"]
    assert run.active(eid) == []


def test_start_variables_reach_the_process(engine: EngineFactory) -> None:
    run = engine(definitions([START, script("a", "total = price * qty"), END], ["start > a > end"]))
    eid = run.start(variables={"price": 3, "qty": 4})
    assert run.variables(eid)["total"] == 12


@pytest.mark.parametrize(("amount", "taken"), [(5, "small"), (50, "big"), (500, "huge")])
def test_exclusive_gateway_takes_the_first_true_flow_else_the_default(
    engine: EngineFactory, amount: int, taken: str
) -> None:
    d = definitions(
        [
            START,
            ExclusiveGateway(id="g", default="f_g_huge"),
            Task(id="small"),
            Task(id="big"),
            Task(id="huge"),
            END,
        ],
        [
            "start > g",
            "g > small [amount < 10]",
            "g > big [amount < 100]",
            "g > huge",
            "small > end",
            "big > end",
            "huge > end",
        ],
    )
    run = engine(d)
    eid = run.start(variables={"amount": amount})
    assert run.completed(eid) == ["start", "g", taken, "end"]


def test_exclusive_gateway_without_a_true_flow_opens_an_incident_and_retries(engine: EngineFactory) -> None:
    d = definitions(
        [START, ExclusiveGateway(id="g"), Task(id="a"), END],
        ["start > g", "g > a [ok]", "a > end"],
    )
    run = engine(d)
    eid = run.start(variables={"ok": False})
    assert run.status(eid) == "running"
    [(incident_id, (_, element, message))] = run.incidents.items()
    assert element == "g" and "no condition holds" in message
    run.retry_incident(incident_id, {"ok": True})
    assert run.status(eid) == "completed"
    assert run.completed(eid)[-2:] == ["a", "end"]


def test_parallel_split_and_join(engine: EngineFactory) -> None:
    d = definitions(
        [
            START,
            ParallelGateway(id="split"),
            script("a", "a = 1"),
            script("b", "b = 2"),
            ParallelGateway(id="join"),
            script("c", "c = a + b"),
            END,
        ],
        ["start > split > a > join", "split > b > join", "join > c > end"],
    )
    run = engine(d)
    eid = run.start()
    assert run.status(eid) == "completed"
    assert run.variables(eid)["c"] == 3
    assert run.completed(eid).count("join") == 1


def test_parallel_join_inside_a_loop_fires_once_per_round(engine: EngineFactory) -> None:
    d = definitions(
        [
            START,
            script("init", "n = 0"),
            ExclusiveGateway(id="m"),
            ParallelGateway(id="split"),
            script("a", "n = n + 1"),
            Task(id="b"),
            ParallelGateway(id="join"),
            ExclusiveGateway(id="again", default="f_again_end"),
            END,
        ],
        [
            "start > init > m > split > a > join",
            "split > b > join",
            "join > again",
            "again > m [n < 3]",
            "again > end",
        ],
    )
    run = engine(d)
    eid = run.start()
    assert run.status(eid) == "completed"
    assert run.variables(eid)["n"] == 3
    assert run.completed(eid).count("join") == 3
    assert run.state(eid)["joins"] == {}


def test_a_thousand_loop_rounds_run_in_one_step(engine: EngineFactory) -> None:
    d = definitions(
        [START, script("inc", "i = i + 1"), ExclusiveGateway(id="g", default="f_g_end"), END],
        ["start > inc > g", "g > inc [i < 1000]", "g > end"],
    )
    run = engine(d)
    eid = run.start(variables={"i": 0})
    assert run.variables(eid)["i"] == 1000
    assert run.status(eid) == "completed"
    assert len(run.history(eid)) > 3000
    assert len(json.dumps(run.state(eid))) < 500  # the state keeps what is live, not the history


def test_a_failing_script_opens_an_incident_that_a_retry_with_fixed_data_resolves(
    engine: EngineFactory,
) -> None:
    run = engine(definitions([START, script("a", "y = 10 / x"), END], ["start > a > end"]))
    eid = run.start(variables={"x": 0})
    [(incident_id, (_, element, message))] = run.incidents.items()
    assert (element == "a" and "ZeroDivisionError" in message) or "division" in message
    assert run.active(eid) == ["a"]
    run.retry_incident(incident_id, {"x": 2})
    assert run.variables(eid)["y"] == 5
    assert run.status(eid) == "completed"
    assert not run.incidents


def test_history_records_activation_completion_and_variable_changes(engine: EngineFactory) -> None:
    run = engine(definitions([START, script("a", "x = 1"), END], ["start > a > end"]))
    eid = run.start()
    events = [(h["event"], h["element_id"]) for h in run.history(eid)]
    assert events[0] == ("execution.started", "p")
    assert ("element.activated", "a") in events
    assert ("variables.changed", "a") in events
    assert events[-1] == ("execution.completed", "p")
    assert all(h["at"] == run.now.isoformat() for h in run.history(eid))


def test_step_refuses_commands_for_missing_or_finished_executions() -> None:
    from apg_workflow.engine import CompleteUserTask, Rejected, compile_program

    program = compile_program(definitions([START, END], ["start > end"]), sandbox=make_sandbox())
    now = __import__("datetime").datetime(2025, 1, 1)
    state, effects = step(program, None, CompleteUserTask(task_id="x"), now)
    assert state is None and isinstance(effects[0], Rejected)
    done, _ = step(program, None, Start(execution_id="e"), now)
    assert done is not None and done["status"] == "completed"
    again, effects = step(program, done, CompleteUserTask(task_id="x"), now)
    assert again == done and isinstance(effects[0], Rejected)


def test_flows_helper_builds_conditions() -> None:
    [flow] = flows("a > b [x > 1]")
    assert flow.condition is not None and flow.condition.text == "x > 1"
