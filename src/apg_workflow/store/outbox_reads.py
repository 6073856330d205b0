"""Reads of the outbox for the live event tail (:mod:`apg_workflow.runtime.events`): the newest id,
the rows after a cursor (plus the ids a tail still waits for), and one execution's past events.

Each row comes back as an :class:`OutboxEvent` carrying what subscribers filter on without another
query: the workflow key of its execution, and, for a user task's ``task.*`` event, the task itself
(its id, name, assignee and candidates). A user task row belongs to an event when it has the
event's execution and element and was created (``task.created``) or ended (``task.completed`` /
``task.failed``) in the same step, so at the same instant: a step stamps every row it writes with
one ``now``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from apg_workflow.store.tables import executions, outbox, user_tasks, workflows

MAX_BATCH = 1000
# NOTIFY'd (PostgreSQL) or published (Redis) after a commit that wrote outbox rows: wakes the tails.
EVENTS_CHANNEL = "apg_workflow_events"


@dataclass(frozen=True, slots=True)
class TaskRef:
    """The user task a ``task.*`` event is about: who it names."""

    id: str
    name: str | None
    assignee: str | None
    candidate_users: tuple[str, ...]
    candidate_groups: tuple[str, ...]
    status: str

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "assignee": self.assignee,
            "candidate_users": list(self.candidate_users),
            "candidate_groups": list(self.candidate_groups),
            "status": self.status,
        }


@dataclass(frozen=True, slots=True)
class OutboxEvent:
    """One committed outbox row, as subscribers see it."""

    id: int
    tenant_id: str
    execution_id: str | None
    event: str
    payload: dict[str, Any]
    created_at: datetime
    workflow_key: str | None = None
    tasks: tuple[TaskRef, ...] = field(default=())

    @property
    def element_id(self) -> str | None:
        value = self.payload.get("element_id")
        return value if isinstance(value, str) else None


def _events() -> Select[Any]:
    o = outbox.c
    return (
        select(o.id, o.tenant_id, o.execution_id, o.event, o.payload, o.created_at, workflows.c.key)
        .select_from(outbox)
        .outerjoin(executions, executions.c.id == o.execution_id)
        .outerjoin(workflows, workflows.c.id == executions.c.workflow_id)
    )


async def outbox_head(conn: AsyncConnection) -> int:
    """The newest outbox id (0 when the outbox is empty): where a live tail starts."""
    return int((await conn.execute(select(func.max(outbox.c.id)))).scalar() or 0)


async def outbox_after(
    conn: AsyncConnection, after: int, *, missing: Sequence[int] = (), limit: int = MAX_BATCH
) -> list[OutboxEvent]:
    """Rows with an id above ``after``, and those of ``missing`` (ids below it that a tail has not
    seen committed yet), in id order, at most ``limit`` above ``after``."""
    limit = min(max(limit, 1), MAX_BATCH)
    stmt = _events().where(outbox.c.id > after).order_by(outbox.c.id).limit(limit)
    rows = list(await conn.execute(stmt))
    if missing:
        late = _events().where(outbox.c.id.in_(list(missing)))
        rows.extend(await conn.execute(late))
        rows.sort(key=lambda row: row.id)
    return await _with_tasks(conn, rows)


async def execution_events(
    conn: AsyncConnection, tenant_id: str, execution_id: str, *, limit: int = MAX_BATCH
) -> list[OutboxEvent]:
    """The last ``limit`` events of one execution still in the outbox (kept
    ``outbox_retention_seconds``), oldest first: the replay a subscriber asks for before its live
    events, which follow on without a gap."""
    limit = min(max(limit, 1), MAX_BATCH)
    stmt = (
        _events()
        .where(outbox.c.tenant_id == tenant_id, outbox.c.execution_id == execution_id)
        .order_by(outbox.c.id.desc())
        .limit(limit)
    )
    return await _with_tasks(conn, list(await conn.execute(stmt))[::-1])


async def _with_tasks(conn: AsyncConnection, rows: list[Any]) -> list[OutboxEvent]:
    """The rows as events, each ``task.*`` one with the user tasks it is about."""
    wanted = [row for row in rows if _about_task(row)]
    found = await _user_tasks(conn, wanted) if wanted else {}
    events = []
    for row in rows:
        payload = dict(row.payload or {})
        tasks: tuple[TaskRef, ...] = ()
        if _about_task(row):
            tasks = found.get((row.execution_id, payload.get("element_id"), row.created_at), ())
        events.append(
            OutboxEvent(
                id=int(row.id),
                tenant_id=row.tenant_id,
                execution_id=row.execution_id,
                event=row.event,
                payload=payload,
                created_at=row.created_at,
                workflow_key=row.key or _key_of(payload),
                tasks=tasks,
            )
        )
    return events


def _about_task(row: Any) -> bool:
    return bool(row.event.startswith("task.") and row.execution_id is not None)


def _key_of(payload: dict[str, Any]) -> str | None:
    """A definition event's workflow key, which its payload carries (it has no execution)."""
    key = payload.get("workflow_id", payload.get("key"))
    return key if isinstance(key, str) else None


async def _user_tasks(
    conn: AsyncConnection, rows: Sequence[Any]
) -> dict[tuple[str, str, datetime], tuple[TaskRef, ...]]:
    """User tasks by (execution, element, instant), for the instants the rows were written at."""
    t = user_tasks.c
    instants = list({row.created_at for row in rows})
    stmt = select(
        t.id,
        t.execution_id,
        t.element_id,
        t.name,
        t.assignee,
        t.candidate_users,
        t.candidate_groups,
        t.status,
        t.created_at,
        t.completed_at,
    ).where(
        t.execution_id.in_(list({row.execution_id for row in rows})),
        or_(t.created_at.in_(instants), t.completed_at.in_(instants)),
    )
    found: dict[tuple[str, str, datetime], list[TaskRef]] = {}
    for task in await conn.execute(stmt.order_by(t.created_at, t.id)):
        ref = TaskRef(
            id=task.id,
            name=task.name,
            assignee=task.assignee,
            candidate_users=tuple(task.candidate_users or ()),
            candidate_groups=tuple(task.candidate_groups or ()),
            status=task.status,
        )
        for instant in {task.created_at, task.completed_at} - {None}:
            found.setdefault((task.execution_id, task.element_id, instant), []).append(ref)
    return {key: tuple(refs) for key, refs in found.items()}


__all__ = [
    "EVENTS_CHANNEL",
    "MAX_BATCH",
    "OutboxEvent",
    "TaskRef",
    "execution_events",
    "outbox_after",
    "outbox_head",
]
