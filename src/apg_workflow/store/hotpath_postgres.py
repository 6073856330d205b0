"""The hot path's statements on PostgreSQL (see :mod:`.hotpath`): the lock, and the write of a step
as one statement of data-modifying CTEs over ``unnest`` arrays, whose every row depends on the
execution's own (CTE ``x``): an update at the version read (with, standing alone, the fence of
the report and the absence of concurrency limits), or the insert of a new root execution."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from apg_workflow.store.codec import dumps
from apg_workflow.store.records import ExecutionRow
from apg_workflow.store.steprows import (
    EXECUTION,
    HISTORY,
    JOB,
    JOB_CONFLICT,
    OUTBOX,
    TIMER,
    TIMER_CONFLICT,
    Columns,
    StepRows,
    ended_at,
    execution_row,
    process_id,
)

# The root execution's workflow and tenant have no concurrency limit (see :mod:`.limits`).
_UNLIMITED = (
    "NOT EXISTS (SELECT 1 FROM workflows w "
    "WHERE w.id = {workflow} AND w.max_concurrent_executions IS NOT NULL) "
    "AND NOT EXISTS (SELECT 1 FROM tenants t "
    "WHERE t.id = {tenant} AND t.max_concurrent_executions IS NOT NULL)"
)


@cache
def _lock_sql_postgres(fence_table: str | None) -> str:
    held = f"(SELECT claims FROM {fence_table} WHERE id = $2 FOR UPDATE)" if fence_table else "NULL::int"
    return f"SELECT {EXECUTION}, {held} AS held FROM executions WHERE id = $1 FOR UPDATE"


async def lock(
    raw: Any, execution_id: str, fence: tuple[str, str] | None
) -> tuple[ExecutionRow | None, int | None]:
    if fence is None:
        record = await raw.fetchrow(_lock_sql_postgres(None), execution_id)
    else:
        record = await raw.fetchrow(_lock_sql_postgres(fence[0]), execution_id, fence[1])
    if record is None:
        return None, None
    return execution_row(record, record["state"]), record["held"]


class _Statement:
    """A write statement under construction: CTEs with numbered parameters."""

    def __init__(self) -> None:
        self.ctes: list[str] = []
        self.params: list[Callable[[StepRows], Any]] = []

    def param(self, value: Callable[[StepRows], Any], cast: str) -> str:
        self.params.append(value)
        return f"${len(self.params)}::{cast}"

    def arrays(self, columns: Columns, rows: Callable[[StepRows], list[dict[str, Any]]]) -> str:
        """``unnest`` of one array per column, in row order, as a relation ``r``."""
        args = ", ".join(
            self.param(lambda s, n=name, j=is_json: _column(rows(s), n, j), f"{kind}[]")
            for name, kind, is_json in columns
        )
        names = ", ".join(name for name, _, _ in columns)
        return f"unnest({args}) WITH ORDINALITY AS r({names}, ord)"

    def select(self, columns: Columns) -> str:
        return ", ".join(f"r.{name}::json" if is_json else f"r.{name}" for name, _, is_json in columns)


_UPSERT = " ON CONFLICT (id) DO UPDATE SET "


@cache
def write_statement(shape: tuple[Any, ...]) -> tuple[str, tuple[Callable[[StepRows], Any], ...]]:
    """The write statement for the parts a step has (``shape``, see :func:`shape`), and how to
    get its parameters from the rows. Each row it writes depends on the execution's (CTE ``x``)."""
    has_job_deletes, has_jobs, has_timer_deletes, has_timers, has_history, has_outbox = shape[:6]
    fence, unlimited, new = shape[6:]
    st = _Statement()
    st.ctes.append(_insert_execution(st) if new else _update_execution(st, fence, unlimited))
    wrote = "EXISTS (SELECT 1 FROM x)"
    for cte, table, present, ids in (
        ("dj", "jobs", has_job_deletes, lambda s: s.job_deletes),
        ("dt", "timers", has_timer_deletes, lambda s: s.timer_deletes),
    ):
        if present:
            st.ctes.append(
                f"{cte} AS (DELETE FROM {table} WHERE id = ANY({st.param(ids, 'text[]')}) AND {wrote})"
            )
    for cte, table, columns, present, rows, tail in (
        (
            "uj",
            "jobs",
            JOB,
            has_jobs,
            lambda s: s.jobs,
            f"{_UPSERT}{JOB_CONFLICT} RETURNING id, claims, claimed_by",
        ),
        ("ut", "timers", TIMER, has_timers, lambda s: s.timers, f"{_UPSERT}{TIMER_CONFLICT}"),
        ("uh", "history", HISTORY, has_history, lambda s: s.history, ""),
        ("uo", "outbox", OUTBOX, has_outbox, lambda s: s.outbox, ""),
    ):
        if present:
            names = ", ".join(name for name, _, _ in columns)
            source = st.arrays(columns, rows)
            st.ctes.append(
                f"{cte} AS (INSERT INTO {table} ({names}) SELECT {st.select(columns)} FROM {source} "
                f"WHERE {wrote} ORDER BY r.ord{tail})"
            )
    claimed = (
        "(SELECT coalesce(json_object_agg(id, claims), '{}') FROM uj WHERE claimed_by IS NOT NULL)"
        if has_jobs
        else "'{}'::json"
    )
    sql = f"WITH {', '.join(st.ctes)} SELECT (SELECT count(*) FROM x) AS saved, {claimed} AS claimed"
    return sql, tuple(st.params)


def _update_execution(st: _Statement, fence: str | None, unlimited: bool) -> str:
    """CTE ``x``: the execution's new state, if its version is still the one read."""
    conditions = [
        f"id = {st.param(lambda s: s.execution.id, 'text')}",
        f"version = {st.param(lambda s: s.execution.version, 'int')}",
    ]
    if fence is not None:
        fence_id = st.param(lambda s: s.fence[1], "text")
        conditions.append(
            f"(SELECT claims FROM {fence} WHERE id = {fence_id}) = {st.param(lambda s: s.fence[2], 'int')}"
        )
    if unlimited:
        conditions.append(_UNLIMITED.format(workflow="executions.workflow_id", tenant="executions.tenant_id"))
    return (
        "x AS (UPDATE executions SET "
        f"state = {st.param(lambda s: dumps(s.state), 'json')}, "
        f"status = {st.param(lambda s: s.status, 'text')}, "
        f"error = {st.param(lambda s: s.error, 'text')}, "
        "version = version + 1, "
        f"updated_at = {st.param(lambda s: s.now, 'timestamptz')}, "
        f"process_id = COALESCE({st.param(process_id, 'text')}, process_id), "
        f"ended_at = COALESCE({st.param(ended_at, 'timestamptz')}, ended_at) "
        f"WHERE {' AND '.join(conditions)} RETURNING 1)"
    )


def _insert_execution(st: _Statement) -> str:
    """CTE ``x``: a new root execution after its first step, if its workflow is unlimited and, for a
    start of the latest version, that version is still the latest."""
    workflow = st.param(lambda s: s.execution.workflow_id, "bigint")
    tenant = st.param(lambda s: s.execution.tenant_id, "text")
    now = st.param(lambda s: s.now, "timestamptz")
    latest = st.param(lambda s: s.new.latest, "int")
    values = ", ".join(
        (
            st.param(lambda s: s.execution.id, "text"),
            tenant,
            workflow,
            st.param(lambda s: s.execution.version_id, "bigint"),
            st.param(process_id, "text"),
            st.param(lambda s: s.new.business_key, "text"),
            "NULL",
            st.param(lambda s: s.execution.root_id, "text"),
            st.param(lambda s: s.status, "text"),
            st.param(lambda s: dumps(s.state), "json"),
            "1",
            st.param(lambda s: s.error, "text"),
            now,
            now,
            st.param(ended_at, "timestamptz"),
        )
    )
    return (
        "x AS (INSERT INTO executions (id, tenant_id, workflow_id, version_id, process_id, business_key, "
        "parent_id, root_id, status, state, version, error, created_at, updated_at, ended_at) "
        f"SELECT {values} WHERE {_UNLIMITED.format(workflow=workflow, tenant=tenant)} "
        f"AND EXISTS (SELECT 1 FROM workflows w WHERE w.id = {workflow} "
        f"AND ({latest} IS NULL OR w.latest_version = {latest})) RETURNING 1)"
    )


async def write(raw: Any, rows: StepRows) -> tuple[int, dict[str, int]]:
    sql, params = write_statement(shape(rows))
    record = await raw.fetchrow(sql, *(param(rows) for param in params))
    return record["saved"], record["claimed"]  # JSON arrives parsed (SQLAlchemy's codec)


def shape(rows: StepRows) -> tuple[Any, ...]:
    return (
        bool(rows.job_deletes),
        bool(rows.jobs),
        bool(rows.timer_deletes),
        bool(rows.timers),
        bool(rows.history),
        bool(rows.outbox),
        None if rows.fence is None else rows.fence[0],
        rows.unlimited,
        rows.new is not None,
    )


def _column(rows: list[dict[str, Any]], name: str, is_json: bool) -> list[Any]:
    if is_json:
        return [dumps(row.get(name)) for row in rows]
    return [row.get(name, 0 if name == "claims" else None) for row in rows]


__all__ = ["lock", "shape", "write", "write_statement"]
