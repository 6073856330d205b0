"""Transitions on PostgreSQL in one statement, when they can be: the common steps of a running
execution (a job done or failed, a timer fired, a start, a cancellation) whose rows are all hot
rows (its state, jobs, timers, history, outbox).

Such a step is computed from the execution as this process last wrote it (or as read, outside any
transaction, when it has not), then written by :func:`~.hotpath.write_alone`: one statement that
commits by itself, and only if the execution is still at the version the step started from, the
job or timer reported on is still held by the same claim, and, for a start or the end of a root
execution, no concurrency limit applies. One round trip instead of four (``BEGIN``, the lock, the
write, ``COMMIT``); several steps of one execution never interleave, because each is a
compare-and-set on its version. The statements of concurrent transitions travel together
(:mod:`.batching`): one round trip and one commit for many.

Whatever is not this simple answers ``None``, and the caller takes the locked path of
:class:`~.transitions.Transitions`, which decides everything the same way: a step that writes
other rows (user tasks, subscriptions, messages, called executions, incidents), a refused
command, a moved execution, a stale claim, a limited workflow or tenant, a global limit.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, Protocol

from apg_workflow.engine import commands as c
from apg_workflow.engine.migrations import load_state
from apg_workflow.engine.program import Program
from apg_workflow.store import hotpath
from apg_workflow.store.batching import Batcher
from apg_workflow.store.db import Database
from apg_workflow.store.definitions import Target, find_target
from apg_workflow.store.effects import Claimant, ColdStep, StepWriter
from apg_workflow.store.limits import ACTIVE
from apg_workflow.store.programs import ProgramCache
from apg_workflow.store.records import ExecutionRow, Outcome

_ROWS = 1024  # executions whose last written row this process keeps
_TARGETS = 1024  # workflows whose latest version this process keeps


class Settings(Protocol):
    """What the steps need besides the database (the transitions' own attributes)."""

    @property
    def clock(self) -> Callable[[], datetime]: ...
    @property
    def message_ttl(self) -> timedelta: ...
    @property
    def inbox_grace(self) -> timedelta: ...
    @property
    def max_concurrent_executions(self) -> int | None: ...


class Optimistic:
    """The single-statement transitions of one process, with what it last wrote."""

    def __init__(self, db: Database, programs: ProgramCache) -> None:
        self.db = db
        self.programs = programs
        self.batcher = Batcher(db)
        self._rows: OrderedDict[str, ExecutionRow] = OrderedDict()
        self._targets: OrderedDict[tuple[str, str, int | None], Target] = OrderedDict()

    async def apply(
        self,
        settings: Settings,
        execution_id: str,
        command: c.Command,
        *,
        fence: tuple[str, str, int] | None,
        claimant: Claimant | None,
    ) -> Outcome | None:
        """Apply ``command`` in one statement; ``None`` when it takes the locked path."""
        row = self._rows.pop(execution_id, None)
        if row is None:
            sql, args = hotpath.read_alone(execution_id)
            row = hotpath.read_answer(await self.batcher.fetch(sql, args, execution_id))
        if row is None or row.state is None or row.status != "running":
            return None
        writer = await self._writer(settings, row, claimant)
        return await self._write(settings, writer, load_state(row.state), command, fence=fence, new=None)

    async def start(
        self,
        settings: Settings,
        *,
        execution_id: str,
        tenant_id: str,
        key: str,
        version: int | None,
        command: c.Start,
        claimant: Claimant | None,
    ) -> Outcome | None:
        """Start an execution of workflow ``key`` in one statement; ``None`` when it takes the
        locked path (an unknown or limited workflow, a refused start, a first step with cold
        rows). Raises :class:`~sqlalchemy.exc.IntegrityError` when the business key is taken."""
        if settings.max_concurrent_executions is not None:
            return None
        target = await self._target(tenant_id, key, version)
        if target is None or target.limited:
            return None
        row = ExecutionRow(
            id=execution_id,
            tenant_id=tenant_id,
            workflow_id=target.workflow_id,
            version_id=target.version_id,
            process_id=None,
            parent_id=None,
            root_id=execution_id,
            status="pending",
            state=None,
            version=0,
        )
        writer = await self._writer(settings, row, claimant)
        new = hotpath.NewExecution(command.business_key, target.version if version is None else None)
        outcome = await self._write(settings, writer, None, command, fence=None, new=new)
        if outcome is None:
            self._targets.pop((tenant_id, key, version), None)  # moved on, or became limited
        return outcome

    def forget(self, execution_id: str) -> None:
        """Drop what this process remembers of an execution (a locked transition changed it)."""
        self._rows.pop(execution_id, None)

    async def _writer(self, settings: Settings, row: ExecutionRow, claimant: Claimant | None) -> StepWriter:
        return StepWriter(
            None,
            row,
            await self._program(row.version_id),
            settings.clock(),
            message_ttl=settings.message_ttl,
            inbox_grace=settings.inbox_grace,
            claimant=claimant,
            everywhere=settings.max_concurrent_executions,
        )

    async def _write(
        self,
        settings: Settings,
        writer: StepWriter,
        state: dict[str, Any] | None,
        command: c.Command,
        *,
        fence: tuple[str, str, int] | None,
        new: hotpath.NewExecution | None,
    ) -> Outcome | None:
        try:
            state, rejected = await writer.run(state, command)
        except ColdStep:
            return None
        if rejected is not None or state is None:
            return None
        status = state["status"]
        ends_root = status not in ACTIVE and writer.row.parent_id is None
        if ends_root and settings.max_concurrent_executions is not None:
            return None
        rows = writer.rows(state, status, state.get("error"))
        rows.fence, rows.unlimited, rows.new = fence, ends_root, new
        sql, args = hotpath.write_alone(rows)
        saved, claims = hotpath.write_answer(await self.batcher.fetch(sql, args, writer.row.id))
        if not saved:
            return None
        writer.written(rows, claims)
        if status == "running":
            moved = replace(
                writer.row,
                process_id=state["process_id"],
                state=state,
                status=status,
                version=writer.row.version + 1,
            )
            self._remember(moved)
        return writer.outcome(status)

    def _remember(self, row: ExecutionRow) -> None:
        self._rows[row.id] = row
        if len(self._rows) > _ROWS:
            self._rows.popitem(last=False)

    async def _program(self, version_id: int) -> Program:
        program = self.programs.cached(version_id)
        if program is None:
            program = await self.db.read(lambda conn: self.programs.get(conn, version_id))
        return program

    async def _target(self, tenant_id: str, key: str, version: int | None) -> Target | None:
        cache_key = (tenant_id, key, version)
        target = self._targets.get(cache_key)
        if target is None:
            target = await self.db.read(lambda conn: find_target(conn, tenant_id, key, version))
            if target is None or target.limited:  # a limited one is read again: its limit may go
                return target
            self._targets[cache_key] = target
            if len(self._targets) > _TARGETS:
                self._targets.popitem(last=False)
        return target


__all__ = ["Optimistic", "Settings"]
