"""The two statements of every transition, in each driver's own terms: lock the execution (with the
claim that fences the report), and write what the step produced (the execution's new state, its
jobs, timers, history and outbox rows).

They bypass the SQL toolkit, whose overhead per statement is larger than the statement itself, and
batch the rows: on PostgreSQL the whole write is one statement (data-modifying CTEs over ``unnest``
arrays, so one round trip whatever the step did); on SQLite, which runs inline, one ``executemany``
per table. Both store exactly what the toolkit would (the same JSON text, the same timestamps), so
every other query reads these rows unchanged; the integration tests run on both dialects.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from apg_workflow.store.codec import dumps, loads
from apg_workflow.store.db import driver_call
from apg_workflow.store.errors import StoreError
from apg_workflow.store.records import ExecutionRow

_EXECUTION = "id, tenant_id, workflow_id, version_id, process_id, parent_id, root_id, status, state, version"
_FENCED = ("jobs", "timers")

# Columns of the rows written in batches: (name, PostgreSQL array type, is JSON).
_JOB = (
    ("id", "text", False),
    ("tenant_id", "text", False),
    ("execution_id", "text", False),
    ("element_id", "text", False),
    ("component_type", "text", False),
    ("implementation", "text", False),
    ("config", "text", True),
    ("variables", "text", True),
    ("retry", "text", True),
    ("attempt", "int", False),
    ("run_at", "timestamptz", False),
    ("due_at", "timestamptz", False),
    ("claimed_by", "text", False),
    ("claims", "int", False),
    ("created_at", "timestamptz", False),
)
_TIMER = (
    ("id", "text", False),
    ("tenant_id", "text", False),
    ("execution_id", "text", False),
    ("element_id", "text", False),
    ("fire_at", "timestamptz", False),
    ("due_at", "timestamptz", False),
    ("claimed_by", "text", False),
    ("created_at", "timestamptz", False),
)
_HISTORY = (
    ("tenant_id", "text", False),
    ("execution_id", "text", False),
    ("at", "timestamptz", False),
    ("event", "text", False),
    ("element_id", "text", False),
    ("instance_id", "text", False),
    ("data", "text", True),
)
_OUTBOX = (
    ("tenant_id", "text", False),
    ("execution_id", "text", False),
    ("event", "text", False),
    ("payload", "text", True),
    ("created_at", "timestamptz", False),
)
Columns = tuple[tuple[str, str, bool], ...]

# On a conflict a job takes the new values, and its claim number grows by the new row's ``claims``
# (1 when this step claimed it, else 0): fencing tokens never go back. A timer keeps its claims.
_JOB_CONFLICT = (
    ", ".join(
        f"{name} = excluded.{name}" for name, _, _ in _JOB if name not in ("id", "created_at", "claims")
    )
    + ", claims = jobs.claims + excluded.claims"
)
_TIMER_CONFLICT = ", ".join(
    f"{name} = excluded.{name}" for name, _, _ in _TIMER if name not in ("id", "created_at")
)


@dataclass(slots=True)
class StepRows:
    """What one transition writes besides the rarer rows (user tasks, incidents, subscriptions,
    inbox commands), which go through the toolkit as they come."""

    execution: ExecutionRow
    now: datetime
    state: Mapping[str, Any] | None = None
    status: str = "running"
    error: str | None = None
    job_deletes: list[str] = field(default_factory=list)
    jobs: list[dict[str, Any]] = field(default_factory=list)
    timer_deletes: list[str] = field(default_factory=list)
    timers: list[dict[str, Any]] = field(default_factory=list)
    history: list[dict[str, Any]] = field(default_factory=list)
    outbox: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ended(self) -> bool:
        return self.status not in ("running", "pending")


async def lock(
    conn: AsyncConnection, execution_id: str, fence: tuple[str, str] | None = None
) -> tuple[ExecutionRow | None, int | None]:
    """The execution, its row locked until the transaction ends, and, with ``fence`` = (table,
    id), the current claim number of that job or timer, its row locked too (``None`` when gone)."""
    if fence is not None and fence[0] not in _FENCED:
        raise ValueError(f"no claims on {fence[0]}")
    if conn.dialect.name == "postgresql":
        return await driver_call(conn, lambda raw: _lock_postgres(raw, execution_id, fence))
    return await driver_call(conn, lambda raw: _lock_sqlite(raw, execution_id, fence))


async def write(conn: AsyncConnection, rows: StepRows) -> dict[str, int]:
    """Write a step's rows; returns the claim number of every job the step claimed. Raises
    :class:`StoreError` when the execution changed under its lock (it cannot, short of a bug)."""
    if conn.dialect.name == "postgresql":
        saved, claimed = await driver_call(conn, lambda raw: _write_postgres(raw, rows))
    else:
        saved, claimed = await driver_call(conn, lambda raw: _write_sqlite(raw, rows))
    if saved != 1:
        raise StoreError(f"execution '{rows.execution.id}' changed while it was locked")
    return claimed


# PostgreSQL ---------------------------------------------------------------------------------------


@cache
def _lock_sql_postgres(fence_table: str | None) -> str:
    held = f"(SELECT claims FROM {fence_table} WHERE id = $2 FOR UPDATE)" if fence_table else "NULL::int"
    return f"SELECT {_EXECUTION}, {held} AS held FROM executions WHERE id = $1 FOR UPDATE"


async def _lock_postgres(
    raw: Any, execution_id: str, fence: tuple[str, str] | None
) -> tuple[ExecutionRow | None, int | None]:
    if fence is None:
        record = await raw.fetchrow(_lock_sql_postgres(None), execution_id)
    else:
        record = await raw.fetchrow(_lock_sql_postgres(fence[0]), execution_id, fence[1])
    if record is None:
        return None, None
    return _execution_row(record, record["state"]), record["held"]


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


@cache
def _write_sql_postgres(shape: tuple[bool, ...]) -> tuple[str, tuple[Callable[[StepRows], Any], ...]]:
    """The write statement for the parts a step has (``shape``, see :func:`_shape`), and how to
    get its parameters from the rows."""
    has_job_deletes, has_jobs, has_timer_deletes, has_timers, has_history, has_outbox = shape
    st = _Statement()
    st.ctes.append(
        "x AS (UPDATE executions SET "
        f"state = {st.param(lambda s: dumps(s.state), 'json')}, "
        f"status = {st.param(lambda s: s.status, 'text')}, "
        f"error = {st.param(lambda s: s.error, 'text')}, "
        "version = version + 1, "
        f"updated_at = {st.param(lambda s: s.now, 'timestamptz')}, "
        f"process_id = COALESCE({st.param(_process_id, 'text')}, process_id), "
        f"ended_at = COALESCE({st.param(lambda s: s.now if s.ended else None, 'timestamptz')}, ended_at) "
        f"WHERE id = {st.param(lambda s: s.execution.id, 'text')} "
        f"AND version = {st.param(lambda s: s.execution.version, 'int')} RETURNING 1)"
    )
    if has_job_deletes:
        st.ctes.append(
            f"dj AS (DELETE FROM jobs WHERE id = ANY({st.param(lambda s: s.job_deletes, 'text[]')}))"
        )
    if has_jobs:
        names = ", ".join(name for name, _, _ in _JOB)
        source = st.arrays(_JOB, lambda s: s.jobs)
        st.ctes.append(
            f"uj AS (INSERT INTO jobs ({names}) SELECT {st.select(_JOB)} FROM {source} ORDER BY r.ord "
            f"ON CONFLICT (id) DO UPDATE SET {_JOB_CONFLICT} RETURNING id, claims, claimed_by)"
        )
    if has_timer_deletes:
        st.ctes.append(
            f"dt AS (DELETE FROM timers WHERE id = ANY({st.param(lambda s: s.timer_deletes, 'text[]')}))"
        )
    if has_timers:
        names = ", ".join(name for name, _, _ in _TIMER)
        source = st.arrays(_TIMER, lambda s: s.timers)
        st.ctes.append(
            f"ut AS (INSERT INTO timers ({names}) SELECT {st.select(_TIMER)} FROM {source} ORDER BY r.ord "
            f"ON CONFLICT (id) DO UPDATE SET {_TIMER_CONFLICT})"
        )
    for table, columns, present, rows in (
        ("history", _HISTORY, has_history, lambda s: s.history),
        ("outbox", _OUTBOX, has_outbox, lambda s: s.outbox),
    ):
        if present:
            names = ", ".join(name for name, _, _ in columns)
            source = st.arrays(columns, rows)
            st.ctes.append(
                f"{table}_rows AS (INSERT INTO {table} ({names}) SELECT {st.select(columns)} "
                f"FROM {source} ORDER BY r.ord)"
            )
    claimed = (
        "(SELECT coalesce(json_object_agg(id, claims), '{}') FROM uj WHERE claimed_by IS NOT NULL)"
        if has_jobs
        else "'{}'::json"
    )
    sql = f"WITH {', '.join(st.ctes)} SELECT (SELECT count(*) FROM x) AS saved, {claimed} AS claimed"
    return sql, tuple(st.params)


async def _write_postgres(raw: Any, rows: StepRows) -> tuple[int, dict[str, int]]:
    sql, params = _write_sql_postgres(_shape(rows))
    record = await raw.fetchrow(sql, *(param(rows) for param in params))
    return record["saved"], record["claimed"]  # JSON arrives parsed (SQLAlchemy's codec)


def _shape(rows: StepRows) -> tuple[bool, ...]:
    return (
        bool(rows.job_deletes),
        bool(rows.jobs),
        bool(rows.timer_deletes),
        bool(rows.timers),
        bool(rows.history),
        bool(rows.outbox),
    )


def _column(rows: list[dict[str, Any]], name: str, is_json: bool) -> list[Any]:
    if is_json:
        return [dumps(row.get(name)) for row in rows]
    return [row.get(name, 0 if name == "claims" else None) for row in rows]


def _process_id(rows: StepRows) -> str | None:
    return None if rows.state is None else rows.state["process_id"]


# SQLite -------------------------------------------------------------------------------------------


async def _lock_sqlite(
    raw: Any, execution_id: str, fence: tuple[str, str] | None
) -> tuple[ExecutionRow | None, int | None]:
    # The transaction holds the file's write lock already (BEGIN IMMEDIATE): reading is locking.
    found = raw.execute(f"SELECT {_EXECUTION} FROM executions WHERE id = ?", (execution_id,)).fetchone()
    if found is None:
        return None, None
    held = None
    if fence is not None:
        claims = raw.execute(f"SELECT claims FROM {fence[0]} WHERE id = ?", (fence[1],)).fetchone()
        held = None if claims is None else claims[0]
    record = dict(zip(_EXECUTION.split(", "), found, strict=True))
    return _execution_row(record, loads(record["state"])), held


@cache
def _insert_sql_sqlite(table: str, columns: Columns, conflict: str | None) -> str:
    names = ", ".join(name for name, _, _ in columns)
    marks = ", ".join("?" for _ in columns)
    sql = f"INSERT INTO {table} ({names}) VALUES ({marks})"
    return sql if conflict is None else f"{sql} ON CONFLICT (id) DO UPDATE SET {conflict}"


async def _write_sqlite(raw: Any, rows: StepRows) -> tuple[int, dict[str, int]]:
    now = _sqlite_time(rows.now)
    saved = raw.execute(
        "UPDATE executions SET state = ?, status = ?, error = ?, version = version + 1, updated_at = ?, "
        "process_id = COALESCE(?, process_id), ended_at = COALESCE(?, ended_at) WHERE id = ? AND version = ?",
        (
            dumps(rows.state),
            rows.status,
            rows.error,
            now,
            _process_id(rows),
            now if rows.ended else None,
            rows.execution.id,
            rows.execution.version,
        ),
    ).rowcount
    for table, ids in (("jobs", rows.job_deletes), ("timers", rows.timer_deletes)):
        if ids:
            raw.executemany(f"DELETE FROM {table} WHERE id = ?", [(i,) for i in ids])
    for table, columns, conflict, batch in (
        ("jobs", _JOB, _JOB_CONFLICT, rows.jobs),
        ("timers", _TIMER, _TIMER_CONFLICT, rows.timers),
        ("history", _HISTORY, None, rows.history),
        ("outbox", _OUTBOX, None, rows.outbox),
    ):
        if batch:
            raw.executemany(_insert_sql_sqlite(table, columns, conflict), _sqlite_rows(batch, columns))
    claimed: dict[str, int] = {}
    for row in rows.jobs:
        if row["claimed_by"] is not None:
            claimed[row["id"]] = raw.execute("SELECT claims FROM jobs WHERE id = ?", (row["id"],)).fetchone()[
                0
            ]
    return saved, claimed


def _sqlite_rows(rows: Sequence[dict[str, Any]], columns: Columns) -> list[tuple[Any, ...]]:
    return [
        tuple(
            dumps(row.get(name))
            if is_json
            else _sqlite_time(row.get(name))
            if kind == "timestamptz"
            else row.get(name, 0 if name == "claims" else None)
            for name, kind, is_json in columns
        )
        for row in rows
    ]


def _sqlite_time(value: datetime | None) -> str | None:
    """A timestamp as the toolkit stores it on SQLite (naive UTC text, microseconds)."""
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value!r}: the store keeps aware UTC datetimes")
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


# Both -----------------------------------------------------------------------------------------------


def _execution_row(record: Mapping[str, Any], state: dict[str, Any] | None) -> ExecutionRow:
    return ExecutionRow(
        id=record["id"],
        tenant_id=record["tenant_id"],
        workflow_id=record["workflow_id"],
        version_id=record["version_id"],
        process_id=record["process_id"],
        parent_id=record["parent_id"],
        root_id=record["root_id"],
        status=record["status"],
        state=state,
        version=record["version"],
    )


__all__ = ["StepRows", "lock", "write"]
