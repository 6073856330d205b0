"""The timer poller: fires due timers, each exactly once however many pollers run.

A poller claims due timers with a lease (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, the write lock
on SQLite) and fires each in the transaction that steps its execution, fenced by the claim: the
firing and the removal (or re-arming, for a cycle) of the timer commit together, and a poller
whose lease ran out cannot fire what another one took over. It sleeps until the next timer is due,
a commit in this process sets an earlier one, or the poll interval passes.

It also does the store's housekeeping: drops expired buffered messages and outbox events past
their retention. The schedule poller (:mod:`apg_workflow.runtime.schedules`) runs beside it.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncConnection

from apg_workflow.engine.commands import FireTimer
from apg_workflow.runtime.context import Runtime
from apg_workflow.runtime.wakeups import wait_any
from apg_workflow.runtime.worker import worker_name
from apg_workflow.store import CommandRejected, Fence, NotFound, StaleClaim
from apg_workflow.store import queries as q
from apg_workflow.store.tables import timers

log = logging.getLogger(__name__)

TIMER_LEASE = timedelta(seconds=60)
HOUSEKEEPING_EVERY = timedelta(minutes=1)


class TimerPoller:
    def __init__(self, runtime: Runtime, *, batch: int = 100, name: str | None = None) -> None:
        self.rt = runtime
        self.batch = batch
        self.name = name or worker_name()
        self._housekept: datetime | None = None

    async def run(self, stop: asyncio.Event) -> None:
        settings = self.rt.settings
        wake = self.rt.wakeups.timers
        log.info("timer poller %s started", self.name)
        while not stop.is_set():
            wake.clear()
            try:
                fired = await self.tick()
                await self.housekeeping()
                if fired >= self.batch:
                    continue
                due = await self.rt.db.read(lambda conn: q.next_due(conn, timers))
            except Exception:
                log.exception("the timer poller failed; trying again")
                due = None
            pause = settings.poll_interval_seconds
            if due is not None:
                pause = min(pause, (due - self.rt.clock()).total_seconds())
            await wait_any(stop, wake, timeout=pause)
        log.info("timer poller %s stopped", self.name)

    async def tick(self) -> int:
        """Fire the timers due now (up to a batch); returns how many were claimed."""
        now = self.rt.clock()
        claims = await self.rt.db.transaction(
            lambda conn: q.claim_rows(
                conn, timers, worker=self.name, now=now, until=now + TIMER_LEASE, limit=self.batch
            )
        )
        for claim in sorted(claims, key=lambda c: str(c.id)):
            fence = Fence(timers, claim.id, claim.claims)
            try:
                await self.rt.transitions.apply(claim.execution_id, FireTimer(timer_id=claim.id), fence=fence)
            except StaleClaim as exc:
                log.info("%s", exc.message)
            except (CommandRejected, NotFound) as exc:
                log.info("timer %s refused (%s); dropped", claim.id, exc.message)
                await self.rt.transitions.discard(fence)
        return len(claims)

    async def housekeeping(self) -> None:
        now = self.rt.clock()
        if self._housekept is not None and now - self._housekept < HOUSEKEEPING_EVERY:
            return
        self._housekept = now
        retention = timedelta(seconds=self.rt.settings.outbox_retention_seconds)

        async def work(conn: AsyncConnection) -> tuple[int, int]:
            return await q.purge_expired_messages(conn, now), await q.purge_outbox(conn, now - retention)

        messages, events = await self.rt.db.transaction(work)
        if messages or events:
            log.info("housekeeping: %d expired message(s), %d old outbox event(s) dropped", messages, events)


__all__ = ["TimerPoller"]
