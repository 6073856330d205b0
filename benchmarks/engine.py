"""Engine throughput: executions per second and microseconds per element, medians of several runs.

    .venv/bin/python benchmarks/engine.py [--repeat 7]

Workflows: a linear chain of 10 script tasks, an exclusive-gateway loop of 20 and of 1,000 rounds
(the cost per element must not grow with the length of the run), a parallel split/join of 10
branches, and 5 user tasks completed one by one. Each runs in memory and with the state passed
through JSON after every step (as the database does). When SpiffWorkflow is importable the same
BPMN runs through it and the ratio of the times per execution is printed (each engine counts its
own elements: Spiff's include its internal start and end tasks). Our step is one command (it
moves tokens until they wait), Spiff's step is one task run, each followed by a JSON round trip of
the whole state.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from itertools import pairwise

from apg_workflow.engine import compile_program
from apg_workflow.engine.memory import MemoryEngine
from apg_workflow.expressions.sandbox import Sandbox
from apg_workflow.formats.bpmn import read_bpmn

NS = 'xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"'


def _bpmn(body: str) -> str:
    head = f'<?xml version="1.0"?><definitions {NS} id="d" targetNamespace="urn:bench">'
    return f'{head}<process id="p" isExecutable="true">{body}</process></definitions>'


def _flow(source: str, target: str, condition: str | None = None) -> str:
    cond = f"<conditionExpression>{condition}</conditionExpression>" if condition else ""
    ends = f'sourceRef="{source}" targetRef="{target}"'
    return f'<sequenceFlow id="f_{source}_{target}" {ends}>{cond}</sequenceFlow>'


def _script(node_id: str, text: str) -> str:
    return f'<scriptTask id="{node_id}" scriptFormat="python"><script>{text}</script></scriptTask>'


def linear(n: int = 10) -> str:
    ids = ["s", *[f"t{i}" for i in range(n)], "e"]
    body = (
        '<startEvent id="s"/>'
        + "".join(_script(f"t{i}", "x = x + 1") for i in range(n))
        + '<endEvent id="e"/>'
    )
    return _bpmn(body + "".join(_flow(a, b) for a, b in pairwise(ids)))


def loop(rounds: int) -> str:
    body = (
        '<startEvent id="s"/>' + _script("init", "i = 0") + '<exclusiveGateway id="m"/>'
        + _script("inc", "i = i + 1") + '<exclusiveGateway id="g" default="f_g_e"/><endEvent id="e"/>'
        + _flow("s", "init") + _flow("init", "m") + _flow("m", "inc") + _flow("inc", "g")
        + _flow("g", "m", f"i &lt; {rounds}") + _flow("g", "e")
    )  # fmt: skip
    return _bpmn(body)


def parallel(branches: int = 10) -> str:
    body = '<startEvent id="s"/><parallelGateway id="split"/><parallelGateway id="join"/><endEvent id="e"/>'
    body += _flow("s", "split") + _flow("join", "e")
    for i in range(branches):
        body += _script(f"b{i}", f"v{i} = {i}") + _flow("split", f"b{i}") + _flow(f"b{i}", "join")
    return _bpmn(body)


def user_tasks(n: int = 5) -> str:
    ids = ["s", *[f"u{i}" for i in range(n)], "e"]
    body = '<startEvent id="s"/>' + "".join(f'<userTask id="u{i}"/>' for i in range(n)) + '<endEvent id="e"/>'
    return _bpmn(body + "".join(_flow(a, b) for a, b in pairwise(ids)))


@dataclass
class Case:
    name: str
    xml: str
    variables: dict[str, int]
    elements: int = 0


CASES = [
    Case("linear, 10 scripts", linear(), {"x": 0}),
    Case("loop, 20 rounds", loop(20), {}),
    Case("loop, 1,000 rounds", loop(1000), {}),
    Case("parallel, 10 branches", parallel(), {}),
    Case("5 user tasks", user_tasks(), {}),
]


def ours(case: Case, *, serialize: bool) -> Callable[[], int]:
    program = compile_program(read_bpmn(case.xml), sandbox=Sandbox())  # once per version, as deployed

    engine = MemoryEngine(program, serialize=serialize)  # one engine runs many executions

    def run() -> int:
        eid = engine.start(variables=case.variables)
        while engine.tasks(eid):
            engine.complete_task(engine.tasks(eid)[0].task_id)
        assert engine.status(eid) == "completed", engine.summary(eid)
        return len(engine.completed(eid))

    return run


def spiff(case: Case, *, serialize: bool) -> Callable[[], int] | None:
    try:
        from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
        from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
        from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
        from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
        from SpiffWorkflow.util.task import TaskState
    except ImportError:
        return None
    parser = SpiffBpmnParser()
    parser.add_bpmn_str(case.xml.encode())
    spec = parser.get_spec("p")
    serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))

    def run() -> int:
        workflow = BpmnWorkflow(spec)
        elements = 0
        while not workflow.is_completed():
            task = workflow.get_next_task(state=TaskState.READY)
            if task is None:
                break
            if elements == 0:
                task.data.update(case.variables)
            task.run()
            elements += 1
            if serialize:
                workflow = serializer.deserialize_json(serializer.serialize_json(workflow))
        return elements

    return run


def measure(run: Callable[[], int], repeat: int) -> tuple[float, int]:
    """Median seconds per execution, and the elements one execution completes."""
    elements = run()  # warm up (compiles expressions)
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times), elements


def main() -> None:
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--repeat", type=int, default=7)
    repeat = args.parse_args().repeat
    rows = []
    for case in CASES:
        for serialize in (False, True):
            mode = "json" if serialize else "memory"
            seconds, elements = measure(ours(case, serialize=serialize), repeat)
            row = {
                "case": case.name,
                "mode": mode,
                "exec_per_s": 1 / seconds,
                "us_per_element": seconds / elements * 1e6,
            }
            other = spiff(case, serialize=serialize)
            if other is not None and not (serialize and "1,000" in case.name):
                spiff_seconds, spiff_elements = measure(other, max(1, repeat // 2))
                row["spiff_us_per_element"] = spiff_seconds / max(spiff_elements, 1) * 1e6
                row["ratio"] = spiff_seconds / seconds  # same BPMN, time per execution
            rows.append(row)
            print(_line(row), flush=True)
    print(json.dumps(rows))


def _line(row: dict[str, object]) -> str:
    text = f"{row['case']:<24} {row['mode']:<7} {row['exec_per_s']:>10,.0f} exec/s"
    text += f" {row['us_per_element']:>8.1f} µs/element"
    if "ratio" in row:
        text += f"   SpiffWorkflow {row['spiff_us_per_element']:>8.1f} µs/element"
        text += f"   ours {row['ratio']:.1f} times faster"
    return text


if __name__ == "__main__":
    main()
