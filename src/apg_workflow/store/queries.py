"""The hot-path SQL, in one place: lock an execution, save its state, claim due work with a lease,
fence a report, write the rows a step produces, route messages. Every function takes the
connection of the caller's transaction; none commits.

Claims use ``FOR UPDATE SKIP LOCKED`` on PostgreSQL (rendered as nothing on SQLite, where the
write transaction already holds the file's lock), so concurrent claimers never wait on each
other and never take the same row.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Table, and_, bindparam, delete, func, insert, or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from apg_workflow.store import hotpath
from apg_workflow.store.records import Claim, ExecutionRow, JobRecord, Source
from apg_workflow.store.tables import (
    buffered_messages,
    commands,
    executions,
    incidents,
    jobs,
    outbox,
    start_triggers,
    subscriptions,
    user_tasks,
    workflow_versions,
)

JOBS_CHANNEL = "apg_workflow_jobs"  # NOTIFY'd when jobs become ready (Database.notify)

_JOB_RECORD = [jobs.c[name] for name in JobRecord.__dataclass_fields__]


def _postgres(conn: AsyncConnection) -> bool:
    return conn.dialect.name == "postgresql"


# Executions ---------------------------------------------------------------------------------------


async def lock_execution(conn: AsyncConnection, execution_id: str) -> ExecutionRow | None:
    """The execution, its row locked until the transaction ends (SQLite: the write lock is held)."""
    row, _ = await hotpath.lock(conn, execution_id)
    return row


async def insert_execution(conn: AsyncConnection, values: Mapping[str, Any]) -> None:
    await conn.execute(insert(executions), dict(values))


async def version_sources(conn: AsyncConnection, version_id: int) -> list[Source]:
    stmt = select(workflow_versions.c.sources).where(workflow_versions.c.id == version_id)
    raw = (await conn.execute(stmt)).scalar_one()
    return [Source(name=s["name"], format=s["format"], text=s["text"]) for s in raw]


# Claims, leases and fencing -------------------------------------------------------------------


@cache
def _claim_statement(table: Table) -> Any:
    """The claim of ``table`` (built once; its values are bound per call)."""
    due = (
        select(table.c.id)
        .where(table.c.due_at <= bindparam("now"))
        .order_by(table.c.due_at)
        .limit(bindparam("limit"))
        .with_for_update(skip_locked=True)
    )
    returned = _JOB_RECORD if table is jobs else [table.c.id, table.c.execution_id, table.c.claims]
    return (
        update(table)
        .where(table.c.id.in_(due))
        .values(due_at=bindparam("until"), claimed_by=bindparam("worker"), claims=table.c.claims + 1)
        .returning(*returned, table.c.due_at)
    )


async def claim(
    conn: AsyncConnection, table: Table, *, worker: str, now: datetime, until: datetime, limit: int
) -> list[Any]:
    """Take up to ``limit`` rows of ``table`` that are due, oldest first, for ``worker`` until
    ``until``; each claim bumps the row's ``claims`` (its fencing token)."""
    params = {"now": now, "limit": limit, "until": until, "worker": worker}
    return list((await conn.execute(_claim_statement(table), params)).all())


async def claim_jobs(
    conn: AsyncConnection, *, worker: str, now: datetime, until: datetime, limit: int
) -> list[JobRecord]:
    rows = await claim(conn, jobs, worker=worker, now=now, until=until, limit=limit)
    return [JobRecord.from_row(row) for row in rows]


async def claim_rows(
    conn: AsyncConnection, table: Table, *, worker: str, now: datetime, until: datetime, limit: int
) -> list[Claim]:
    rows = await claim(conn, table, worker=worker, now=now, until=until, limit=limit)
    return [Claim.from_row(row) for row in rows]


async def release(
    conn: AsyncConnection, table: Table, ids: Sequence[Any], *, worker: str, now: datetime
) -> int:
    """Give claimed rows back (due now), if ``worker`` still holds them."""
    if not ids:
        return 0
    stmt = (
        update(table)
        .where(table.c.id.in_(ids), table.c.claimed_by == worker)
        .values(due_at=now, claimed_by=None)
    )
    return (await conn.execute(stmt)).rowcount


async def delete_claimed(conn: AsyncConnection, table: Table, row_id: Any, claims: int) -> int:
    """Drop a claimed row that cannot be used (its execution refuses it), if the claim still holds."""
    stmt = delete(table).where(table.c.id == row_id, table.c.claims == claims)
    return (await conn.execute(stmt)).rowcount


async def next_due(conn: AsyncConnection, table: Table) -> datetime | None:
    return (await conn.execute(select(func.min(table.c.due_at)))).scalar_one_or_none()


# Rows a step writes ---------------------------------------------------------------------------


@cache
def _upsert(dialect: str, table: Table, names: tuple[str, ...]) -> Any:
    """``INSERT … ON CONFLICT (id) DO UPDATE`` of ``names`` (built once per shape)."""
    stmt = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
    changed = {name: stmt.excluded[name] for name in names if name not in ("id", "created_at")}
    return stmt.on_conflict_do_update(index_elements=[table.c.id], set_=changed)


async def upsert(conn: AsyncConnection, table: Table, rows: list[dict[str, Any]]) -> None:
    if rows:
        await conn.execute(_upsert(conn.dialect.name, table, tuple(rows[0])), rows)


async def insert_rows(conn: AsyncConnection, table: Table, rows: list[dict[str, Any]]) -> None:
    if rows:
        await conn.execute(insert(table), rows)


async def delete_ids(conn: AsyncConnection, table: Table, ids: Iterable[Any]) -> None:
    chosen = list(ids)
    if chosen:
        await conn.execute(delete(table).where(table.c.id.in_(chosen)))


async def set_task_status(
    conn: AsyncConnection, task_id: str, status: str, now: datetime, result: Mapping[str, Any] | None
) -> None:
    stmt = update(user_tasks).where(user_tasks.c.id == task_id, user_tasks.c.status == "open")
    await conn.execute(stmt.values(status=status, completed_at=now, result=result))


async def resolve_incident(conn: AsyncConnection, incident_id: str, now: datetime) -> None:
    stmt = update(incidents).where(incidents.c.id == incident_id, incidents.c.status == "open")
    await conn.execute(stmt.values(status="resolved", resolved_at=now))


async def insert_command(
    conn: AsyncConnection,
    *,
    tenant_id: str,
    execution_id: str,
    command: Mapping[str, Any],
    due_at: datetime | None,
    now: datetime,
) -> int:
    stmt = (
        insert(commands)
        .values(
            tenant_id=tenant_id, execution_id=execution_id, command=command, due_at=due_at, created_at=now
        )
        .returning(commands.c.id)
    )
    return int((await conn.execute(stmt)).scalar_one())


async def take_command(conn: AsyncConnection, command_id: int, claims: int | None) -> dict[str, Any] | None:
    """Delete the inbox row and return its command; ``None`` when it was delivered already (or,
    with ``claims``, when another claim took it over)."""
    stmt = delete(commands).where(commands.c.id == command_id)
    if claims is not None:
        stmt = stmt.where(commands.c.claims == claims)
    row = (await conn.execute(stmt.returning(commands.c.command))).first()
    return row[0] if row is not None else None


# Messages and signals -------------------------------------------------------------------------


async def lock_message_name(conn: AsyncConnection, tenant_id: str, name: str) -> None:
    """Serialize correlation and subscription of one message name (PostgreSQL), so that a message
    and a subscription committed at the same moment cannot miss each other."""
    if _postgres(conn):
        await conn.execute(
            text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": f"msg:{tenant_id}:{name}"}
        )


async def message_subscriber(
    conn: AsyncConnection, tenant_id: str, name: str, correlation_key: str | None
) -> tuple[str, str] | None:
    """The oldest message subscription matching, as (subscription id, execution id)."""
    s = subscriptions.c
    key_matches = s.correlation_key.is_(None)
    if correlation_key is not None:
        key_matches = or_(key_matches, s.correlation_key == correlation_key)
    stmt = (
        select(s.id, s.execution_id)
        .where(s.tenant_id == tenant_id, s.kind == "message", s.name == name, key_matches)
        .order_by(s.created_at, s.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    row = (await conn.execute(stmt)).first()
    return (row[0], row[1]) if row is not None else None


async def signal_subscribers(
    conn: AsyncConnection, tenant_id: str, name: str, *, exclude: str | None = None
) -> list[tuple[str, str]]:
    s = subscriptions.c
    stmt = (
        select(s.id, s.execution_id)
        .where(s.tenant_id == tenant_id, s.kind == "signal", s.name == name)
        .order_by(s.created_at, s.id)
    )
    if exclude is not None:
        stmt = stmt.where(s.execution_id != exclude)
    return [(row[0], row[1]) for row in await conn.execute(stmt)]


async def take_buffered(
    conn: AsyncConnection, tenant_id: str, name: str, correlation_key: str | None, now: datetime
) -> dict[str, Any] | None:
    """Remove and return the variables of the oldest live buffered message a subscription with
    ``correlation_key`` accepts (a subscription without a key takes any)."""
    b = buffered_messages.c
    conditions = [b.tenant_id == tenant_id, b.name == name, b.expires_at > now]
    if correlation_key is not None:
        conditions.append(b.correlation_key == correlation_key)
    stmt = select(b.id, b.variables).where(and_(*conditions)).order_by(b.id).limit(1)
    row = (await conn.execute(stmt.with_for_update(skip_locked=True))).first()
    if row is None:
        return None
    await conn.execute(delete(buffered_messages).where(b.id == row[0]))
    return dict(row[1])


async def start_triggers_for(conn: AsyncConnection, tenant_id: str, kind: str, name: str) -> list[Any]:
    t = start_triggers.c
    stmt = (
        select(t.workflow_id, t.version_id, t.process_id, t.element_id)
        .where(t.tenant_id == tenant_id, t.kind == kind, t.name == name)
        .order_by(t.id)
    )
    return list((await conn.execute(stmt)).all())


async def purge_expired_messages(conn: AsyncConnection, now: datetime) -> int:
    stmt = delete(buffered_messages).where(buffered_messages.c.expires_at <= now)
    return (await conn.execute(stmt)).rowcount


async def purge_outbox(conn: AsyncConnection, before: datetime) -> int:
    return (await conn.execute(delete(outbox).where(outbox.c.created_at < before))).rowcount


__all__ = [
    "JOBS_CHANNEL",
    "claim_jobs",
    "claim_rows",
    "delete_claimed",
    "delete_ids",
    "insert_command",
    "insert_execution",
    "insert_rows",
    "lock_execution",
    "lock_message_name",
    "message_subscriber",
    "next_due",
    "purge_expired_messages",
    "purge_outbox",
    "release",
    "resolve_incident",
    "set_task_status",
    "signal_subscribers",
    "start_triggers_for",
    "take_buffered",
    "take_command",
    "upsert",
    "version_sources",
]
