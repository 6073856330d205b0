"""Schedules in the store: the rows behind ``apg-workflow schedules`` and the scheduler's hot path.
Every function takes the connection of the caller's transaction; none commits.

The store keeps a schedule's spec (the JSON of ``runtime.scheduling.ScheduleSpec.to_dict``)
without interpreting it: the scheduler decides, the store locks, reads and writes. The spec lives
in the columns the table has for it — ``kind``, ``expression``, ``timezone`` and ``enabled`` (not
paused) — and the rest in the ``variables`` JSON column, beside the start variables and the
scheduler's bookkeeping::

    {"input": {…start variables…},
     "options": {"start_at", "end_at", "misfire", "max_catch_up", "misfire_grace"},
     "checkpoint": ISO date-time or null,   # the last scheduled time fired or passed over
     "last_execution_id": …, "last_error": …}

``due_at`` is the next fire (NULL when paused or ended) and ``last_run_at`` the scheduled time of
the last fire that started an execution.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from apg_workflow.store.errors import NotFound
from apg_workflow.store.tables import schedules, workflows

_COLUMNS = ("kind", "expression", "timezone")


@dataclass(frozen=True, slots=True)
class ScheduleRecord:
    """A schedule as stored. Changes are copies (``dataclasses.replace``) written by
    :func:`save_schedule`."""

    id: int
    tenant_id: str
    workflow_id: int
    workflow_key: str
    name: str | None
    spec: dict[str, Any]
    """``ScheduleSpec.to_dict()`` of the schedule (``paused`` included)."""
    variables: dict[str, Any]
    """The variables each execution starts with."""
    next_fire_at: datetime | None
    checkpoint: datetime | None
    """The last scheduled time fired or passed over (creation or resume time at first): the
    ``last_fire`` the scheduler decides from."""
    last_fire_at: datetime | None
    last_execution_id: str | None
    last_error: str | None
    created_at: datetime
    updated_at: datetime

    @property
    def paused(self) -> bool:
        return bool(self.spec.get("paused"))

    @property
    def status(self) -> str:
        """``paused``, ``ended`` (no fire left) or ``active``."""
        if self.paused:
            return "paused"
        return "ended" if self.next_fire_at is None else "active"

    @classmethod
    def from_row(cls, row: Any) -> ScheduleRecord:
        data = row.variables
        checkpoint = data.get("checkpoint")
        spec = {name: row._mapping[name] for name in _COLUMNS}
        return cls(
            id=int(row.id),
            tenant_id=row.tenant_id,
            workflow_id=int(row.workflow_id),
            workflow_key=row.workflow_key,
            name=row.name,
            spec={**spec, "paused": not row.enabled, **data.get("options", {})},
            variables=dict(data.get("input", {})),
            next_fire_at=row.due_at,
            checkpoint=datetime.fromisoformat(checkpoint) if checkpoint else None,
            last_fire_at=row.last_run_at,
            last_execution_id=data.get("last_execution_id"),
            last_error=data.get("last_error"),
            created_at=row.created_at,
            updated_at=row.updated_at,
        )


def _values(
    *,
    name: str | None,
    spec: Mapping[str, Any],
    variables: Mapping[str, Any],
    next_fire_at: datetime | None,
    checkpoint: datetime | None,
    last_fire_at: datetime | None,
    last_execution_id: str | None,
    last_error: str | None,
    updated_at: datetime,
) -> dict[str, Any]:
    options = {k: v for k, v in spec.items() if k not in (*_COLUMNS, "paused")}
    return {
        "name": name,
        "kind": spec["kind"],
        "expression": spec["expression"],
        "timezone": spec.get("timezone", "UTC"),
        "enabled": not spec.get("paused", False),
        "variables": {
            "input": dict(variables),
            "options": options,
            "checkpoint": checkpoint.isoformat() if checkpoint else None,
            "last_execution_id": last_execution_id,
            "last_error": last_error,
        },
        "due_at": next_fire_at,
        "last_run_at": last_fire_at,
        "updated_at": updated_at,
    }


def _select() -> Select[Any]:
    return select(schedules, workflows.c.key.label("workflow_key")).join(
        workflows, workflows.c.id == schedules.c.workflow_id
    )


async def insert_schedule(
    conn: AsyncConnection,
    *,
    tenant_id: str,
    workflow_id: int,
    name: str | None,
    spec: Mapping[str, Any],
    variables: Mapping[str, Any],
    checkpoint: datetime,
    next_fire_at: datetime | None,
    now: datetime,
) -> ScheduleRecord:
    values = _values(
        name=name,
        spec=spec,
        variables=variables,
        next_fire_at=next_fire_at,
        checkpoint=checkpoint,
        last_fire_at=None,
        last_execution_id=None,
        last_error=None,
        updated_at=now,
    )
    stmt = insert(schedules).values(tenant_id=tenant_id, workflow_id=workflow_id, created_at=now, **values)
    schedule_id = (await conn.execute(stmt.returning(schedules.c.id))).scalar_one()
    return await get_schedule(conn, tenant_id, int(schedule_id))


async def save_schedule(conn: AsyncConnection, record: ScheduleRecord) -> None:
    """Write every changeable field of ``record`` (its row should be locked by this transaction)."""
    values = _values(
        name=record.name,
        spec=record.spec,
        variables=record.variables,
        next_fire_at=record.next_fire_at,
        checkpoint=record.checkpoint,
        last_fire_at=record.last_fire_at,
        last_execution_id=record.last_execution_id,
        last_error=record.last_error,
        updated_at=record.updated_at,
    )
    await conn.execute(update(schedules).where(schedules.c.id == record.id).values(**values))


async def get_schedule(conn: AsyncConnection, tenant_id: str, schedule_id: int) -> ScheduleRecord:
    stmt = _select().where(schedules.c.tenant_id == tenant_id, schedules.c.id == schedule_id)
    return _found((await conn.execute(stmt)).first(), schedule_id)


async def lock_schedule(conn: AsyncConnection, tenant_id: str, schedule_id: int) -> ScheduleRecord:
    """The schedule, its row locked until the transaction ends (waiting for a scheduler firing it)."""
    stmt = _select().where(schedules.c.tenant_id == tenant_id, schedules.c.id == schedule_id)
    return _found((await conn.execute(stmt.with_for_update(of=schedules))).first(), schedule_id)


async def list_schedules(
    conn: AsyncConnection, tenant_id: str, *, workflow_key: str | None = None
) -> list[ScheduleRecord]:
    stmt = _select().where(schedules.c.tenant_id == tenant_id)
    if workflow_key is not None:
        stmt = stmt.where(workflows.c.key == workflow_key)
    return [ScheduleRecord.from_row(row) for row in await conn.execute(stmt.order_by(schedules.c.id))]


async def delete_schedule(conn: AsyncConnection, tenant_id: str, schedule_id: int) -> None:
    stmt = delete(schedules).where(schedules.c.tenant_id == tenant_id, schedules.c.id == schedule_id)
    if (await conn.execute(stmt)).rowcount == 0:
        raise NotFound("schedule", str(schedule_id))


# The scheduler's hot path --------------------------------------------------------------------


async def due_schedule_ids(conn: AsyncConnection, now: datetime, limit: int) -> list[int]:
    """Schedules of every tenant with a fire due at ``now``, the most overdue first."""
    s = schedules.c
    stmt = select(s.id).where(s.due_at <= now).order_by(s.due_at, s.id).limit(limit)
    return [int(row[0]) for row in await conn.execute(stmt)]


async def lock_due_schedule(conn: AsyncConnection, schedule_id: int, now: datetime) -> ScheduleRecord | None:
    """The schedule locked for firing, if a fire is still due at ``now``; ``None`` when it is not
    due any more (another scheduler fired it) or another scheduler holds it right now (PostgreSQL
    ``SKIP LOCKED``; on SQLite the write transaction already excludes every other scheduler)."""
    stmt = (
        _select()
        .where(schedules.c.id == schedule_id, schedules.c.due_at <= now)
        .with_for_update(of=schedules, skip_locked=True)
    )
    row = (await conn.execute(stmt)).first()
    return ScheduleRecord.from_row(row) if row is not None else None


def _found(row: Any, schedule_id: int) -> ScheduleRecord:
    if row is None:
        raise NotFound("schedule", str(schedule_id))
    return ScheduleRecord.from_row(row)


__all__ = [
    "ScheduleRecord",
    "delete_schedule",
    "due_schedule_ids",
    "get_schedule",
    "insert_schedule",
    "list_schedules",
    "lock_due_schedule",
    "lock_schedule",
    "save_schedule",
]
