"""The schedule poller: starts the executions of due schedules, each fire exactly once however many
schedulers run.

Each due schedule is fired in one transaction: lock its row (``FOR UPDATE SKIP LOCKED`` on
PostgreSQL, so schedulers never wait on each other and never take the same schedule; on SQLite the
write transaction is the only writer), decide the fires from its checkpoint under its misfire policy
(:func:`~apg_workflow.runtime.scheduling.decide`), start one execution per fire and write the new
checkpoint and next fire. Each start carries the business key :func:`fire_key` (schedule id and
fire time), unique per workflow in the database, so a fire can never start twice, even if a
schedule's checkpoint were lost. A crash before the commit leaves nothing behind; after it, the
fire is recorded together with the executions it started.

Fire times follow from the schedule alone (never from when a poller looked), so every poller
computes the same ones. The poller sleeps until the next fire is due or the poll interval passes.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncConnection

from apg_workflow.runtime.context import Runtime
from apg_workflow.runtime.scheduling import ScheduleError, ScheduleSpec, decide
from apg_workflow.runtime.wakeups import wait_any
from apg_workflow.runtime.worker import worker_name
from apg_workflow.store import CommandRejected, NotFound, Outcome, start_txn
from apg_workflow.store import queries as q
from apg_workflow.store.routing import new_execution_id
from apg_workflow.store.schedules import ScheduleRecord, due_schedule_ids, lock_due_schedule, save_schedule
from apg_workflow.store.tables import schedules

log = logging.getLogger(__name__)

RETRY_AFTER_FAILURE = timedelta(seconds=30)
"""A schedule whose firing failed unexpectedly is tried again this much later (no fire is lost:
its checkpoint did not move)."""
_MAX_ERROR = 1000


def fire_key(schedule_id: int, fire_time: datetime) -> str:
    """The business key of the execution a fire starts: ``schedule-7@2025-01-15T12:00:00Z``."""
    stamp = fire_time.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return f"schedule-{schedule_id}@{stamp}"


class SchedulePoller:
    def __init__(self, runtime: Runtime, *, batch: int = 100, name: str | None = None) -> None:
        self.rt = runtime
        self.batch = batch
        self.name = name or worker_name()

    async def run(self, stop: asyncio.Event) -> None:
        log.info("schedule poller %s started", self.name)
        while not stop.is_set():
            try:
                if await self.tick() >= self.batch:
                    continue
                due = await self.rt.db.read(lambda conn: q.next_due(conn, schedules))
            except Exception:
                log.exception("the schedule poller failed; trying again")
                due = None
            pause = self.rt.settings.poll_interval_seconds
            if due is not None:
                pause = min(pause, (due - self.rt.clock()).total_seconds())
            await wait_any(stop, timeout=pause)
        log.info("schedule poller %s stopped", self.name)

    async def tick(self) -> int:
        """Fire the schedules due now (up to a batch); returns how many were due."""
        now = self.rt.clock()
        due = await self.rt.db.read(lambda conn: due_schedule_ids(conn, now, self.batch))
        for schedule_id in due:
            await self.fire(schedule_id)
        return len(due)

    async def fire(self, schedule_id: int) -> list[str]:
        """Fire one schedule if it is due and no other poller holds it; the executions started."""
        try:
            outcomes = await self.rt.db.transaction(lambda conn: self._fire_txn(conn, schedule_id))
        except Exception as exc:
            log.exception("firing schedule %s failed; trying again in %s", schedule_id, RETRY_AFTER_FAILURE)
            await self._note_failure(schedule_id, f"{type(exc).__name__}: {exc}")
            return []
        for outcome in outcomes:
            await self.rt.transitions.committed(outcome)
        return [outcome.execution_id for outcome in outcomes]

    async def _fire_txn(self, conn: AsyncConnection, schedule_id: int) -> list[Outcome]:
        now = self.rt.clock()
        record = await lock_due_schedule(conn, schedule_id, now)
        if record is None:
            return []
        try:
            spec = ScheduleSpec.from_dict(record.spec)
        except ScheduleError as exc:  # stored by another release, or a time zone this machine lacks
            message = f"the schedule cannot be used here: {exc}"
            log.error("schedule %s: %s", schedule_id, message)
            await save_schedule(conn, _failed(record, message, now))
            return []
        decision = decide(spec, record.checkpoint, now)
        outcomes: list[Outcome] = []
        last_fire, last_execution = record.last_fire_at, record.last_execution_id
        error = record.last_error if not decision.fires else None
        for fire_time in decision.fires:
            try:
                async with conn.begin_nested():  # a refused start undoes itself only
                    started = await start_txn(
                        conn,
                        self.rt.transitions,
                        execution_id=new_execution_id(),
                        tenant_id=record.tenant_id,
                        key=record.workflow_key,
                        variables=record.variables,
                        business_key=fire_key(record.id, fire_time),
                    )
            except (CommandRejected, NotFound) as exc:
                error = f"the fire at {fire_time.isoformat()} started nothing: {exc.message}"[:_MAX_ERROR]
                log.warning("schedule %s: %s", record.id, error)
                continue
            last_fire, last_execution = fire_time, started.execution_id
            if isinstance(started, Outcome):
                outcomes.append(started)
                log.info("schedule %s fired %s: execution %s", record.id, fire_time, started.execution_id)
        changed = replace(
            record,
            checkpoint=decision.checkpoint,
            next_fire_at=decision.next_fire,
            last_fire_at=last_fire,
            last_execution_id=last_execution,
            last_error=error,
            updated_at=now,
        )
        await save_schedule(conn, changed)
        return outcomes

    async def _note_failure(self, schedule_id: int, message: str) -> None:
        now = self.rt.clock()

        async def work(conn: AsyncConnection) -> None:
            record = await lock_due_schedule(conn, schedule_id, now)
            if record is not None:
                await save_schedule(conn, _failed(record, message, now))

        try:
            await self.rt.db.transaction(work)
        except Exception:
            log.exception("recording the failure of schedule %s failed", schedule_id)


def _failed(record: ScheduleRecord, message: str, now: datetime) -> ScheduleRecord:
    """The schedule with ``message`` as its last error, due again after a pause."""
    return replace(
        record, last_error=message[:_MAX_ERROR], next_fire_at=now + RETRY_AFTER_FAILURE, updated_at=now
    )


__all__ = ["RETRY_AFTER_FAILURE", "SchedulePoller", "fire_key"]
