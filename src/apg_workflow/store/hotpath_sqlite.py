"""The hot path's statements on SQLite (see :mod:`.hotpath`), on the ``sqlite3`` connection that
runs inline: the write transaction holds the file's lock already, so reading is locking; a step's
rows go in one ``executemany`` per table, as the toolkit would store them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from functools import cache
from typing import Any

from apg_workflow.store.codec import dumps, loads
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
    execution_row,
    process_id,
)


async def lock(
    raw: Any, execution_id: str, fence: tuple[str, str] | None
) -> tuple[ExecutionRow | None, int | None]:
    # The transaction holds the file's write lock already (BEGIN IMMEDIATE): reading is locking.
    found = raw.execute(f"SELECT {EXECUTION} FROM executions WHERE id = ?", (execution_id,)).fetchone()
    if found is None:
        return None, None
    held = None
    if fence is not None:
        claims = raw.execute(f"SELECT claims FROM {fence[0]} WHERE id = ?", (fence[1],)).fetchone()
        held = None if claims is None else claims[0]
    record = dict(zip(EXECUTION.split(", "), found, strict=True))
    return execution_row(record, loads(record["state"])), held


@cache
def _insert_sql_sqlite(table: str, columns: Columns, conflict: str | None) -> str:
    names = ", ".join(name for name, _, _ in columns)
    marks = ", ".join("?" for _ in columns)
    sql = f"INSERT INTO {table} ({names}) VALUES ({marks})"
    return sql if conflict is None else f"{sql} ON CONFLICT (id) DO UPDATE SET {conflict}"


async def write(raw: Any, rows: StepRows) -> tuple[int, dict[str, int]]:
    now = _sqlite_time(rows.now)
    saved = raw.execute(
        "UPDATE executions SET state = ?, status = ?, error = ?, version = version + 1, updated_at = ?, "
        "process_id = COALESCE(?, process_id), ended_at = COALESCE(?, ended_at) WHERE id = ? AND version = ?",
        (
            dumps(rows.state),
            rows.status,
            rows.error,
            now,
            process_id(rows),
            now if rows.ended else None,
            rows.execution.id,
            rows.execution.version,
        ),
    ).rowcount
    for table, ids in (("jobs", rows.job_deletes), ("timers", rows.timer_deletes)):
        if ids:
            raw.executemany(f"DELETE FROM {table} WHERE id = ?", [(i,) for i in ids])
    for table, columns, conflict, batch in (
        ("jobs", JOB, JOB_CONFLICT, rows.jobs),
        ("timers", TIMER, TIMER_CONFLICT, rows.timers),
        ("history", HISTORY, None, rows.history),
        ("outbox", OUTBOX, None, rows.outbox),
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


__all__ = ["lock", "write"]
