"""Workflows as the API lists them: description, category, status, versions and run statistics.
Keyset pagination on (updated_at, key) would reorder under writes, so lists page by key."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from apg_workflow.store.errors import NotFound
from apg_workflow.store.records import Page, Source
from apg_workflow.store.tables import executions, outbox, workflow_versions, workflows

MAX_PAGE = 500


@dataclass(frozen=True, slots=True)
class WorkflowRecord:
    id: int
    tenant_id: str
    key: str
    name: str | None
    description: str | None
    category: str | None
    status: str
    latest_version: int
    max_concurrent_executions: int | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_row(cls, row: Any) -> WorkflowRecord:
        return cls(**{name: row._mapping[name] for name in cls.__dataclass_fields__})


@dataclass(frozen=True, slots=True)
class VersionRecord:
    id: int
    version: int
    checksum: str
    main_process: str
    sources: tuple[Source, ...]
    created_at: datetime


async def list_workflows(
    conn: AsyncConnection,
    tenant_id: str,
    *,
    category: str | None = None,
    name_contains: str | None = None,
    include_deleted: bool = False,
    limit: int = 50,
    cursor: str | None = None,
) -> Page[WorkflowRecord]:
    """Workflows by key; ``cursor`` is the last key of the previous page."""
    limit = min(max(limit, 1), MAX_PAGE)
    w = workflows.c
    stmt = select(workflows).where(w.tenant_id == tenant_id)
    if not include_deleted:
        stmt = stmt.where(w.status != "deleted")
    if category is not None:
        stmt = stmt.where(w.category == category)
    if name_contains:
        stmt = stmt.where(func.lower(w.name).contains(name_contains.lower(), autoescape=True))
    if cursor is not None:
        stmt = stmt.where(w.key > cursor)
    rows = [WorkflowRecord.from_row(r) for r in await conn.execute(stmt.order_by(w.key).limit(limit + 1))]
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(tuple(rows), rows[-1].key if more else None)


async def get_workflow(
    conn: AsyncConnection, tenant_id: str, key: str, *, include_deleted: bool = False
) -> WorkflowRecord:
    w = workflows.c
    stmt = select(workflows).where(w.tenant_id == tenant_id, w.key == key)
    row = (await conn.execute(stmt)).first()
    if row is None or (row._mapping["status"] == "deleted" and not include_deleted):
        raise NotFound("workflow", key)
    return WorkflowRecord.from_row(row)


async def set_workflow_details(
    conn: AsyncConnection,
    workflow_id: int,
    *,
    description: str | None,
    category: str | None,
    status: str = "active",
    now: datetime,
) -> None:
    await conn.execute(
        update(workflows)
        .where(workflows.c.id == workflow_id)
        .values(description=description, category=category, status=status, updated_at=now)
    )


async def mark_deleted(conn: AsyncConnection, tenant_id: str, key: str, now: datetime) -> WorkflowRecord:
    found = await get_workflow(conn, tenant_id, key)
    await conn.execute(
        update(workflows).where(workflows.c.id == found.id).values(status="deleted", updated_at=now)
    )
    return found


async def list_versions(conn: AsyncConnection, workflow_id: int) -> list[VersionRecord]:
    v = workflow_versions.c
    stmt = select(workflow_versions).where(v.workflow_id == workflow_id).order_by(v.version.desc())
    return [_version(r) for r in await conn.execute(stmt)]


async def get_version(conn: AsyncConnection, workflow: WorkflowRecord, version: int) -> VersionRecord:
    v = workflow_versions.c
    stmt = select(workflow_versions).where(v.workflow_id == workflow.id, v.version == version)
    row = (await conn.execute(stmt)).first()
    if row is None:
        raise NotFound("version", f"{workflow.key}@{version}")
    return _version(row)


def _version(row: Any) -> VersionRecord:
    m = row._mapping
    sources = tuple(Source(s["name"], s["format"], s["text"]) for s in m["sources"])
    return VersionRecord(
        int(m["id"]), int(m["version"]), m["checksum"], m["main_process"], sources, m["created_at"]
    )


async def workflow_stats(
    conn: AsyncConnection, tenant_id: str, workflow_ids: Sequence[int]
) -> dict[int, tuple[int, float | None]]:
    """For each workflow id: (root executions, share of finished ones that completed) in one query."""
    if not workflow_ids:
        return {}
    e = executions.c
    finished = func.sum(case((e.status.in_(("completed", "failed", "cancelled")), 1), else_=0))
    completed = func.sum(case((e.status == "completed", 1), else_=0))
    stmt = (
        select(e.workflow_id, func.count(), finished, completed)
        .where(e.tenant_id == tenant_id, e.workflow_id.in_(list(workflow_ids)), e.parent_id.is_(None))
        .group_by(e.workflow_id)
    )
    stats: dict[int, tuple[int, float | None]] = {int(i): (0, None) for i in workflow_ids}
    for workflow_id, count, done, ok in await conn.execute(stmt):
        stats[int(workflow_id)] = (int(count), (int(ok) / int(done)) if done else None)
    return stats


async def outbox_event(
    conn: AsyncConnection, tenant_id: str, event: str, payload: dict[str, Any], now: datetime
) -> None:
    """An event that is not an engine step's (``workflow.created`` …), leaving through the outbox."""
    await conn.execute(
        insert(outbox).values(
            tenant_id=tenant_id, execution_id=None, event=event, payload=payload, created_at=now
        )
    )


__all__ = [
    "VersionRecord",
    "WorkflowRecord",
    "get_version",
    "get_workflow",
    "list_versions",
    "list_workflows",
    "mark_deleted",
    "outbox_event",
    "set_workflow_details",
    "workflow_stats",
]
