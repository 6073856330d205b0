"""The engine's fast paths change nothing a caller can see.

Elements that complete as soon as a token reaches them (none events, plain tasks and scripts) are
compiled ``immediate``: a token passes them without an instance record. Each scenario here runs
twice, with the program as compiled and with every node forced onto the general path (activate,
begin, complete), and both runs must give the same states, history, incidents and variables.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from apg_workflow.engine import Program, compile_program
from apg_workflow.engine.effects import History
from apg_workflow.engine.memory import MemoryEngine
from apg_workflow.model import (
    Definitions,
    EndEvent,
    ExclusiveGateway,
    ParallelGateway,
    StartEvent,
    Task,
)

from .builders import END, START, definitions, mapping, script, sub
from .conftest import CheckedEngine, EngineFactory, make_sandbox


def _general(program: Program) -> Program:
    """``program`` with every node taking the general path."""
    processes = {
        key: dataclasses.replace(
            proc, nodes={nid: dataclasses.replace(info, immediate=False) for nid, info in proc.nodes.items()}
        )
        for key, proc in program.processes.items()
    }
    return dataclasses.replace(program, processes=processes)


def _trace(engine: MemoryEngine, eid: str) -> dict[str, Any]:
    return {
        "state": engine.state(eid),
        "history": engine.history(eid),
        "incidents": sorted(engine.incidents.values()),
        "completed": engine.completed(eid),
    }


def _both(d: Definitions, variables: dict[str, Any], fix: dict[str, Any] | None = None) -> dict[str, Any]:
    """Run ``d`` both ways (retrying the first incident with ``fix``); the traces, once checked equal."""
    traces = []
    compiled = compile_program(d, sandbox=make_sandbox())
    for program in (compiled, _general(compiled)):
        for serialize in (False, True):
            run = CheckedEngine(program, serialize=serialize)
            eid = run.start(variables=variables)
            if fix is not None and run.incidents:
                run.retry_incident(next(iter(run.incidents)), fix)
            traces.append(_trace(run, eid))
    assert all(trace == traces[0] for trace in traces[1:])
    return traces[0]


def test_a_chain_of_scripts_and_events() -> None:
    d = definitions(
        [START, script("a", "x = x + 1"), Task(id="t"), script("b", "y = x * 2"), END],
        ["start > a > t > b > end"],
    )
    trace = _both(d, {"x": 1})
    assert trace["state"]["status"] == "completed" and trace["state"]["instances"] == {}
    assert trace["completed"] == ["start", "a", "t", "b", "end"]
    ids = [h["instance_id"] for h in trace["history"] if h["event"] == "element.activated"]
    assert ids == ["1", "2", "3", "4", "5"]  # instance ids are numbered as if records were made


def test_conditional_flows_leaving_a_script_and_a_task_with_two_flows_out() -> None:
    d = definitions(
        [
            START,
            script("a", "n = 5", default="f_a_low"),
            Task(id="high"),
            Task(id="low"),
            Task(id="fan"),
            Task(id="x"),
            Task(id="y"),
            END,
            EndEvent(id="end2"),
        ],
        [
            "start > a",
            "a > high [n > 3]",
            "a > low",
            "high > fan",
            "low > end2",
            "fan > x > end",
            "fan > y > end",
        ],
    )
    trace = _both(d, {})
    assert trace["completed"] == ["start", "a", "high", "fan", "x", "y", "end", "end"]
    assert trace["state"]["status"] == "completed"


def test_a_task_without_outgoing_flows_ends_the_process() -> None:
    d = definitions([START, Task(id="last")], ["start > last"])
    assert _both(d, {})["state"]["status"] == "completed"


def test_a_process_of_a_start_event_alone_completes() -> None:
    d = definitions([StartEvent(id="only")], [])
    assert _both(d, {})["completed"] == ["only"]


def test_scripts_inside_a_sub_process_write_by_the_scope_rule() -> None:
    inner = sub(
        "s",
        [StartEvent(id="s_start"), script("w", "x = 2\nlocal = 1"), EndEvent(id="s_end")],
        ["s_start > w > s_end"],
        inputs=(mapping("local", "0"),),
    )
    trace = _both(definitions([START, inner, END], ["start > s > end"]), {"x": 1})
    assert trace["state"]["scopes"]["0"]["variables"] == {"x": 2}


@pytest.mark.parametrize(
    ("text", "variables", "fix", "message"),
    [
        (
            "y = 10 / x",
            {"x": 0},
            {"x": 2},
            "ZeroDivisionError",
        ),  # fails while it runs: retried from the start
        ("y = float('nan')", {}, {}, "cannot be stored"),  # its result cannot be stored: retried as completed
    ],
)
def test_a_failing_script_leaves_the_same_instance_and_incident(
    text: str, variables: dict[str, Any], fix: dict[str, Any], message: str
) -> None:
    d = definitions([START, script("a", text), END], ["start > a > end"])
    compiled = compile_program(d, sandbox=make_sandbox())
    for program in (compiled, _general(compiled)):
        run = MemoryEngine(program)
        eid = run.start(variables=variables)
        [(_, element, text_of)] = run.incidents.values()
        assert element == "a" and message in text_of
        assert run.active(eid) == ["a"]
    _both(d, variables, fix)


def test_gateways_pass_without_instance_records() -> None:
    d = definitions(
        [
            START,
            ParallelGateway(id="split"),
            Task(id="a"),
            Task(id="b"),
            ParallelGateway(id="join"),
            ExclusiveGateway(id="g", default="f_g_end"),
            Task(id="again"),
            END,
        ],
        [
            "start > split > a > join",
            "split > b > join",
            "join > g",
            "g > again [False]",
            "again > end",
            "g > end",
        ],
    )
    trace = _both(d, {})
    assert trace["completed"] == ["start", "split", "a", "b", "join", "g", "end"]


def test_an_exclusive_gateway_that_cannot_decide_keeps_its_instance(engine: EngineFactory) -> None:
    d = definitions(
        [START, ExclusiveGateway(id="g"), Task(id="a"), END], ["start > g", "g > a [ok]", "a > end"]
    )
    run = engine(d)
    eid = run.start(variables={"ok": False})
    [instance] = run.state(eid)["instances"].values()
    assert instance["element"] == "g" and "incident" in instance
    assert run.state(eid)["scopes"]["0"]["tokens"] == 1


def test_effects_stay_frozen_values() -> None:
    at = compile_program  # any object stands for a time here
    entry = History(at, "element.completed", "a", "1")  # type: ignore[arg-type]
    assert entry == History(at, "element.completed", "a", "1")  # type: ignore[arg-type]
    assert hash(entry) == hash(History(at, "element.completed", "a", "1"))  # type: ignore[arg-type]
    with pytest.raises(dataclasses.FrozenInstanceError):
        entry.event = "changed"  # type: ignore[misc]
    with pytest.raises(TypeError):
        History()  # type: ignore[call-arg]
