"""Transitions: one engine step, one transaction.

:meth:`Transitions.apply` locks the execution row, applies the command with the pure
:func:`~apg_workflow.engine.step`, then the commands the step sent to the execution itself (a
buffered message its new subscription took), writes the new state and the rows of every effect,
and commits: nothing is half-applied. Commands for other executions (a child's start or end, a
message, a signal, a cancellation) go to the command inbox in the same transaction and are
delivered right after the commit, each in its own transaction; what a crash leaves in the inbox is
claimed by a worker once ``inbox_grace`` has passed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncConnection

from apg_workflow.engine import commands as c
from apg_workflow.engine.effects import Rejected
from apg_workflow.engine.migrations import load_state
from apg_workflow.engine.step import step
from apg_workflow.store import hotpath
from apg_workflow.store import queries as q
from apg_workflow.store.codec import command_from_json
from apg_workflow.store.db import Database
from apg_workflow.store.effects import Claimant, Inbox, Outgoing, StepWriter
from apg_workflow.store.errors import CommandRejected, NotFound, StaleClaim
from apg_workflow.store.programs import ProgramCache
from apg_workflow.store.records import Claim, ExecutionRow, JobRecord

log = logging.getLogger(__name__)


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Fence:
    """The claim a report must still hold: a job's or a timer's id and claim number."""

    table: Table
    id: str
    claims: int


@dataclass(slots=True)
class Outcome:
    """What one transition did."""

    execution_id: str
    status: str
    rejected: str | None = None
    claimed: list[JobRecord] = field(default_factory=list)
    outgoing: list[Outgoing] = field(default_factory=list)
    jobs_ready: bool = False
    timer_set: datetime | None = None


class Transitions:
    """Applies commands to executions durably. ``on_commit`` hears of every committed outcome (the
    in-process wake-ups of workers and the timer poller)."""

    def __init__(
        self,
        db: Database,
        programs: ProgramCache,
        *,
        clock: Callable[[], datetime] = utcnow,
        message_ttl: timedelta = timedelta(hours=1),
        inbox_grace: timedelta = timedelta(seconds=30),
        on_commit: Callable[[Outcome], None] | None = None,
    ) -> None:
        self.db = db
        self.programs = programs
        self.clock = clock
        self.message_ttl = message_ttl
        self.inbox_grace = inbox_grace
        self.on_commit = on_commit

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

        held_by = None if fence is None else (fence.table.name, fence.id)

        async def work(conn: AsyncConnection) -> Outcome:
            row, held = await hotpath.lock(conn, execution_id, held_by)
            if row is None:
                raise NotFound("execution", execution_id)
            if fence is not None and held != fence.claims:
                raise StaleClaim(fence.table.name.rstrip("s"), fence.id, fence.claims)
            return await self.step_txn(conn, row, command, claimant=claimant)

        outcome = await self.db.transaction(work)
        await self.committed(outcome)
        if outcome.rejected is not None:
            raise CommandRejected(execution_id, outcome.rejected)
        return outcome

    async def step_txn(
        self,
        conn: AsyncConnection,
        row: ExecutionRow,
        command: c.Command,
        *,
        claimant: Claimant | None = None,
    ) -> Outcome:
        """Inside the caller's transaction, with ``row`` locked: step, write, and report."""
        now = self.clock()
        program = await self.programs.get(conn, row.version_id)
        writer = StepWriter(
            conn,
            row,
            program,
            now,
            message_ttl=self.message_ttl,
            inbox_grace=self.inbox_grace,
            claimant=claimant,
        )
        state = load_state(row.state) if row.state is not None else None
        pending: list[c.Command] = [command]
        first = True
        while pending:
            current = pending.pop(0)
            new_state, effects = step(program, state, current, now)
            rejected = next((x.reason for x in effects if isinstance(x, Rejected)), None)
            if rejected is not None:
                if first:
                    return await self._refused(conn, row, current, rejected, now)
                log.info("execution %s: %s refused: %s", row.id, type(current).__name__, rejected)
                continue
            first = False
            state = new_state
            assert state is not None
            await writer.forget(current, state["waits"])
            for effect in effects:
                await writer.apply(effect)
            pending.extend(writer.local)
            writer.local.clear()
        assert state is not None
        await writer.flush(state, state["status"], state.get("error"))
        return Outcome(
            execution_id=row.id,
            status=state["status"],
            claimed=writer.claimed,
            outgoing=writer.outgoing,
            jobs_ready=writer.jobs_ready,
            timer_set=writer.timer_set,
        )

    async def _refused(
        self, conn: AsyncConnection, row: ExecutionRow, command: c.Command, reason: str, now: datetime
    ) -> Outcome:
        """A refused command changes nothing, except that a child execution that cannot start fails
        and tells its parent (as the in-memory driver does)."""
        if not (isinstance(command, c.Start) and row.state is None and row.parent_id is not None):
            return Outcome(execution_id=row.id, status=row.status, rejected=reason)
        await hotpath.write(conn, hotpath.StepRows(row, now, state=None, status="failed", error=reason))
        inbox = Inbox(conn, row.tenant_id, now, self.inbox_grace)
        await inbox.send(row.parent_id, c.ChildFailed(call_id=row.id, message=reason))
        return Outcome(execution_id=row.id, status="failed", outgoing=inbox.outgoing)

    async def committed(self, outcome: Outcome) -> None:
        """After a commit: tell the listener, then deliver the commands sent to other executions."""
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
            try:
                outcome = await self.db.transaction(
                    lambda conn, item=item: self._deliver_txn(conn, item.command_id, item.execution_id, None)
                )
            except Exception:
                log.exception(
                    "delivering command %s to execution %s failed; a worker will retry it",
                    item.command_id,
                    item.execution_id,
                )
                continue
            if outcome is not None:
                self._heard(outcome)
                queue.extend(outcome.outgoing)

    async def discard(self, fence: Fence) -> None:
        """Drop a claimed job or timer that its execution refused (it ended, or moved on)."""
        await self.db.transaction(lambda conn: q.delete_claimed(conn, fence.table, fence.id, fence.claims))

    async def deliver_claimed(self, claim: Claim) -> None:
        """Deliver an inbox command a worker claimed (one its producer did not deliver in time)."""
        outcome = await self.db.transaction(
            lambda conn: self._deliver_txn(conn, claim.id, claim.execution_id, claim.claims)
        )
        if outcome is not None:
            await self.committed(outcome)

    async def _deliver_txn(
        self, conn: AsyncConnection, command_id: int, execution_id: str, claims: int | None
    ) -> Outcome | None:
        row, _ = await hotpath.lock(conn, execution_id)
        data = await q.take_command(conn, command_id, claims)
        if data is None:
            return None  # delivered already
        if row is None:
            log.warning("command %s for unknown execution %s dropped", command_id, execution_id)
            return None
        outcome = await self.step_txn(conn, row, command_from_json(data))
        if outcome.rejected is not None:
            log.info("execution %s refused a delivered command: %s", execution_id, outcome.rejected)
        return outcome


__all__ = ["Claimant", "Fence", "Outcome", "Transitions", "utcnow"]
