"""Filtered listings for the service API: executions (by workflow, version, status, time ranges,
business key and root-scope variable values, in either order of start), user tasks (by assignee,
candidate user or groups, execution, element) and incidents (by status and execution). Each is
keyset-paginated like :mod:`.reads` and scoped by tenant.

Variable equality compares JSON values: on PostgreSQL as ``jsonb``; on SQLite scalars by JSON type
and value (``json_type`` / ``json_extract``), arrays and objects as the minified JSON text of the
``->`` operator (so there, unlike on PostgreSQL, their key order matters). ``1`` equals ``1.0``,
``true`` is not ``1`` and ``"7"`` is not ``7`` on both.
Membership of a name in a JSON array column (candidate users and groups) uses the dialect's
table-valued JSON function (``json_each`` / ``json_array_elements_text``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, Table, and_, cast, exists, func, literal, or_, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncConnection

from apg_workflow.engine.state import ROOT_SCOPE
from apg_workflow.store.errors import NotFound, StoreError
from apg_workflow.store.reads import _executions, _page, _paged
from apg_workflow.store.records import ExecutionRecord, IncidentRecord, Page, TaskRecord
from apg_workflow.store.tables import executions, incidents, user_tasks, workflow_versions, workflows


@dataclass(frozen=True, slots=True, kw_only=True)
class ExecutionFilter:
    """What ``GET /executions`` narrows by; ``None`` leaves a criterion out. ``variables`` are
    (name, value) pairs every match's root scope holds, compared as JSON values."""

    workflow_key: str | None = None
    version: int | None = None
    status: str | None = None
    started_after: datetime | None = None
    started_before: datetime | None = None
    ended_after: datetime | None = None
    ended_before: datetime | None = None
    business_key: str | None = None
    variables: tuple[tuple[str, Any], ...] = ()
    newest_first: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class TaskFilter:
    """What ``GET /tasks`` narrows by. ``candidate`` with ``groups``: tasks that user may claim (a
    candidate user, or one of ``groups`` is a candidate group) and nobody else holds."""

    status: str = "open"
    assignee: str | None = None
    candidate: str | None = None
    groups: tuple[str, ...] = ()
    execution_id: str | None = None
    element_id: str | None = None


@dataclass(frozen=True, slots=True)
class ProgramRef:
    """Which compiled program an execution runs: its workflow version row and process id."""

    version_id: int
    process_id: str | None


def _between(column: Any, after: datetime | None, before: datetime | None) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = []
    if after is not None:
        found.append(column > after)
    if before is not None:
        found.append(column < before)
    return found


def variable_equals(dialect: str, name: str, value: Any) -> ColumnElement[bool]:
    """The root scope of the execution holds variable ``name`` equal to the JSON value ``value``.
    SQLite's JSON paths cannot name a key holding a double quote: there, such names are refused."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    if dialect == "postgresql":
        path = cast(executions.c.state, JSONB)[("scopes", ROOT_SCOPE, "variables", name)]
        return path == cast(literal(text), JSONB)
    if '"' in name or "\\" in name:
        raise StoreError(f"variable name {name!r}: a name to match holds no double quote nor backslash")
    path = literal(f'$."scopes"."{ROOT_SCOPE}"."variables"."{name}"')
    kind = func.json_type(executions.c.state, path)
    if value is None or isinstance(value, bool):
        return kind == json.dumps(value)  # 'null', 'true', 'false'
    if isinstance(value, int | float):
        return and_(kind.in_(("integer", "real")), func.json_extract(executions.c.state, path) == value)
    if isinstance(value, str):
        return and_(kind == "text", func.json_extract(executions.c.state, path) == value)
    return executions.c.state.op("->")(path) == func.json(literal(text))


def _execution_conditions(dialect: str, tenant_id: str, chosen: ExecutionFilter) -> list[ColumnElement[bool]]:
    x = executions.c
    conditions: list[ColumnElement[bool]] = [x.tenant_id == tenant_id]
    for column, value in (
        (workflows.c.key, chosen.workflow_key),
        (workflow_versions.c.version, chosen.version),
        (x.status, chosen.status),
        (x.business_key, chosen.business_key),
    ):
        if value is not None:
            conditions.append(column == value)
    conditions += _between(x.created_at, chosen.started_after, chosen.started_before)
    conditions += _between(x.ended_at, chosen.ended_after, chosen.ended_before)
    conditions += [variable_equals(dialect, name, value) for name, value in chosen.variables]
    return conditions


async def find_executions(
    conn: AsyncConnection,
    tenant_id: str,
    chosen: ExecutionFilter,
    *,
    limit: int = 50,
    cursor: str | None = None,
) -> Page[ExecutionRecord]:
    """Executions matching ``chosen``, by start time (newest first unless ``newest_first`` is off)."""
    stmt = _executions().where(*_execution_conditions(conn.dialect.name, tenant_id, chosen))
    rows = await conn.execute(_page(stmt, executions, cursor, limit, newest_first=chosen.newest_first))
    return _paged([ExecutionRecord.from_row(r) for r in rows], limit)


async def program_ref(conn: AsyncConnection, tenant_id: str, execution_id: str) -> ProgramRef:
    x = executions.c
    stmt = select(x.version_id, x.process_id).where(x.tenant_id == tenant_id, x.id == execution_id)
    row = (await conn.execute(stmt)).first()
    if row is None:
        raise NotFound("execution", execution_id)
    return ProgramRef(int(row.version_id), row.process_id)


async def execution_status(conn: AsyncConnection, tenant_id: str, execution_id: str) -> str:
    x = executions.c
    stmt = select(x.status).where(x.tenant_id == tenant_id, x.id == execution_id)
    status = (await conn.execute(stmt)).scalar_one_or_none()
    if status is None:
        raise NotFound("execution", execution_id)
    return str(status)


async def execution_subtree(conn: AsyncConnection, tenant_id: str, execution_id: str) -> list[str]:
    """The execution and the executions its call activities started, at any depth."""
    x = executions.c
    root = select(x.root_id).where(x.tenant_id == tenant_id, x.id == execution_id).scalar_subquery()
    rows = (
        await conn.execute(select(x.id, x.parent_id).where(x.tenant_id == tenant_id, x.root_id == root))
    ).all()
    if not any(row.id == execution_id for row in rows):
        raise NotFound("execution", execution_id)
    children: dict[str, list[str]] = {}
    for row in rows:
        if row.parent_id is not None:
            children.setdefault(row.parent_id, []).append(row.id)
    found, todo = [], [execution_id]
    while todo:
        node = todo.pop()
        found.append(node)
        todo.extend(children.get(node, ()))
    return found


def _contains(dialect: str, column: Any, names: Sequence[str]) -> ColumnElement[bool]:
    """The JSON array in ``column`` holds one of ``names``."""
    function = func.json_array_elements_text if dialect == "postgresql" else func.json_each
    items = function(column).table_valued("value")
    return exists(select(literal(1)).select_from(items).where(items.c.value.in_(list(names))))


def _task_conditions(dialect: str, chosen: TaskFilter) -> list[ColumnElement[bool]]:
    t = user_tasks.c
    conditions: list[ColumnElement[bool]] = [t.status == chosen.status]
    for column, value in (
        (t.assignee, chosen.assignee),
        (t.execution_id, chosen.execution_id),
        (t.element_id, chosen.element_id),
    ):
        if value is not None:
            conditions.append(column == value)
    if chosen.candidate is not None:
        offered = _contains(dialect, t.candidate_users, [chosen.candidate])
        if chosen.groups:
            offered = or_(offered, _contains(dialect, t.candidate_groups, chosen.groups))
        conditions.append(and_(offered, or_(t.assignee.is_(None), t.assignee == chosen.candidate)))
    return conditions


async def _work_items(
    conn: AsyncConnection,
    table: Table,
    record: Any,
    tenant_id: str,
    conditions: Iterable[ColumnElement[bool]],
    limit: int,
    cursor: str | None,
) -> Page[Any]:
    columns = [table.c[name] for name in record.__dataclass_fields__]
    stmt: Select[Any] = select(*columns).where(table.c.tenant_id == tenant_id, *conditions)
    rows = await conn.execute(_page(stmt, table, cursor, limit, newest_first=False))
    return _paged([record.from_row(r) for r in rows], limit)


async def find_tasks(
    conn: AsyncConnection, tenant_id: str, chosen: TaskFilter, *, limit: int = 50, cursor: str | None = None
) -> Page[TaskRecord]:
    """User tasks matching ``chosen``, oldest first."""
    conditions = _task_conditions(conn.dialect.name, chosen)
    return await _work_items(conn, user_tasks, TaskRecord, tenant_id, conditions, limit, cursor)


async def find_incidents(
    conn: AsyncConnection,
    tenant_id: str,
    *,
    status: str | None = "open",
    execution_ids: Sequence[str] | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> Page[IncidentRecord]:
    """Incidents in ``status`` (any with ``None``), of ``execution_ids`` when given, oldest first."""
    conditions: list[ColumnElement[bool]] = []
    if status is not None:
        conditions.append(incidents.c.status == status)
    if execution_ids is not None:
        conditions.append(incidents.c.execution_id.in_(list(execution_ids)))
    return await _work_items(conn, incidents, IncidentRecord, tenant_id, conditions, limit, cursor)


__all__ = [
    "ExecutionFilter",
    "ProgramRef",
    "TaskFilter",
    "execution_status",
    "execution_subtree",
    "find_executions",
    "find_incidents",
    "find_tasks",
    "program_ref",
    "variable_equals",
]
