"""Concurrency limits on both dialects: starts beyond a workflow's, a tenant's or the global limit
queue (never refused, never lost) and run in the order they came as slots free; a queued execution
can be cancelled; raising or removing a limit starts what it lets through; with several workers and
concurrent starters the limit still holds (from the executions' own history)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from apg_workflow import services
from apg_workflow.components import Component, ComponentConfig, ComponentContext, default_registry
from apg_workflow.runtime.context import Runtime, open_runtime
from apg_workflow.runtime.worker import Worker
from apg_workflow.services import limits
from apg_workflow.store.tables import history, workflows
from tests.integration.runtime.test_worker import Slow
from tests.integration.store.databases import deploy_text, settings_for, wait_for
from tests.integration.store.workflows import MESSAGE_START, bpmn, service_chain

pytestmark = pytest.mark.asyncio

APPROVAL = bpmn("""
<process id="approval" isExecutable="true">
  <startEvent id="start"/>
  <userTask id="approve" name="Approve"/>
  <endEvent id="end"/>
  <sequenceFlow id="f1" sourceRef="start" targetRef="approve"/>
  <sequenceFlow id="f2" sourceRef="approve" targetRef="end"/>
</process>""")


class Count(Component[ComponentConfig]):
    """Notes how many of its calls run at once."""

    type = "test.count"
    category = "test"
    title = "Count"
    description = "Counts the calls running together."
    running = 0
    most = 0

    async def run(
        self, context: ComponentContext, config: ComponentConfig, inputs: Mapping[str, Any]
    ) -> Mapping[str, Any]:
        Count.running += 1
        Count.most = max(Count.most, Count.running)
        try:
            await asyncio.sleep(0.02)
        finally:
            Count.running -= 1
        return {}


@asynccontextmanager
async def working(*runtimes: Runtime, concurrency: int = 10) -> AsyncIterator[None]:
    registry = default_registry()
    registry.register(Slow)
    registry.register(Count)
    stop = asyncio.Event()
    tasks = [asyncio.create_task(Worker(rt, registry, concurrency=concurrency).run(stop)) for rt in runtimes]
    try:
        yield
    finally:
        stop.set()
        await asyncio.gather(*tasks)


async def _statuses(rt: Runtime, ids: list[str]) -> list[str]:
    return [(await services.get(rt, execution_id)).status for execution_id in ids]


async def _all(rt: Runtime, ids: list[str], status: str) -> bool:
    return set(await _statuses(rt, ids)) == {status}


async def _spans(rt: Runtime, ids: list[str]) -> dict[str, tuple[datetime, datetime | None]]:
    """When each execution started and ended, from its history."""

    async def read(conn: AsyncConnection) -> list[Any]:
        h = history.c
        stmt = select(h.execution_id, h.event, h.at).where(
            h.execution_id.in_(ids), h.event.like("execution.%")
        )
        return list((await conn.execute(stmt)).all())

    spans: dict[str, list[datetime | None]] = {}
    for execution_id, event, at in await rt.db.read(read):
        span = spans.setdefault(execution_id, [None, None])
        span[0 if event == "execution.started" else 1] = at
    return {k: (v[0], v[1]) for k, v in spans.items() if v[0] is not None}


def _most_at_once(spans: dict[str, tuple[datetime, datetime | None]]) -> int:
    """The largest number of executions started and not yet ended at any moment (an end at the
    very moment of a start comes first: the start it released)."""
    moments = sorted(
        [(start, 1) for start, _ in spans.values()]
        + [(end, -1) for _, end in spans.values() if end is not None]
    )
    most = current = 0
    for _, change in moments:
        current += change
        most = max(most, current)
    return most


def _started_order(spans: dict[str, tuple[datetime, datetime | None]]) -> list[str]:
    return sorted(spans, key=lambda execution_id: spans[execution_id][0])


async def test_ten_starts_under_a_limit_of_three_run_three_at_a_time_in_order(runtime: Runtime) -> None:
    await deploy_text(runtime, service_chain("held", 2, component="test.slow"))
    await limits.set_workflow_limit(runtime, "held", 3)
    started = [await services.start(runtime, "held", variables={"n": n}) for n in range(10)]
    ids = [s.execution_id for s in started]
    assert [s.status for s in started] == ["running"] * 3 + ["queued"] * 7
    assert (await services.show(runtime, ids[5]))["status"] == "queued"
    async with working(runtime):
        await wait_for(lambda: _all(runtime, ids, "completed"), timeout=30)
    spans = await _spans(runtime, ids)
    assert len(spans) == 10 and all(end is not None for _, end in spans.values())
    assert _most_at_once(spans) == 3
    assert _started_order(spans) == ids
    assert (await services.show(runtime, ids[9]))["variables"] == {"n": 9, "slow": "done"}


async def test_the_limit_holds_with_several_workers_and_concurrent_starters(database_url: str) -> None:
    async with AsyncExitStack() as stack:
        first, second = [
            await stack.enter_async_context(open_runtime(settings_for(database_url))) for _ in range(2)
        ]
        await deploy_text(first, service_chain("held", 1, component="test.slow"))
        await limits.set_workflow_limit(first, "held", 3)
        async with working(first, second, concurrency=5):
            started = await asyncio.gather(
                *(services.start(rt, "held") for rt in (first, second) for _ in range(12))
            )
            ids = [s.execution_id for s in started]
            assert sum(s.status == "running" for s in started) <= 3
            await wait_for(lambda: _all(first, ids, "completed"), timeout=60)
        spans = await _spans(first, ids)
        assert len(spans) == 24 and _most_at_once(spans) <= 3


async def test_a_worker_runs_no_more_jobs_at_once_than_its_concurrency(runtime: Runtime) -> None:
    await deploy_text(runtime, service_chain("counted", 3, component="test.count"))
    Count.most = 0
    async with working(runtime, concurrency=2):
        # Started beside the worker: each first job is claimed for it in the start's own write.
        ids = [(await services.start(runtime, "counted")).execution_id for _ in range(12)]
        await wait_for(lambda: _all(runtime, ids, "completed"), timeout=30)
    assert Count.most == 2


async def test_a_tenant_limit_holds_across_its_workflows(runtime: Runtime) -> None:
    await deploy_text(runtime, service_chain("alpha", 1, component="test.slow"))
    await deploy_text(runtime, service_chain("beta", 1, component="test.slow"))
    await limits.set_tenant_limit(runtime, 2)
    ids = [(await services.start(runtime, key)).execution_id for _ in range(4) for key in ("alpha", "beta")]
    assert await _statuses(runtime, ids) == ["running"] * 2 + ["queued"] * 6
    async with working(runtime):
        await wait_for(lambda: _all(runtime, ids, "completed"), timeout=30)
    spans = await _spans(runtime, ids)
    assert _most_at_once(spans) == 2 and _started_order(spans) == ids


async def test_a_queued_execution_can_be_cancelled_and_never_starts(runtime: Runtime) -> None:
    await deploy_text(runtime, APPROVAL)
    await limits.set_workflow_limit(runtime, "approval", 1)
    first, second, third = [(await services.start(runtime, "approval")).execution_id for _ in range(3)]
    assert await services.cancel(runtime, second, "not needed") == "cancelled"
    [task] = [t for t in (await services.list_tasks(runtime)).items if t.execution_id == first]
    await services.complete_task(runtime, task.id)
    assert await _statuses(runtime, [first, second, third]) == ["completed", "cancelled", "running"]
    events = [entry["event"] for entry in await services.history(runtime, second)]
    assert events == ["execution.cancelled"]


async def test_raising_or_removing_a_limit_starts_what_it_lets_through(runtime: Runtime) -> None:
    await deploy_text(runtime, APPROVAL)
    await limits.set_workflow_limit(runtime, "approval", 1)
    ids = [(await services.start(runtime, "approval")).execution_id for _ in range(5)]
    assert await _statuses(runtime, ids) == ["running"] + ["queued"] * 4
    await limits.set_workflow_limit(runtime, "approval", 3)
    assert await limits.workflow_limit(runtime, "approval") == 3
    assert await _statuses(runtime, ids) == ["running"] * 3 + ["queued"] * 2
    await limits.set_workflow_limit(runtime, "approval", None)
    assert await _statuses(runtime, ids) == ["running"] * 5
    with pytest.raises(limits.InvalidLimit):
        await limits.set_workflow_limit(runtime, "approval", 0)


async def test_the_global_limit_counts_every_workflow(runtime: Runtime) -> None:
    runtime.transitions.max_concurrent_executions = 2
    await deploy_text(runtime, APPROVAL)
    await deploy_text(runtime, MESSAGE_START)
    ids = [(await services.start(runtime, "approval")).execution_id for _ in range(2)]
    assert await services.correlate(runtime, "NewLead") is not None  # a message start queues too
    [lead] = [e.id for e in (await services.list_executions(runtime, status="queued")).items]
    [task, _] = (await services.list_tasks(runtime)).items
    await services.complete_task(runtime, task.id)
    assert (await services.get(runtime, lead)).status == "running"
    assert sorted(await _statuses(runtime, ids)) == ["completed", "running"]


async def test_a_worker_releases_what_a_slot_left_behind(runtime: Runtime) -> None:
    await deploy_text(runtime, APPROVAL)
    await limits.set_workflow_limit(runtime, "approval", 1)
    ids = [(await services.start(runtime, "approval")).execution_id for _ in range(2)]

    async def lift(conn: AsyncConnection) -> None:  # as if the limit went while a start queued
        await conn.execute(update(workflows).values(max_concurrent_executions=None))

    await runtime.db.transaction(lift)
    assert await _statuses(runtime, ids) == ["running", "queued"]
    async with working(runtime):
        await wait_for(lambda: _all(runtime, ids, "running"))
