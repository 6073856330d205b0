"""A worker process killed with SIGKILL at random moments, again and again, loses nothing and
repeats nothing that counts: 200 executions of five service tasks each complete, every element
completes exactly once, and every job's side effect happens at least once — exactly once when
deduplicated by the job id the component gets as its idempotency key. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import random
import time
from pathlib import Path

import pytest

from apg_workflow.runtime.context import Runtime
from tests.e2e.chaos import (
    Effects,
    Workers,
    all_completed,
    assert_each_element_completed_once,
    assert_each_job_took_effect_once,
    chaos_seed,
    recording_chain,
    start_many,
    until,
)
from tests.integration.store.databases import deploy_text

pytestmark = pytest.mark.asyncio

EXECUTIONS = 200
TASKS = 5
KILLS = 6  # SIGKILLs of the worker process, each followed by a fresh one
# A short lease, so that the jobs a killed worker held are taken over within seconds; a timeout
# far above the component's few milliseconds, so that only crashes make jobs run again.
SETTINGS = {"job_timeout_seconds": 5, "lease_margin_seconds": 1, "poll_interval_seconds": 0.1}


async def test_a_worker_killed_at_random_moments_loses_nothing(
    database_url: str, runtime: Runtime, tmp_path: Path
) -> None:
    rng = random.Random(chaos_seed())
    began = time.monotonic()
    effects = await Effects.create(database_url, tmp_path)
    await deploy_text(runtime, recording_chain("chaos", TASKS, effects.url, hold=0.02))
    workers = Workers(database_url, tmp_path, **SETTINGS)
    total = EXECUTIONS * TASKS
    try:
        worker = workers.start()
        ids = await start_many(runtime, "chaos", EXECUTIONS)
        # Kill points spread over the run, each somewhere in its own stretch of the work, after a
        # random pause: mid-component, mid-transaction, between a side effect and its report.
        for i in range(1, KILLS + 1):
            target = total * (i + rng.uniform(-0.4, 0.4)) / (KILLS + 2)
            await until(lambda target=target: effects.jobs_done_at_least(target), 60, workers)
            await asyncio.sleep(rng.uniform(0, 0.25))
            workers.kill(worker)
            worker = workers.start()
        await until(lambda: all_completed(runtime, ids), 90, workers)
    finally:
        codes = workers.stop()
        results = await effects.all()
        await effects.close()
    assert list(codes.values()) == [0], workers.tail()
    await assert_each_element_completed_once(runtime, ids, TASKS)
    repeats = assert_each_job_took_effect_once(results, ids, TASKS)
    assert {e.attempt for e in results} == {1}, "a crash must not use up a retry attempt"
    print(f"{KILLS} kills, {repeats} side effects repeated, {time.monotonic() - began:.1f}s")
