"""Transitions: one engine step, one transaction.

:meth:`Transitions.apply` locks the execution row, applies the command with the pure
:func:`~apg_workflow.engine.step`, then the commands the step sent to the execution itself (a
buffered message its new subscription took), writes the new state and the rows of every effect,
and commits: nothing is half-applied. Commands for other executions (a child's start or end, a
message, a signal, a cancellation) go to the command inbox in the same transaction and are
delivered right after the commit, each in its own transaction; what a crash leaves in the inbox is
claimed by a worker once ``inbox_grace`` has passed.

On PostgreSQL the common steps first try the single-statement path of :mod:`.optimistic` (no
lock: a compare-and-set on the execution's version), which answers ``None`` for anything it does
not decide exactly as this locked path would. The end of a root execution releases the executions
a concurrency limit queued (:mod:`.limits`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from sqlalchemy import Table, delete
from sqlalchemy.ext.asyncio import AsyncConnection

from apg_workflow.engine import commands as c
from apg_workflow.engine.effects import History
from apg_workflow.engine.migrations import load_state
from apg_workflow.store import hotpath, limits
from apg_workflow.store import optimistic as fast
from apg_workflow.store import queries as q
from apg_workflow.store.codec import command_from_json
from apg_workflow.store.db import Database
from apg_workflow.store.effects import Claimant, Outgoing, StepWriter
from apg_workflow.store.errors import CommandRejected, NotFound, StaleClaim
from apg_workflow.store.programs import ProgramCache
from apg_workflow.store.records import Claim, ExecutionRow, JobRecord, Outcome
from apg_workflow.store.tables import commands

log = logging.getLogger(__name__)


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Fence:
    """The claim a report must still hold: a job's or a timer's id and claim number."""

    table: Table
    id: str
    claims: int


class LocalWorker(Protocol):
    """A worker in this process that takes the jobs a transition makes ready, claimed for it in
    the transition's own write (no round trip through the queue)."""

    def claimant(self) -> Claimant | None:
        """Who claims, for how long and how many; ``None`` when it has no room."""
        ...

    def hand_over(self, jobs: list[JobRecord]) -> None:
        """Take jobs claimed for it, after the commit."""
        ...


class Transitions:
    """Applies commands to executions durably. ``on_commit`` hears of every committed outcome (the
    in-process wake-ups of workers and the timer poller). ``max_concurrent_executions`` is the
    global limit on active root executions (:mod:`.limits`); ``local`` the worker of this process,
    when it runs one."""

    def __init__(
        self,
        db: Database,
        programs: ProgramCache,
        *,
        clock: Callable[[], datetime] = utcnow,
        message_ttl: timedelta = timedelta(hours=1),
        inbox_grace: timedelta = timedelta(seconds=30),
        on_commit: Callable[[Outcome], None] | None = None,
        max_concurrent_executions: int | None = None,
    ) -> None:
        self.db = db
        self.programs = programs
        self.clock = clock
        self.message_ttl = message_ttl
        self.inbox_grace = inbox_grace
        self.on_commit = on_commit
        self.max_concurrent_executions = max_concurrent_executions
        self.local: LocalWorker | None = None
        self.optimistic = fast.Optimistic(db, programs) if db.is_postgres else None

    def claimant(self, given: Claimant | None = None) -> tuple[Claimant | None, LocalWorker | None]:
        """``given``, else the local worker's claimant (and the worker, to hand the jobs to)."""
        if given is not None or self.local is None:
            return given, None
        claimant = self.local.claimant()
        return claimant, self.local if claimant is not None else None

    async def apply(
        self,
        execution_id: str,
        command: c.Command,
        *,
        fence: Fence | None = None,
        claimant: Claimant | None = None,
    ) -> Outcome:
        """Apply ``command`` to the execution and deliver what it sent to others. Raises
        :class:`NotFound`, :class:`StaleClaim` (the fence no longer holds) or
        :class:`CommandRejected` (the engine refused the command; nothing changed)."""
        claimant, local = self.claimant(claimant)
        outcome = None
        if self.optimistic is not None:
            held = None if fence is None else (fence.table.name, fence.id, fence.claims)
            outcome = await self.optimistic.apply(self, execution_id, command, fence=held, claimant=claimant)
        if outcome is None:
            outcome = await self.db.transaction(
                lambda conn: self._apply_txn(conn, execution_id, command, fence, claimant)
            )
        await self.committed(outcome, local)
        if outcome.rejected is not None:
            raise CommandRejected(execution_id, outcome.rejected)
        return outcome

    async def _apply_txn(
        self,
        conn: AsyncConnection,
        execution_id: str,
        command: c.Command,
        fence: Fence | None,
        claimant: Claimant | None,
    ) -> Outcome:
        held_by = None if fence is None else (fence.table.name, fence.id)
        row, held = await hotpath.lock(conn, execution_id, held_by)
        if row is None:
            raise NotFound("execution", execution_id)
        if fence is not None and held != fence.claims:
            raise StaleClaim(fence.table.name.rstrip("s"), fence.id, fence.claims)
        return await self.step_txn(conn, row, command, claimant=claimant)

    async def step_txn(
        self,
        conn: AsyncConnection,
        row: ExecutionRow,
        command: c.Command,
        *,
        claimant: Claimant | None = None,
        delivered: bool = False,
    ) -> Outcome:
        """Inside the caller's transaction, with ``row`` locked: step, write, and report. The end
        of a root execution releases the queued executions that now fit (:mod:`.limits`).
        ``delivered``: the command came through the inbox, so a refused start fails the
        execution rather than undoing it."""
        if self.optimistic is not None:
            self.optimistic.forget(row.id)
        now = self.clock()
        writer = await self._writer(conn, row, now, claimant)
        if row.status == "queued":
            return await self._queued(writer, command)
        state, rejected = await writer.run(load_state(row.state) if row.state is not None else None, command)
        if rejected is not None:
            return await self._refused(writer, command, rejected, delivered)
        assert state is not None
        await writer.flush(state, state["status"], state.get("error"))
        outcome = writer.outcome(state["status"])
        if row.parent_id is None and row.status in limits.ACTIVE and outcome.status not in limits.ACTIVE:
            outcome.outgoing.extend(await self._release(conn, row, now))
        return outcome

    async def _writer(
        self, conn: AsyncConnection, row: ExecutionRow, now: datetime, claimant: Claimant | None
    ) -> StepWriter:
        return StepWriter(
            conn,
            row,
            await self.programs.get(conn, row.version_id),
            now,
            message_ttl=self.message_ttl,
            inbox_grace=self.inbox_grace,
            claimant=claimant,
            everywhere=self.max_concurrent_executions,
        )

    async def _release(self, conn: AsyncConnection, row: ExecutionRow, now: datetime) -> list[Outgoing]:
        """A root execution ended: start the queued executions its slot lets through."""
        everywhere = self.max_concurrent_executions
        if everywhere is None and await limits.limits_of(conn, row.workflow_id) == (None, None):
            return []
        await limits.lock_scope(conn, row.tenant_id, everywhere)
        return await limits.release(
            conn, tenant_id=row.tenant_id, everywhere=everywhere, now=now, grace=self.inbox_grace
        )

    async def _queued(self, writer: StepWriter, command: c.Command) -> Outcome:
        """A queued execution can only be cancelled: its start command is dropped."""
        row = writer.row
        if not isinstance(command, c.Cancel):
            return Outcome(execution_id=row.id, status=row.status, rejected="the execution is queued")
        await writer.conn.execute(
            delete(commands).where(commands.c.execution_id == row.id, commands.c.due_at.is_(None))
        )
        entry = (writer.now, "execution.cancelled", row.process_id, None, {"reason": command.reason})
        await writer.apply(History.make(entry))
        await writer.flush(None, "cancelled", None)
        return writer.outcome("cancelled")

    async def _refused(self, writer: StepWriter, command: c.Command, reason: str, delivered: bool) -> Outcome:
        """A refused command changes nothing, except that an execution whose start came through the
        inbox (a called one, one started by a message or signal, one released from the queue)
        fails, and tells its caller or lets the next queued one through."""
        row = writer.row
        if not (
            isinstance(command, c.Start) and row.state is None and (row.parent_id is not None or delivered)
        ):
            return Outcome(execution_id=row.id, status=row.status, rejected=reason)
        entry = (writer.now, "execution.failed", row.process_id, None, {"error": reason, "code": None})
        await writer.apply(History.make(entry))
        await writer.flush(None, "failed", reason)
        if row.parent_id is not None:
            await writer.inbox.send(row.parent_id, c.ChildFailed(call_id=row.id, message=reason))
        outcome = writer.outcome("failed")
        if row.parent_id is None:
            outcome.outgoing.extend(await self._release(writer.conn, row, writer.now))
        return outcome

    async def committed(self, outcome: Outcome, local: LocalWorker | None = None) -> None:
        """After a commit: hand the jobs claimed for the ``local`` worker to it, tell the listener,
        then deliver the commands sent to other executions."""
        if local is not None and outcome.claimed:
            local.hand_over(outcome.claimed)
        self._heard(outcome)
        await self.deliver(outcome.outgoing)

    def _heard(self, outcome: Outcome) -> None:
        """Tell this process's listener of a commit, and other processes' workers of ready jobs."""
        if self.on_commit is not None:
            self.on_commit(outcome)
        if outcome.jobs_ready:
            self.db.notify(q.JOBS_CHANNEL)

    async def deliver(self, outgoing: Iterable[Outgoing]) -> None:
        """Deliver inbox commands in order, each in its own transaction, with what they send in turn.
        A failure leaves the command in the inbox, where a worker claims it later."""
        queue = list(outgoing)
        while queue:
            item = queue.pop(0)
            claimant, local = self.claimant()
            try:
                outcome = await self.db.transaction(
                    lambda conn, item=item, claimant=claimant: self._deliver_txn(
                        conn, item.command_id, item.execution_id, None, claimant
                    )
                )
            except Exception:
                log.exception(
                    "delivering command %s to execution %s failed; a worker will retry it",
                    item.command_id,
                    item.execution_id,
                )
                continue
            if outcome is not None:
                if local is not None and outcome.claimed:
                    local.hand_over(outcome.claimed)
                self._heard(outcome)
                queue.extend(outcome.outgoing)

    async def discard(self, fence: Fence) -> None:
        """Drop a claimed job or timer that its execution refused (it ended, or moved on)."""
        await self.db.transaction(lambda conn: q.delete_claimed(conn, fence.table, fence.id, fence.claims))

    async def deliver_claimed(self, claim: Claim) -> None:
        """Deliver an inbox command a worker claimed (one its producer did not deliver in time)."""
        claimant, local = self.claimant()
        outcome = await self.db.transaction(
            lambda conn: self._deliver_txn(conn, claim.id, claim.execution_id, claim.claims, claimant)
        )
        if outcome is not None:
            await self.committed(outcome, local)

    async def _deliver_txn(
        self,
        conn: AsyncConnection,
        command_id: int,
        execution_id: str,
        claims: int | None,
        claimant: Claimant | None,
    ) -> Outcome | None:
        row, _ = await hotpath.lock(conn, execution_id)
        data = await q.take_command(conn, command_id, claims)
        if data is None:
            return None  # delivered already
        if row is None:
            log.warning("command %s for unknown execution %s dropped", command_id, execution_id)
            return None
        outcome = await self.step_txn(conn, row, command_from_json(data), claimant=claimant, delivered=True)
        if outcome.rejected is not None:
            log.info("execution %s refused a delivered command: %s", execution_id, outcome.rejected)
        return outcome


__all__ = ["Claimant", "Fence", "LocalWorker", "Outcome", "Transitions", "utcnow"]
