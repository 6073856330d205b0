"""The worker and the timer poller against both dialects: service tasks run through components,
failures retry per policy and end in incidents an operator retries, timers fire exactly once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any, ClassVar

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from apg_workflow import services
from apg_workflow.components import (
    Component,
    ComponentConfig,
    ComponentContext,
    ComponentRegistry,
    default_registry,
)
from apg_workflow.runtime.context import Runtime
from apg_workflow.runtime.timers import TimerPoller
from apg_workflow.runtime.worker import Worker
from apg_workflow.store.tables import jobs
from tests.integration.store.databases import Clock, deploy_text, wait_for
from tests.integration.store.workflows import TIMER, service_chain

pytestmark = pytest.mark.asyncio
RETRY = '<apg:retry maxAttempts="3" initialBackoff="PT10S" multiplier="2" maxBackoff="PT1M" jitter="false"/>'


class Flaky(Component[ComponentConfig]):
    """Fails until ``Flaky.healthy`` is set; records every call."""

    type = "test.flaky"
    category = "test"
    title = "Flaky"
    description = "Fails while the test says so."
    healthy: ClassVar[bool] = False
    calls: ClassVar[list[tuple[str, int]]] = []

    async def run(
        self, context: ComponentContext, config: ComponentConfig, inputs: Mapping[str, Any]
    ) -> Mapping[str, Any]:
        Flaky.calls.append((context.job_id, context.attempt))
        if not Flaky.healthy:
            raise ConnectionError("the service is down")
        return {"served": True}


class Slow(Component[ComponentConfig]):
    type = "test.slow"
    category = "test"
    title = "Slow"
    description = "Takes a while."

    async def run(
        self, context: ComponentContext, config: ComponentConfig, inputs: Mapping[str, Any]
    ) -> Mapping[str, Any]:
        await asyncio.sleep(0.3)
        return {"slow": "done"}


def _registry() -> ComponentRegistry:
    registry = default_registry()
    registry.register(Flaky)
    registry.register(Slow)
    return registry


@asynccontextmanager
async def running(rt: Runtime, *, concurrency: int = 4) -> AsyncIterator[Worker]:
    stop = asyncio.Event()
    worker = Worker(rt, _registry(), concurrency=concurrency)
    task = asyncio.create_task(worker.run(stop))
    try:
        yield worker
    finally:
        stop.set()
        await task


async def _status(rt: Runtime, execution_id: str) -> str:
    return str((await services.show(rt, execution_id))["status"])


async def test_service_tasks_run_through_the_worker(runtime: Runtime) -> None:
    await deploy_text(runtime, service_chain("chain", 5))
    await deploy_text(runtime, service_chain("abstract", 2, component=None))
    ids = [(await services.start(runtime, "chain", variables={"n": i})).execution_id for i in range(10)]
    abstract = (await services.start(runtime, "abstract")).execution_id
    async with running(runtime):
        for execution_id in [*ids, abstract]:
            await wait_for(lambda e=execution_id: _is(runtime, e, "completed"))
    shown = await services.show(runtime, ids[3])
    assert shown["completed"] == ["start", "t1", "t2", "t3", "t4", "t5", "end"]
    assert shown["variables"] == {"n": 3}


async def _is(rt: Runtime, execution_id: str, status: str) -> bool:
    return await _status(rt, execution_id) == status


async def test_an_unknown_component_opens_an_incident_at_once(runtime: Runtime) -> None:
    await deploy_text(runtime, service_chain("mystery", 1, component="no.such.thing"))
    started = await services.start(runtime, "mystery")
    async with running(runtime):
        await wait_for(lambda: _has_incident(runtime))
    [incident] = (await services.list_incidents(runtime)).items
    assert incident.execution_id == started.execution_id and incident.element_id == "t1"
    assert "no component of type 'no.such.thing'" in incident.message


async def _has_incident(rt: Runtime) -> bool:
    return bool((await services.list_incidents(rt)).items)


async def test_failures_retry_with_backoff_then_an_incident_that_an_operator_retries(
    clock_runtime: tuple[Runtime, Clock],
) -> None:
    rt, clock = clock_runtime
    Flaky.calls.clear()
    Flaky.healthy = False
    await deploy_text(rt, service_chain("flaky", 1, component="test.flaky", retry=RETRY))
    started = await services.start(rt, "flaky")
    async with running(rt):
        await wait_for(lambda: _calls(1))
        await asyncio.sleep(0.2)
        assert len(Flaky.calls) == 1  # the retry waits for its backoff (10 s)
        await wait_for(lambda: _attempt_waiting(rt, 2))
        clock.advance(timedelta(seconds=11))
        await wait_for(lambda: _attempt_waiting(rt, 3))
        clock.advance(timedelta(seconds=21))
        await wait_for(lambda: _has_incident(rt))
        [incident] = (await services.list_incidents(rt)).items
        assert "ConnectionError: the service is down" in incident.message
        assert [attempt for _, attempt in Flaky.calls] == [1, 2, 3]
        assert len({job for job, _ in Flaky.calls}) == 1  # one job id: the idempotency key
        Flaky.healthy = True
        retried = await services.retry_incident(rt, incident.id)
        assert retried.status == "resolved"
        await wait_for(lambda: _is(rt, started.execution_id, "completed"))
    assert (await services.show(rt, started.execution_id))["variables"] == {"served": True}
    assert (await services.list_incidents(rt)).items == ()


async def _attempt_waiting(rt: Runtime, attempt: int) -> bool:
    """The job's next attempt is stored (its failure committed), waiting for its backoff."""
    stmt = select(jobs.c.attempt).where(jobs.c.claimed_by.is_(None))
    return attempt in await rt.db.read(lambda conn: _scalars(conn, stmt))


async def _scalars(conn: AsyncConnection, stmt: Any) -> list[Any]:
    return list((await conn.execute(stmt)).scalars())


async def _calls(count: int) -> bool:
    return len(Flaky.calls) >= count


async def test_the_worker_obeys_its_concurrency_and_drains_on_stop(runtime: Runtime) -> None:
    await deploy_text(runtime, service_chain("slow", 1, component="test.slow"))
    ids = [(await services.start(runtime, "slow")).execution_id for _ in range(6)]
    stop = asyncio.Event()
    worker = Worker(runtime, _registry(), concurrency=2)
    task = asyncio.create_task(worker.run(stop))
    peak = 0
    while not all([await _is(runtime, e, "completed") for e in ids]):
        peak = max(peak, worker.running)
        await asyncio.sleep(0.01)
    stop.set()
    await task
    assert peak == 2


async def test_stopping_mid_job_lets_it_finish(runtime: Runtime) -> None:
    await deploy_text(runtime, service_chain("slow", 1, component="test.slow"))
    started = await services.start(runtime, "slow")
    async with running(runtime) as worker:
        await wait_for(lambda: _positive(worker))
    assert await _status(runtime, started.execution_id) == "completed"  # finished during the drain


async def _positive(worker: Worker) -> bool:
    return worker.running > 0


async def test_timers_fire_once_through_competing_pollers(clock_runtime: tuple[Runtime, Clock]) -> None:
    rt, clock = clock_runtime
    await deploy_text(rt, TIMER)
    ids = [(await services.start(rt, "wait")).execution_id for _ in range(6)]
    pollers = [TimerPoller(rt, batch=2), TimerPoller(rt, batch=2), TimerPoller(rt, batch=2)]
    assert sum(await asyncio.gather(*(p.tick() for p in pollers))) == 0  # not due yet
    clock.advance(timedelta(hours=1, seconds=1))
    fired = 0
    while fired < 6:
        claimed = sum(await asyncio.gather(*(p.tick() for p in pollers)))
        assert claimed > 0
        fired += claimed
    assert fired == 6
    for execution_id in ids:
        shown = await services.show(rt, execution_id)
        assert shown["status"] == "completed" and shown["completed"].count("hour") == 1
