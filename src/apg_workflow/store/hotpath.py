"""The two statements of every transition, in each driver's own terms: lock the execution (with the
claim that fences the report), and write what the step produced (the execution's new state, its
jobs, timers, history and outbox rows).

They bypass the SQL toolkit, whose overhead per statement is larger than the statement itself, and
batch the rows: on PostgreSQL the whole write is one statement (data-modifying CTEs over ``unnest``
arrays, so one round trip whatever the step did); on SQLite, which runs inline, one ``executemany``
per table. Both store exactly what the toolkit would (the same JSON text, the same timestamps), so
every other query reads these rows unchanged; the integration tests run on both dialects.

On PostgreSQL the same write also stands alone, outside any transaction block (:func:`read_alone`
and :func:`write_alone`, used by :mod:`.optimistic`): a compare-and-set on the execution's version,
with the fence of the report and, for a start or the end of a root execution, the absence of
concurrency limits checked in the statement itself. Every row it writes depends on the
execution's row changing, so it writes all or nothing, and commits by itself.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from apg_workflow.store import hotpath_postgres as pg
from apg_workflow.store import hotpath_sqlite as sqlite
from apg_workflow.store.db import driver_call
from apg_workflow.store.errors import StoreError
from apg_workflow.store.records import ExecutionRow
from apg_workflow.store.steprows import EXECUTION, FENCED, NewExecution, StepRows, execution_row


async def lock(
    conn: AsyncConnection, execution_id: str, fence: tuple[str, str] | None = None
) -> tuple[ExecutionRow | None, int | None]:
    """The execution, its row locked until the transaction ends, and, with ``fence`` = (table,
    id), the current claim number of that job or timer, its row locked too (``None`` when gone)."""
    if fence is not None and fence[0] not in FENCED:
        raise ValueError(f"no claims on {fence[0]}")
    if conn.dialect.name == "postgresql":
        return await driver_call(conn, lambda raw: pg.lock(raw, execution_id, fence))
    return await driver_call(conn, lambda raw: sqlite.lock(raw, execution_id, fence))


async def write(conn: AsyncConnection, rows: StepRows) -> dict[str, int]:
    """Write a step's rows; returns the claim number of every job the step claimed. Raises
    :class:`StoreError` when the execution changed under its lock (it cannot, short of a bug)."""
    if conn.dialect.name == "postgresql":
        saved, claimed = await driver_call(conn, lambda raw: pg.write(raw, rows))
    else:
        saved, claimed = await driver_call(conn, lambda raw: sqlite.write(raw, rows))
    if saved != 1:
        raise StoreError(f"execution '{rows.execution.id}' changed while it was locked")
    return claimed


_READ = f"SELECT {EXECUTION} FROM executions WHERE id = $1"


def read_alone(execution_id: str) -> tuple[str, tuple[Any, ...]]:
    """PostgreSQL, outside a transaction: the statement that reads the execution as committed
    (its answer: :func:`read_answer`)."""
    return _READ, (execution_id,)


def read_answer(record: Any) -> ExecutionRow | None:
    return None if record is None else execution_row(record, record["state"])


def write_alone(rows: StepRows) -> tuple[str, list[Any]]:
    """PostgreSQL, outside a transaction: the statement that writes a step and commits by itself,
    if the execution is still at ``rows.execution.version`` (for a start: is new), the fence still
    holds and, with ``unlimited``, no concurrency limit applies (its answer:
    :func:`write_answer`)."""
    if rows.fence is not None and rows.fence[0] not in FENCED:
        raise ValueError(f"no claims on {rows.fence[0]}")
    sql, params = pg.write_statement(pg.shape(rows))
    return sql, [param(rows) for param in params]


def write_answer(record: Any) -> tuple[bool, dict[str, int]]:
    """Whether the statement wrote, and the claim number of every job the step claimed."""
    return record["saved"] == 1, record["claimed"]


__all__ = [
    "NewExecution",
    "StepRows",
    "lock",
    "read_alone",
    "read_answer",
    "write",
    "write_alone",
    "write_answer",
]
