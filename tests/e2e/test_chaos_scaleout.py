"""Scale-out: three worker processes on one PostgreSQL run 1,000 executions between them. All
complete; no job ever runs on two workers at once, nor is it claimed twice; each worker does a fair
part of the work."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from contextlib import suppress
from pathlib import Path

import pytest
from sqlalchemy import func, select

from apg_workflow.runtime.context import Runtime
from apg_workflow.store.tables import jobs
from tests.e2e.chaos import (
    Effects,
    Workers,
    all_completed,
    assert_each_element_completed_once,
    assert_each_job_took_effect_once,
    overlapping_runs,
    recording_chain,
    start_many,
    until,
)
from tests.integration.store.databases import deploy_text

pytestmark = [
    pytest.mark.asyncio,
    pytest.mark.parametrize(
        "database_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
    ),
]

EXECUTIONS = 1000
TASKS = 3
WORKERS = 3
# Leases far longer than any job: a job claimed twice here would be a double claim, not a takeover.
SETTINGS = {"job_timeout_seconds": 30, "lease_margin_seconds": 30, "database_pool_size": 4}


async def test_three_workers_share_the_work_and_never_run_a_job_twice(
    database_url: str, runtime: Runtime, tmp_path: Path
) -> None:
    began = time.monotonic()
    effects = await Effects.create(database_url, tmp_path)
    await deploy_text(runtime, recording_chain("fanout", TASKS, effects.url, hold=0.005))
    workers = Workers(database_url, tmp_path, **SETTINGS)
    claims_seen: Counter[int] = Counter()
    sampler = asyncio.create_task(_sample_claims(runtime, claims_seen))
    try:
        for _ in range(WORKERS):
            workers.start()
        await workers.ready()
        ids = await start_many(runtime, "fanout", EXECUTIONS)
        await until(lambda: all_completed(runtime, ids), 120, workers)
    finally:
        sampler.cancel()
        with suppress(asyncio.CancelledError):
            await sampler  # raises what made the sampling fail
        codes = workers.stop()
        results = await effects.all()
        await effects.close()
    assert list(codes.values()) == [0] * WORKERS, workers.tail()
    await assert_each_element_completed_once(runtime, ids, TASKS)
    assert assert_each_job_took_effect_once(results, ids, TASKS) == 0, "no job ran twice"
    assert overlapping_runs(results) == []
    assert claims_seen and set(claims_seen) == {1}, f"jobs claimed more than once: {claims_seen}"
    shares = Counter(e.worker for e in results)
    assert len(shares) == WORKERS and min(shares.values()) >= 0.15 * len(results), shares
    print(f"shares {sorted(shares.values())}, claims {dict(claims_seen)}, {time.monotonic() - began:.1f}s")


async def _sample_claims(rt: Runtime, seen: Counter[int]) -> None:
    """Count the claim numbers of the claimed jobs, every 20 ms, until cancelled."""
    stmt = select(jobs.c.claims, func.count()).where(jobs.c.claimed_by.is_not(None)).group_by(jobs.c.claims)
    while True:
        for claims, count in await rt.db.read(lambda conn: _rows(conn, stmt)):
            seen[claims] += count
        await asyncio.sleep(0.02)


async def _rows(conn, stmt):  # type: ignore[no-untyped-def]
    return [tuple(row) for row in await conn.execute(stmt)]
