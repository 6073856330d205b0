"""The hot path on both dialects: the rows a step writes with the drivers' own statements read back
through the toolkit exactly as the toolkit writes them; claim numbers never go back; a write for an
execution that moved changes nothing; SQLite waits for another writer without stopping the loop."""

from __future__ import annotations

import asyncio
import dataclasses
import sqlite3
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from apg_workflow import services
from apg_workflow.engine.commands import CompleteJob
from apg_workflow.runtime.context import Runtime
from apg_workflow.store import Database, Fence, StoreError, hotpath
from apg_workflow.store import queries as q
from apg_workflow.store.tables import history, jobs, outbox
from tests.integration.store.databases import Clock, deploy_text
from tests.integration.store.workflows import service_chain

pytestmark = pytest.mark.asyncio
LEASE = timedelta(minutes=5)


async def _rows(rt: Runtime, stmt: Any) -> list[Any]:
    async def read(conn: AsyncConnection) -> list[Any]:
        return list((await conn.execute(stmt)).all())

    return await rt.db.read(read)


async def test_a_step_writes_what_the_toolkit_reads_back(clock_runtime: tuple[Runtime, Clock]) -> None:
    rt, clock = clock_runtime
    await deploy_text(rt, service_chain("two", 2))
    variables = {"name": "Zoë ✓", "nested": {"list": [1, 2.5, None, True]}, "quote": "it's"}
    started = await services.start(rt, "two", variables=variables)
    now = clock()
    [job] = await rt.db.transaction(
        lambda conn: q.claim_jobs(conn, worker="w", now=now, until=now + LEASE, limit=1)
    )
    clock.advance(timedelta(seconds=1, microseconds=250))
    done = CompleteJob(job_id=job.id, attempt=job.attempt, variables={"answer": 42})
    await rt.transitions.apply(started.execution_id, done, fence=Fence(jobs, job.id, job.claims))

    [(element, config, job_variables, retry, due_at, created_at, claims)] = await _rows(
        rt,
        select(
            jobs.c.element_id,
            jobs.c.config,
            jobs.c.variables,
            jobs.c.retry,
            jobs.c.due_at,
            jobs.c.created_at,
            jobs.c.claims,
        ),
    )
    assert element == "t2" and config == {} and retry["max_attempts"] == 3 and claims == 0
    assert job_variables == variables | {"answer": 42}
    assert due_at == created_at == clock() and due_at.tzinfo is UTC

    entries = await _rows(
        rt, select(history.c.event, history.c.element_id, history.c.at).order_by(history.c.id)
    )
    assert [e.at for e in entries] == sorted(e.at for e in entries)
    assert all(e.at.tzinfo is UTC for e in entries)
    completed = [e.element_id for e in entries if e.event == "element.completed"]
    assert completed == ["start", "t1"]
    events = await _rows(rt, select(outbox.c.event, outbox.c.payload).order_by(outbox.c.id))
    assert ("task.completed", "t1") in [(e.event, e.payload["element_id"]) for e in events]
    record = await services.get(rt, started.execution_id)
    assert record.updated_at == clock() and record.ended_at is None


async def test_claim_numbers_never_go_back(runtime: Runtime) -> None:
    await deploy_text(runtime, service_chain("one", 1))
    started = await services.start(runtime, "one")

    async def write_job(claimed: bool) -> dict[str, int]:
        async def work(conn: AsyncConnection) -> dict[str, int]:
            row = await q.lock_execution(conn, started.execution_id)
            assert row is not None
            now = datetime.now(UTC)
            job = {
                "id": "job-1",
                "tenant_id": row.tenant_id,
                "execution_id": row.id,
                "element_id": "t1",
                "component_type": "noop",
                "implementation": None,
                "config": {},
                "variables": {},
                "retry": None,
                "attempt": 1,
                "run_at": None,
                "due_at": now,
                "claimed_by": "w" if claimed else None,
                "created_at": now,
            } | ({"claims": 1} if claimed else {})
            rows = hotpath.StepRows(row, now, state=row.state, status=row.status, jobs=[job])
            return await hotpath.write(conn, rows)

        return await runtime.db.transaction(work)

    assert await write_job(claimed=True) == {"job-1": 1}
    assert await write_job(claimed=True) == {"job-1": 2}  # taken again: the next claim number
    assert await write_job(claimed=False) == {}
    assert await _rows(runtime, select(jobs.c.claims).where(jobs.c.id == "job-1")) == [(2,)]


async def test_a_write_for_an_execution_that_moved_changes_nothing(runtime: Runtime) -> None:
    await deploy_text(runtime, service_chain("one", 1))
    started = await services.start(runtime, "one")
    before = await _rows(runtime, select(func.count()).select_from(history))

    async def work(conn: AsyncConnection) -> None:
        row = await q.lock_execution(conn, started.execution_id)
        assert row is not None
        now = datetime.now(UTC)
        entry = {
            "tenant_id": row.tenant_id,
            "execution_id": row.id,
            "at": now,
            "event": "test",
            "element_id": None,
            "instance_id": None,
            "data": None,
        }
        moved = dataclasses.replace(row, version=row.version - 1)
        await hotpath.write(conn, hotpath.StepRows(moved, now, state=row.state, history=[entry]))

    with pytest.raises(StoreError):
        await runtime.db.transaction(work)
    assert await _rows(runtime, select(func.count()).select_from(history)) == before


async def test_sqlite_waits_for_another_writer_while_the_loop_runs_on(tmp_path: Path) -> None:
    path = tmp_path / "busy.db"
    db = Database(f"sqlite:///{path}")
    try:
        await db.transaction(lambda conn: conn.execute(text("CREATE TABLE t (x INTEGER)")))
        other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        other.execute("BEGIN IMMEDIATE")
        other.execute("INSERT INTO t VALUES (1)")

        def commit_later() -> None:
            time.sleep(0.3)
            other.execute("COMMIT")
            other.close()

        threading.Thread(target=commit_later).start()
        ticks = 0

        async def tick() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0.01)

        ticker = asyncio.create_task(tick())
        await db.transaction(lambda conn: conn.execute(text("INSERT INTO t VALUES (2)")))
        ticker.cancel()
        assert ticks >= 10  # the loop ran while the transaction waited for the file
        count = await db.read(lambda conn: _scalar(conn, "SELECT count(*) FROM t"))
        assert count == 2
    finally:
        await db.dispose()


async def _scalar(conn: AsyncConnection, sql: str) -> Any:
    return (await conn.execute(text(sql))).scalar_one()


async def test_sqlite_a_transaction_cancelled_while_waiting_leaves_no_lock_behind(tmp_path: Path) -> None:
    path = tmp_path / "busy.db"
    db = Database(f"sqlite:///{path}")
    try:
        await db.transaction(lambda conn: conn.execute(text("CREATE TABLE t (x INTEGER)")))
        other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        other.execute("BEGIN IMMEDIATE")
        threading.Thread(target=lambda: (time.sleep(0.3), other.execute("COMMIT"), other.close())).start()
        waiting = asyncio.create_task(
            db.transaction(lambda conn: conn.execute(text("INSERT INTO t VALUES (1)")))
        )
        await asyncio.sleep(0.1)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        await asyncio.sleep(0.4)  # the waiting thread got the lock meanwhile, and let it go
        probe = sqlite3.connect(path, isolation_level=None, timeout=1)
        probe.execute("BEGIN IMMEDIATE")
        probe.execute("INSERT INTO t VALUES (2)")
        probe.execute("COMMIT")
        probe.close()
        await db.transaction(lambda conn: conn.execute(text("INSERT INTO t VALUES (3)")))
        assert await db.read(lambda conn: _scalar(conn, "SELECT group_concat(x) FROM t")) == "2,3"
    finally:
        await db.dispose()
