"""The durable runtime's speed on SQLite and PostgreSQL, with a PASS/FAIL line per target.

    .venv/bin/python benchmarks/durable.py [--postgres postgresql://postgres@127.0.0.1:5432/test]
                                           [--sqlite-only] [--runs 5] [--scale 1.0]

Measured in one process, as ``apg-workflow server`` runs: one worker (concurrency 100) beside the
clients, so that the first job of each start is claimed in the start's own write and handed to it
(as any transition of a process with a worker does); every execution is started through the
service layer, each job claimed, run and its completion committed as a transition. As the
``worker`` command does, what start-up allocated is frozen out of the garbage collector's sight.
Wall time, each figure the median of ``--runs`` runs (the machine is shared and noisy: medians,
not best cases):

- **chain**: one execution of 40 no-op service tasks; ms per task (target ≤ 2 ms PostgreSQL,
  ≤ 1 ms SQLite).
- **throughput**: executions of a 3-task workflow, 100 in flight, started through the service
  layer while the worker runs them; executions per second (target ≥ 500/s PostgreSQL).
- **latency**: from ``start`` returning to the first job's component running (median of 20).
- **long chain**: one execution of 1,000 tasks; ms per task, and how much slower its last 200
  tasks ran than its first 200 (target ≤ 1.5: the cost per task does not grow with history).
- **CPU per task**: this process's CPU time per task of the chains (what the runtime itself costs,
  whatever the database's commits wait for).

A fresh database is created for each dialect (a temporary SQLite file; a ``bench_…`` database on
the given PostgreSQL server, dropped afterwards).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import tempfile
import time
import uuid
from collections.abc import Mapping
from datetime import datetime
from itertools import pairwise
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlsplit, urlunsplit

import asyncpg
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from apg_workflow import services
from apg_workflow.components import Component, ComponentConfig, ComponentContext, default_registry
from apg_workflow.runtime.context import Runtime, open_runtime
from apg_workflow.runtime.worker import Worker
from apg_workflow.settings import Settings
from apg_workflow.store import Outcome, Source, upgrade
from apg_workflow.store.tables import history


class Probe(Component[ComponentConfig]):
    """A no-op that notes when it first ran (start → first job latency)."""

    type = "bench.probe"
    category = "bench"
    title = "Probe"
    description = "Records the time it runs."
    seen: ClassVar[dict[str, float]] = {}

    async def run(
        self, context: ComponentContext, config: ComponentConfig, inputs: Mapping[str, Any]
    ) -> Mapping[str, Any]:
        Probe.seen.setdefault(context.execution_id, time.perf_counter())
        return {}


def chain(process_id: str, count: int, component: str = "noop") -> Source:
    tasks = "".join(
        f'<serviceTask id="t{i}"><extensionElements><apg:component type="{component}"/></extensionElements>'
        "</serviceTask>"
        for i in range(count)
    )
    nodes = ["start", *(f"t{i}" for i in range(count)), "end"]
    flows = "".join(
        f'<sequenceFlow id="f{i}" sourceRef="{a}" targetRef="{b}"/>'
        for i, (a, b) in enumerate(pairwise(nodes))
    )
    text = (
        '<?xml version="1.0"?><definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" '
        'xmlns:apg="urn:apg-workflow:bpmn:1.0" id="d" targetNamespace="urn:bench">'
        f'<process id="{process_id}" isExecutable="true"><startEvent id="start"/>{tasks}<endEvent id="end"/>'
        f"{flows}</process></definitions>"
    )
    return Source(name=f"{process_id}.bpmn", format="bpmn", text=text)


class Endings:
    """Hears of every commit in this process (the transitions' ``on_commit``), so that the clients
    learn at once that their execution ended instead of polling for it."""

    def __init__(self, rt: Runtime) -> None:
        self._waiting: dict[str, asyncio.Future[None]] = {}
        self._ended: set[str] = set()
        forward = rt.transitions.on_commit

        def on_commit(outcome: Outcome) -> None:
            if forward is not None:
                forward(outcome)
            if outcome.status == "completed":
                self._ended.add(outcome.execution_id)
                waiter = self._waiting.pop(outcome.execution_id, None)
                if waiter is not None and not waiter.done():
                    waiter.set_result(None)

        rt.transitions.on_commit = on_commit

    async def wait(self, execution_id: str) -> None:
        if execution_id not in self._ended:
            waiter = self._waiting.setdefault(execution_id, asyncio.get_running_loop().create_future())
            await waiter


async def _run_chain(rt: Runtime, endings: Endings, key: str, tasks: int) -> tuple[float, float, str]:
    """(ms per task from the execution's own timestamps, CPU ms per task, execution id)."""
    cpu = time.process_time()
    execution = await services.start(rt, key)
    await endings.wait(execution.execution_id)
    cpu = time.process_time() - cpu
    record = await services.get(rt, execution.execution_id)
    assert record.ended_at is not None
    wall = (record.ended_at - record.created_at).total_seconds() * 1000 / tasks
    return wall, cpu * 1000 / tasks, execution.execution_id


async def _growth(rt: Runtime, execution_id: str, window: int = 200) -> float:
    """How much longer a task took at the end of a long chain than at its start (median gaps
    between completed tasks, from the history)."""

    async def read(conn: AsyncConnection) -> list[datetime]:
        stmt = (
            select(history.c.at)
            .where(history.c.execution_id == execution_id, history.c.event == "element.completed")
            .order_by(history.c.id)
        )
        return list((await conn.execute(stmt)).scalars())

    times = await rt.db.read(read)
    gaps = [(b - a).total_seconds() for a, b in pairwise(times)]
    return statistics.median(gaps[-window:]) / max(statistics.median(gaps[:window]), 1e-6)


async def _throughput(rt: Runtime, endings: Endings, total: int, in_flight: int) -> float:
    """Executions per second with ``in_flight`` clients, each starting one and waiting for its end."""
    slots = asyncio.Semaphore(in_flight)

    async def client() -> None:
        async with slots:
            await endings.wait((await services.start(rt, "three")).execution_id)

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(total)))
    return total / (time.perf_counter() - started)


async def _latency(rt: Runtime, samples: int) -> float:
    latencies = []
    for _ in range(samples):
        before = time.perf_counter()
        execution = await services.start(rt, "probe")
        while execution.execution_id not in Probe.seen:
            await asyncio.sleep(0.0005)
        latencies.append((Probe.seen[execution.execution_id] - before) * 1000)
    return statistics.median(latencies)


async def bench(url: str, scale: float, runs: int) -> dict[str, float]:
    settings = Settings(database_url=url, poll_interval_seconds=0.5)
    async with open_runtime(settings) as rt:
        await upgrade(rt.db)
        for source in (
            chain("chain40", 40),
            chain("three", 3),
            chain("probe", 1, "bench.probe"),
            chain("chain1000", 1000),
        ):
            await services.deploy_sources(rt, [source])
        registry = default_registry()
        registry.register(Probe)
        endings = Endings(rt)
        gc.collect()
        gc.freeze()
        stop = asyncio.Event()
        worker = asyncio.create_task(Worker(rt, registry, concurrency=100).run(stop))
        try:
            await _run_chain(rt, endings, "chain40", 40)  # warm-up
            chains = [await _run_chain(rt, endings, "chain40", 40) for _ in range(max(runs, 1) + 2)]
            total = max(100, int(1000 * scale))
            throughput = [await _throughput(rt, endings, total, 100) for _ in range(max((runs + 1) // 2, 1))]
            latency = await _latency(rt, 20)
            long_wall, long_cpu, long_id = await _run_chain(rt, endings, "chain1000", 1000)
            results = {
                "chain ms/task": statistics.median(wall for wall, _, _ in chains),
                "chain CPU ms/task": statistics.median(cpu for _, cpu, _ in chains),
                "executions/s": statistics.median(throughput),
                "start→first job ms": latency,
                "1,000-task chain ms/task": long_wall,
                "1,000-task CPU ms/task": long_cpu,
                "1,000-task growth": await _growth(rt, long_id),
            }
        finally:
            stop.set()
            await worker
    return results


async def _with_postgres(admin_url: str, scale: float, runs: int) -> dict[str, float]:
    name = f"bench_{uuid.uuid4().hex[:8]}"
    parts = urlsplit(admin_url)
    await _admin(admin_url, f"CREATE DATABASE {name}")
    try:
        return await bench(urlunsplit((parts.scheme, parts.netloc, f"/{name}", "", "")), scale, runs)
    finally:
        await _admin(admin_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


async def _admin(url: str, statement: str) -> None:
    """One statement on a connection of its own (the run may outlast a connection)."""
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


TARGETS = {
    ("sqlite", "chain ms/task"): ("≤", 1.0),
    ("postgresql", "chain ms/task"): ("≤", 2.0),
    ("postgresql", "executions/s"): ("≥", 500.0),
    ("sqlite", "1,000-task growth"): ("≤", 1.5),
    ("postgresql", "1,000-task growth"): ("≤", 1.5),
}


def report(dialect: str, results: dict[str, float]) -> bool:
    ok = True
    for metric, value in results.items():
        target = TARGETS.get((dialect, metric))
        verdict = ""
        if target is not None:
            sign, limit = target
            passed = value <= limit if sign == "≤" else value >= limit
            ok &= passed
            verdict = f"  {'PASS' if passed else 'FAIL'} (target {sign} {limit:g})"
        print(f"{dialect:<11} {metric:<26} {value:10.2f}{verdict}")
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--sqlite-only", action="store_true")
    parser.add_argument("--runs", type=int, default=5, help="Runs of each measurement (the median counts).")
    parser.add_argument("--scale", type=float, default=1.0, help="Scale the throughput run (1.0: 1,000).")
    args = parser.parse_args()
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        ok &= report("sqlite", asyncio.run(bench(url, args.scale, args.runs)))
    if not args.sqlite_only:
        ok &= report("postgresql", asyncio.run(_with_postgres(args.postgres, args.scale, args.runs)))
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
