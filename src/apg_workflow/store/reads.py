"""Reads for the API and the command line: executions, user tasks and incidents with keyset
pagination (a cursor, never an offset), an execution's summary and history. Every read is scoped
by tenant."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from apg_workflow.engine.state import ROOT_SCOPE
from apg_workflow.store.errors import NotFound, StoreError
from apg_workflow.store.records import ExecutionRecord, IncidentRecord, Page, TaskRecord
from apg_workflow.store.tables import executions, history, incidents, user_tasks, workflow_versions, workflows

MAX_PAGE = 500
_EXECUTION_COLUMNS = (
    executions.c.id,
    executions.c.tenant_id,
    workflows.c.key.label("workflow_key"),
    workflow_versions.c.version.label("workflow_version"),
    executions.c.process_id,
    executions.c.business_key,
    executions.c.parent_id,
    executions.c.status,
    executions.c.error,
    executions.c.created_at,
    executions.c.updated_at,
    executions.c.ended_at,
)


def _cursor(created_at: datetime, row_id: str) -> str:
    return f"{created_at.isoformat()}|{row_id}"


def _parse_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        at, _, row_id = cursor.partition("|")
        when = datetime.fromisoformat(at)
    except ValueError:
        raise StoreError(f"invalid page cursor '{cursor}'") from None
    if when.tzinfo is None:  # every cursor we hand out carries its UTC offset
        raise StoreError(f"invalid page cursor '{cursor}'")
    return when, row_id


def _page(
    stmt: Select[Any], table: Any, cursor: str | None, limit: int, *, newest_first: bool
) -> Select[Any]:
    if cursor is not None:
        at, row_id = _parse_cursor(cursor)
        created, ident = table.c.created_at, table.c.id
        if newest_first:
            stmt = stmt.where(or_(created < at, and_(created == at, ident < row_id)))
        else:
            stmt = stmt.where(or_(created > at, and_(created == at, ident > row_id)))
    order = (
        (table.c.created_at.desc(), table.c.id.desc()) if newest_first else (table.c.created_at, table.c.id)
    )
    return stmt.order_by(*order).limit(min(max(limit, 1), MAX_PAGE) + 1)


def _paged(items: list[Any], limit: int) -> Page[Any]:
    limit = min(max(limit, 1), MAX_PAGE)
    more = len(items) > limit
    items = items[:limit]
    return Page(tuple(items), _cursor(items[-1].created_at, items[-1].id) if more else None)


def _executions() -> Select[Any]:
    return (
        select(*_EXECUTION_COLUMNS)
        .join(workflows, workflows.c.id == executions.c.workflow_id)
        .join(workflow_versions, workflow_versions.c.id == executions.c.version_id)
    )


async def list_executions(
    conn: AsyncConnection,
    tenant_id: str,
    *,
    status: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> Page[ExecutionRecord]:
    """Executions, newest first."""
    stmt = _executions().where(executions.c.tenant_id == tenant_id)
    if status is not None:
        stmt = stmt.where(executions.c.status == status)
    rows = await conn.execute(_page(stmt, executions, cursor, limit, newest_first=True))
    return _paged([ExecutionRecord.from_row(r) for r in rows], limit)


async def get_execution(conn: AsyncConnection, tenant_id: str, execution_id: str) -> ExecutionRecord:
    stmt = _executions().where(executions.c.tenant_id == tenant_id, executions.c.id == execution_id)
    row = (await conn.execute(stmt)).first()
    if row is None:
        raise NotFound("execution", execution_id)
    return ExecutionRecord.from_row(row)


async def execution_summary(conn: AsyncConnection, tenant_id: str, execution_id: str) -> dict[str, Any]:
    """What ``apg-workflow run --json`` prints for an in-memory run, for a stored execution: status,
    variables, elements completed (with those of called processes, in order), active, error."""
    x = executions.c
    tree = {
        row.id: row
        for row in await conn.execute(
            select(x.id, x.parent_id, x.status, x.state, x.error, x.created_at).where(
                x.tenant_id == tenant_id,
                x.root_id == select(x.root_id).where(x.id == execution_id).scalar_subquery(),
            )
        )
    }
    if execution_id not in tree:
        raise NotFound("execution", execution_id)
    children: dict[str, list[str]] = {}
    for row in sorted(tree.values(), key=lambda r: (r.created_at, r.id)):
        if row.parent_id is not None:
            children.setdefault(row.parent_id, []).append(row.id)

    def subtree(node: str) -> list[str]:
        return [node] + [d for child in children.get(node, ()) for d in subtree(child)]

    def active(node: str) -> list[str]:
        state = tree[node].state or {}
        instances = state.get("instances", {})
        found = [instances[i]["element"] for i in sorted(instances, key=int)]
        return found + [a for child in children.get(node, ()) for a in active(child)]

    h = history.c
    completed = await conn.execute(
        select(h.element_id)
        .where(h.execution_id.in_(subtree(execution_id)), h.event == "element.completed")
        .order_by(h.id)
    )
    row = tree[execution_id]
    state = row.state or {}
    status = row.status
    return {
        "status": "waiting" if status in ("running", "pending") else status,
        "variables": dict(state.get("scopes", {}).get(ROOT_SCOPE, {}).get("variables", {})),
        "completed": [r[0] for r in completed],
        "active": active(execution_id),
        "error": row.error,
    }


async def execution_history(
    conn: AsyncConnection, tenant_id: str, execution_id: str, *, after: int = 0, limit: int = 500
) -> list[dict[str, Any]]:
    h = history.c
    stmt = (
        select(h.id, h.at, h.event, h.element_id, h.instance_id, h.data)
        .where(h.tenant_id == tenant_id, h.execution_id == execution_id, h.id > after)
        .order_by(h.id)
        .limit(min(max(limit, 1), MAX_PAGE))
    )
    return [dict(r._mapping) for r in await conn.execute(stmt)]


async def _list_open(
    conn: AsyncConnection,
    table: Any,
    record: Any,
    tenant_id: str,
    status: str,
    limit: int,
    cursor: str | None,
) -> Page[Any]:
    """Rows of a work table (user tasks, incidents) in one status, oldest first, as records."""
    columns = [table.c[name] for name in record.__dataclass_fields__]
    stmt = select(*columns).where(table.c.tenant_id == tenant_id, table.c.status == status)
    rows = await conn.execute(_page(stmt, table, cursor, limit, newest_first=False))
    return _paged([record.from_row(r) for r in rows], limit)


async def _get_one(
    conn: AsyncConnection, table: Any, record: Any, what: str, tenant_id: str, row_id: str
) -> Any:
    columns = [table.c[name] for name in record.__dataclass_fields__]
    stmt = select(*columns).where(table.c.tenant_id == tenant_id, table.c.id == row_id)
    row = (await conn.execute(stmt)).first()
    if row is None:
        raise NotFound(what, row_id)
    return record.from_row(row)


async def list_tasks(
    conn: AsyncConnection, tenant_id: str, *, status: str = "open", limit: int = 50, cursor: str | None = None
) -> Page[TaskRecord]:
    """User tasks, oldest first."""
    return await _list_open(conn, user_tasks, TaskRecord, tenant_id, status, limit, cursor)


async def get_task(conn: AsyncConnection, tenant_id: str, task_id: str) -> TaskRecord:
    return await _get_one(conn, user_tasks, TaskRecord, "user task", tenant_id, task_id)  # type: ignore[no-any-return]


async def list_incidents(
    conn: AsyncConnection, tenant_id: str, *, status: str = "open", limit: int = 50, cursor: str | None = None
) -> Page[IncidentRecord]:
    """Incidents, oldest first."""
    return await _list_open(conn, incidents, IncidentRecord, tenant_id, status, limit, cursor)


async def get_incident(conn: AsyncConnection, tenant_id: str, incident_id: str) -> IncidentRecord:
    return await _get_one(conn, incidents, IncidentRecord, "incident", tenant_id, incident_id)  # type: ignore[no-any-return]


__all__ = [
    "MAX_PAGE",
    "execution_history",
    "execution_summary",
    "get_execution",
    "get_incident",
    "get_task",
    "list_executions",
    "list_incidents",
    "list_tasks",
]
