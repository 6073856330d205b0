"""Concurrency limits: how many root executions may be active (``pending`` or ``running``) at once,
per workflow (``workflows.max_concurrent_executions``), per tenant
(``tenants.max_concurrent_executions``) and in the whole database (the process setting
``APG_MAX_CONCURRENT_EXECUTIONS``, the same on every process).

A start beyond a limit is never refused: its execution is stored ``queued`` with its start command
held in the command inbox (``due_at`` NULL, which no claim takes). Whenever a limited execution
ends, in the transaction that ends it, the oldest queued executions that now fit are released: the
row becomes ``pending`` and its command due, delivered right after the commit (or by a worker,
should that delivery fail). Executions called by others (call activities) do not count and never
wait: their caller holds the slot.

Every transaction that counts or releases holds one lock for the bookkeeping of its tenant (with a
global limit, one for the whole database): a PostgreSQL advisory lock, taken after any execution
row lock; on SQLite the write transaction already holds the file. Counts and releases are
therefore exact with any number of workers. Queued rows are taken ``SKIP LOCKED``, so a release
never waits for the cancellation of a queued execution.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, insert, select, text, tuple_, update
from sqlalchemy.ext.asyncio import AsyncConnection

from apg_workflow.engine import commands as c
from apg_workflow.store.codec import command_to_json
from apg_workflow.store.errors import NotFound
from apg_workflow.store.records import Outgoing
from apg_workflow.store.tables import commands, executions, tenants, workflows

if TYPE_CHECKING:
    from apg_workflow.store.transitions import Transitions

ACTIVE = ("pending", "running")
# The predicates of the partial indexes ix_executions_active and ix_executions_queued (tables.py),
# written the same way so that both dialects use them.
_ACTIVE_ROOT = text("executions.status IN ('pending', 'running') AND executions.parent_id IS NULL")
_QUEUED = text("executions.status = 'queued'")
_BATCH = 100
_GLOBAL_KEY = "apg-limits"

Scope = tuple[str | None, int | None]  # (tenant id, workflow id): (None, None) is everything


@dataclass(frozen=True, slots=True)
class Queueing:
    """What a transaction that may start limited workflows needs: the global limit, when promoted
    start commands fall due (the inbox grace), and where to put them for delivery after the
    commit."""

    everywhere: int | None
    grace: timedelta
    promoted: Callable[[Outgoing], None]


async def lock_scope(conn: AsyncConnection, tenant_id: str, everywhere: int | None) -> None:
    """Serialize the limits' bookkeeping of ``tenant_id`` (of everything with a global limit)."""
    if conn.dialect.name == "postgresql":
        key = _GLOBAL_KEY if everywhere is not None else f"{_GLOBAL_KEY}:{tenant_id}"
        await conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": key})


async def limits_of(conn: AsyncConnection, workflow_id: int) -> tuple[int | None, int | None]:
    """(the workflow's limit, its tenant's limit)."""
    w, t = workflows.c, tenants.c
    stmt = (
        select(w.max_concurrent_executions, t.max_concurrent_executions)
        .outerjoin(tenants, t.id == w.tenant_id)
        .where(w.id == workflow_id)
    )
    row = (await conn.execute(stmt)).first()
    return (None, None) if row is None else (row[0], row[1])


async def queue(conn: AsyncConnection, row: Mapping[str, Any], command: c.Start, now: datetime) -> int:
    """Store an execution (``row``, as :func:`~.routing.pending_execution` makes it) as queued, its
    start command held; returns the command's id."""
    await conn.execute(insert(executions), dict(row) | {"status": "queued"})
    stmt = (
        insert(commands)
        .values(
            tenant_id=row["tenant_id"],
            execution_id=row["id"],
            command=command_to_json(command),
            due_at=None,
            created_at=now,
        )
        .returning(commands.c.id)
    )
    return int((await conn.execute(stmt)).scalar_one())


async def admit(
    conn: AsyncConnection,
    row: Mapping[str, Any],
    command: c.Start,
    *,
    now: datetime,
    everywhere: int | None,
    grace: timedelta,
) -> tuple[int | None, list[Outgoing]]:
    """Queue a new execution of a limited workflow, then release what fits, oldest first. Returns
    the new execution's command id when it was released itself (its caller starts it), and the
    other releases."""
    await lock_scope(conn, row["tenant_id"], everywhere)
    await queue(conn, row, command, now)
    released = await release(conn, tenant_id=row["tenant_id"], everywhere=everywhere, now=now, grace=grace)
    own = next((r.command_id for r in released if r.execution_id == row["id"]), None)
    return own, [r for r in released if r.execution_id != row["id"]]


async def release(
    conn: AsyncConnection, *, tenant_id: str, everywhere: int | None, now: datetime, grace: timedelta
) -> list[Outgoing]:
    """Release the oldest queued executions of ``tenant_id`` (of every tenant with a global limit)
    while they fit under every limit that applies to them. The caller holds :func:`lock_scope`."""
    released: list[Outgoing] = []
    counts: dict[Scope, int] = {}
    after: tuple[datetime, int] | None = None
    while True:
        batch = await _queued(conn, None if everywhere is not None else tenant_id, after)
        for candidate in batch:
            scopes = _scopes(candidate, everywhere)
            full = [scope for scope, limit in scopes if await _active(conn, counts, scope) >= limit]
            if not full:
                released.append(await _promote(conn, candidate, now, grace))
                for scope, _ in scopes:
                    counts[scope] += 1
            elif (None if everywhere is not None else candidate.tenant_id, None) in full:
                return released  # the widest scope is full: nothing after this one fits either
        if len(batch) < _BATCH:
            return released
        after = (batch[-1].created_at, batch[-1].command_id)


def _scopes(candidate: Any, everywhere: int | None) -> list[tuple[Scope, int]]:
    scopes: list[tuple[Scope, int]] = []
    if everywhere is not None:
        scopes.append(((None, None), everywhere))
    if candidate.tenant_limit is not None:
        scopes.append(((candidate.tenant_id, None), candidate.tenant_limit))
    if candidate.workflow_limit is not None:
        scopes.append(((candidate.tenant_id, candidate.workflow_id), candidate.workflow_limit))
    return scopes


async def _active(conn: AsyncConnection, counts: dict[Scope, int], scope: Scope) -> int:
    if scope not in counts:
        counts[scope] = await count_active(conn, tenant_id=scope[0], workflow_id=scope[1])
    return counts[scope]


async def count_active(
    conn: AsyncConnection, *, tenant_id: str | None = None, workflow_id: int | None = None
) -> int:
    """Root executions pending or running, of a tenant, of one of its workflows, or of all."""
    x = executions.c
    stmt = select(func.count()).select_from(executions).where(_ACTIVE_ROOT)
    if tenant_id is not None:
        stmt = stmt.where(x.tenant_id == tenant_id)
    if workflow_id is not None:
        stmt = stmt.where(x.workflow_id == workflow_id)
    return int((await conn.execute(stmt)).scalar_one())


async def _queued(
    conn: AsyncConnection, tenant_id: str | None, after: tuple[datetime, int] | None
) -> list[Any]:
    """The next queued executions, oldest first (ties in the order they were queued)."""
    x, m, w, t = executions.c, commands.c, workflows.c, tenants.c
    stmt = (
        select(
            x.id,
            x.tenant_id,
            x.workflow_id,
            x.created_at,
            m.id.label("command_id"),
            w.max_concurrent_executions.label("workflow_limit"),
            t.max_concurrent_executions.label("tenant_limit"),
        )
        .join(commands, (m.execution_id == x.id) & m.due_at.is_(None))
        .join(workflows, w.id == x.workflow_id)
        .outerjoin(tenants, t.id == x.tenant_id)
        .where(_QUEUED)
        .order_by(x.created_at, m.id)
        .limit(_BATCH)
        .with_for_update(of=executions, skip_locked=True)
    )
    if tenant_id is not None:
        stmt = stmt.where(x.tenant_id == tenant_id)
    if after is not None:
        stmt = stmt.where(tuple_(x.created_at, m.id) > tuple_(*after))
    return list((await conn.execute(stmt)).all())


async def _promote(conn: AsyncConnection, candidate: Any, now: datetime, grace: timedelta) -> Outgoing:
    await conn.execute(
        update(executions).where(executions.c.id == candidate.id).values(status="pending", updated_at=now)
    )
    await conn.execute(
        update(commands).where(commands.c.id == candidate.command_id).values(due_at=now + grace)
    )
    return Outgoing(candidate.command_id, candidate.id)


async def queued_tenants(conn: AsyncConnection) -> list[str]:
    """The tenants with queued executions."""
    x = executions.c
    stmt = select(x.tenant_id).where(_QUEUED).group_by(x.tenant_id)
    return list((await conn.execute(stmt)).scalars())


async def set_limit_txn(
    conn: AsyncConnection,
    *,
    tenant_id: str,
    key: str | None,
    limit: int | None,
    everywhere: int | None,
    now: datetime,
    grace: timedelta,
) -> list[Outgoing]:
    """Set (``None``: remove) the limit of workflow ``key`` (``None``: of the tenant), and release
    what now fits."""
    await lock_scope(conn, tenant_id, everywhere)
    if key is None:
        stmt = update(tenants).where(tenants.c.id == tenant_id)
    else:
        stmt = update(workflows).where(workflows.c.tenant_id == tenant_id, workflows.c.key == key)
    if (await conn.execute(stmt.values(max_concurrent_executions=limit))).rowcount == 0:
        raise NotFound("tenant", tenant_id) if key is None else NotFound("workflow", key)
    return await release(conn, tenant_id=tenant_id, everywhere=everywhere, now=now, grace=grace)


async def set_limit(
    transitions: Transitions, *, tenant_id: str, key: str | None = None, limit: int | None
) -> None:
    """Set (``None``: remove) the limit of workflow ``key`` (``None``: of the tenant); what it lets
    through starts now."""
    await _releasing(
        transitions,
        lambda conn, now: set_limit_txn(
            conn,
            tenant_id=tenant_id,
            key=key,
            limit=limit,
            everywhere=transitions.max_concurrent_executions,
            now=now,
            grace=transitions.inbox_grace,
        ),
    )


async def release_queued(transitions: Transitions) -> int:
    """Release the queued executions that fit, tenant by tenant (at once with a global limit);
    how many. A safety net: the transition that frees a slot releases what it lets through."""
    everywhere = transitions.max_concurrent_executions
    waiting = await transitions.db.read(queued_tenants)
    released = 0
    for tenant_id in waiting[:1] if everywhere is not None else waiting:

        async def work(conn: AsyncConnection, now: datetime, tenant_id: str = tenant_id) -> list[Outgoing]:
            await lock_scope(conn, tenant_id, everywhere)
            return await release(
                conn, tenant_id=tenant_id, everywhere=everywhere, now=now, grace=transitions.inbox_grace
            )

        released += await _releasing(transitions, work)
    return released


async def _releasing(
    transitions: Transitions, work: Callable[[AsyncConnection, datetime], Awaitable[list[Outgoing]]]
) -> int:
    """Run ``work`` in a transaction, then start what it released."""
    now = transitions.clock()
    released = await transitions.db.transaction(lambda conn: work(conn, now))
    await transitions.deliver(released)
    return len(released)


async def workflow_limit(conn: AsyncConnection, tenant_id: str, key: str) -> int | None:
    """The limit of workflow ``key`` (``None``: none)."""
    w = workflows.c
    stmt = select(w.id, w.max_concurrent_executions).where(w.tenant_id == tenant_id, w.key == key)
    row = (await conn.execute(stmt)).first()
    if row is None:
        raise NotFound("workflow", key)
    return row[1]


__all__ = [
    "ACTIVE",
    "Queueing",
    "admit",
    "count_active",
    "limits_of",
    "lock_scope",
    "queue",
    "queued_tenants",
    "release",
    "release_queued",
    "set_limit",
    "set_limit_txn",
    "workflow_limit",
]
