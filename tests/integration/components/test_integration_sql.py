"""sql.query / sql.execute against SQLite (async and sync drivers) and a real PostgreSQL server."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from apg_workflow.components import BpmnError, ConfigurationError, RetryableError
from apg_workflow.components.builtins.integration.sql import SqlExecute, SqlQuery, check_statement

from .conftest import RunComponent


@pytest.fixture(params=["sqlite", "sqlite-sync", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """A ``database`` connection and a fresh table name in it."""
    table = f"orders_{uuid.uuid4().hex[:8]}"
    if request.param == "postgresql":
        url = request.getfixturevalue("postgres_url")
        yield {"db": {"type": "database", "url": url}, "table": table}
        asyncio.run(_drop(url, table))
        return
    driver = "sqlite+pysqlite" if request.param == "sqlite-sync" else "sqlite"
    yield {"db": {"type": "database", "url": f"{driver}:///{tmp_path / 'shop.db'}"}, "table": table}


async def _drop(url: str, table: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        await conn.execute(f"DROP TABLE IF EXISTS {table}")
    finally:
        await conn.close()


async def create_orders(run_component: RunComponent, database: dict[str, Any]) -> str:
    table = database["table"]
    await run_component(
        SqlExecute,
        {
            "connection": "db",
            "sql": [
                f"CREATE TABLE {table} (id INTEGER PRIMARY KEY, customer TEXT NOT NULL, "
                "total NUMERIC(10, 2), "
                "placed DATE)",
                f"INSERT INTO {table} (id, customer, total, placed) VALUES (1, 'ada', 99.50, '2024-05-01'), "
                "(2, 'ada', 10, '2024-05-02'), (3, 'bob', 5.25, '2024-05-03')",
            ],
        },
        connections=database,
    )
    return table


@pytest.mark.asyncio
async def test_query_binds_named_parameters_and_returns_rows_as_objects(
    run_component: RunComponent, database: dict[str, Any]
) -> None:
    table = await create_orders(run_component, database)
    out = await run_component(
        SqlQuery,
        {
            "connection": "db",
            "sql": f"SELECT id, total, placed FROM {table} WHERE customer = :customer ORDER BY id",
        },
        {"customer": "ada", "unrelated": object()},
        connections=database,
    )
    assert out["rows"] == [
        {"id": 1, "total": 99.5, "placed": "2024-05-01"},
        {"id": 2, "total": 10, "placed": "2024-05-02"},
    ]
    assert out["columns"] == ["id", "total", "placed"]
    assert out["row_count"] == 2 and out["truncated"] is False
    hostile = await run_component(
        SqlQuery,
        {"connection": "db", "sql": f"SELECT id FROM {table} WHERE customer = :customer"},
        {"customer": "ada' OR '1'='1"},
        connections=database,
    )
    assert hostile["rows"] == []
    limited = await run_component(
        SqlQuery, {"connection": "db", "sql": f"SELECT id FROM {table}", "max_rows": 2}, connections=database
    )
    assert limited["row_count"] == 2 and limited["truncated"] is True


@pytest.mark.asyncio
async def test_execute_reports_rowcounts_and_returning_rows(
    run_component: RunComponent, database: dict[str, Any]
) -> None:
    table = await create_orders(run_component, database)
    out = await run_component(
        SqlExecute,
        {"connection": "db", "sql": f"UPDATE {table} SET total = total + :bonus WHERE customer = :who"},
        {"bonus": 1, "who": "ada"},
        connections=database,
    )
    assert out == {"rowcount": 2, "rowcounts": [2], "rows": []}
    inserted = await run_component(
        SqlExecute,
        {
            "connection": "db",
            "for_each": "orders",
            "sql": f"INSERT INTO {table} (id, customer, total) VALUES (:id, :customer, :total) RETURNING id",
        },
        {"orders": [{"id": 10, "total": 1}, {"id": 11, "total": 2}], "customer": "cy"},
        connections=database,
    )
    assert inserted["rowcounts"] == [2]
    assert inserted["rows"] == [{"id": 10}, {"id": 11}]
    count = await run_component(
        SqlQuery, {"connection": "db", "sql": f"SELECT COUNT(*) AS n FROM {table}"}, connections=database
    )
    assert count["rows"] == [{"n": 5}]


@pytest.mark.asyncio
async def test_statements_run_in_one_transaction(
    run_component: RunComponent, database: dict[str, Any]
) -> None:
    table = await create_orders(run_component, database)
    with pytest.raises(BpmnError) as caught:
        await run_component(
            SqlExecute,
            {
                "connection": "db",
                "sql": [
                    f"DELETE FROM {table} WHERE id = 3",
                    f"INSERT INTO {table} (id, customer) VALUES (1, 'dup')",
                ],
            },
            connections=database,
        )
    assert caught.value.code == "sql-integrity-error"
    still = await run_component(
        SqlQuery, {"connection": "db", "sql": f"SELECT id FROM {table} ORDER BY id"}, connections=database
    )
    assert [row["id"] for row in still["rows"]] == [1, 2, 3]  # the DELETE was rolled back


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM t WHERE id = %s",
        "SELECT * FROM t WHERE id = %(id)s",
        "SELECT * FROM t WHERE id = {id}",
        "SELECT * FROM t WHERE id = ${id}",
        "SELECT * FROM t WHERE id = $1",
    ],
)
def test_interpolation_style_placeholders_are_refused(sql: str) -> None:
    with pytest.raises(ConfigurationError, match="write parameters as :name"):
        check_statement(sql)


def test_placeholder_lookalikes_inside_literals_and_casts_are_fine() -> None:
    assert check_statement("SELECT '{a}' || '%s', x::int FROM t WHERE y = :y -- ${not this}") == ["y"]


@pytest.mark.asyncio
async def test_errors_are_clear(run_component: RunComponent, tmp_path: Path) -> None:
    db = {"db": {"type": "database", "url": f"sqlite:///{tmp_path / 'e.db'}"}}
    with pytest.raises(ConfigurationError, match=":missing, which the inputs lack"):
        await run_component(SqlQuery, {"connection": "db", "sql": "SELECT :missing AS m"}, connections=db)
    with pytest.raises(ConfigurationError, match=r"use sql\.execute"):
        await run_component(SqlQuery, {"connection": "db", "sql": "CREATE TABLE t (x INT)"}, connections=db)
    with pytest.raises(ConfigurationError, match="valid SQLAlchemy URL"):
        await run_component(
            SqlQuery,
            {"connection": "db", "sql": "SELECT 1"},
            connections={"db": {"type": "database", "url": "not a url"}},
        )
    with pytest.raises(ConfigurationError, match="'redis' connection"):
        await run_component(
            SqlQuery,
            {"connection": "db", "sql": "SELECT 1"},
            connections={"db": {"type": "redis", "url": "redis://x"}},
        )
    with pytest.raises(RetryableError, match="no such table"):
        await run_component(SqlQuery, {"connection": "db", "sql": "SELECT * FROM absent"}, connections=db)


@pytest.mark.asyncio
async def test_an_unreachable_server_is_transient(run_component: RunComponent) -> None:
    db = {"db": {"type": "database", "url": "postgresql://postgres@127.0.0.1:1/test"}}
    with pytest.raises(RetryableError, match="database failed"):
        await run_component(SqlQuery, {"connection": "db", "sql": "SELECT 1"}, connections=db)
