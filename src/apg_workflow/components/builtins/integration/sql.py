"""SQL components: a parameterised query returning rows, and statements run in one transaction.

Values reach the database only as bound parameters: a statement names them as ``:name`` and they are
taken from the inputs of the same name. Other placeholder styles (``%s``, ``{name}``, ``${name}``,
``$1``) are refused, so a statement can never be assembled from data by string interpolation.

Any SQLAlchemy URL works: async drivers (``postgresql+asyncpg``, ``sqlite+aiosqlite``) run on the event
loop; sync drivers (``postgresql+psycopg2``, ``mysql+pymysql``, …) run in a thread. A URL without a
driver uses asyncpg for PostgreSQL and aiosqlite for SQLite. Each call opens one connection and
closes it afterwards.
"""

from __future__ import annotations

import asyncio
import base64
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, TypeVar
from uuid import UUID

from pydantic import Field
from sqlalchemy import Connection, create_engine, exc, make_url, text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from apg_workflow.components.base import Component, ComponentConfig, ComponentContext
from apg_workflow.components.builtins.integration.sql_codecs import accept_iso_text
from apg_workflow.components.builtins.integration.support import connection_settings
from apg_workflow.components.errors import BpmnError, ConfigurationError, RetryableError

T = TypeVar("T")
_DEFAULT_ASYNC = {
    "postgresql": "postgresql+asyncpg",
    "postgres": "postgresql+asyncpg",
    "sqlite": "sqlite+aiosqlite",
}
_QUOTED = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|--[^\n]*|/\*.*?\*/", re.S)
_INTERPOLATION = re.compile(r"%\(\w+\)s|%s|\$\{|\{\w*\}|\$\d+")
CONNECTION_DESCRIPTION = "Name of a `database` connection (its `url` is any SQLAlchemy URL)."


def check_statement(sql: str) -> list[str]:
    """The ``:name`` parameters of a statement; refuses interpolation-style placeholders."""
    bare = _QUOTED.sub("''", sql)
    found = _INTERPOLATION.search(bare)
    if found:
        raise ConfigurationError(
            f"the statement uses '{found.group()}': write parameters as :name, and their values come from "
            "the inputs of the same name (statements are never assembled from data)"
        )
    return list(text(sql).compile().params)


def bind(sql: str, values: Mapping[str, Any]) -> dict[str, Any]:
    names = check_statement(sql)
    missing = [name for name in names if name not in values]
    if missing:
        raise ConfigurationError(
            f"the statement uses {', '.join(':' + m for m in missing)}, which the inputs lack"
        )
    return {name: values[name] for name in names}


def jsonable(value: Any) -> Any:
    """A database value as a JSON-friendly workflow variable."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, list | tuple):
        return [jsonable(item) for item in value]
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    return value


def _rows(result: Any, limit: int) -> tuple[list[dict[str, Any]], bool]:
    fetched = result.mappings().fetchmany(limit + 1)
    return [{k: jsonable(v) for k, v in row.items()} for row in fetched[:limit]], len(fetched) > limit


def _database_url(context: ComponentContext, name: str) -> URL:
    raw = str(connection_settings(context, name, "database", ("url",))["url"])
    try:
        url = make_url(raw)
    except exc.ArgumentError:
        raise ConfigurationError(f"connection '{name}' does not hold a valid SQLAlchemy URL") from None
    return url.set(drivername=_DEFAULT_ASYNC.get(url.drivername, url.drivername))


async def in_transaction(context: ComponentContext, connection: str, work: Callable[[Connection], T]) -> T:
    """Run ``work`` with a connection inside one transaction (committed when it returns), mapping
    database errors to what the engine understands."""
    url = _database_url(context, connection)
    try:
        is_async = bool(getattr(url.get_dialect(), "is_async", False))
    except exc.NoSuchModuleError:
        raise ConfigurationError(f"no SQLAlchemy dialect is installed for '{url.drivername}'") from None
    try:
        if is_async:
            engine = accept_iso_text(create_async_engine(url, poolclass=NullPool))
            try:
                async with engine.begin() as conn:
                    return await conn.run_sync(work)
            finally:
                await engine.dispose()
        return await asyncio.to_thread(_blocking, url, work)
    except ModuleNotFoundError as missing:
        raise ConfigurationError(
            f"the database driver '{missing.name}' for '{url.drivername}' is not installed"
        ) from None
    except exc.DBAPIError as error:
        raise _translate(error) from None
    except OSError as error:  # some drivers report a refused connection as it is
        raise RetryableError(f"the database failed: cannot connect ({error.strerror or error})") from None


def _blocking(url: URL, work: Callable[[Connection], T]) -> T:
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.begin() as conn:
            return work(conn)
    finally:
        engine.dispose()


def _translate(error: exc.DBAPIError) -> Exception:
    detail = str(error.orig).strip().splitlines()[0] if error.orig is not None else str(error)
    # Some drivers raise a bad value found before it reaches the server (asyncpg) as a generic
    # error; its SQLSTATE class still says what it is: 22 data exception, 23 integrity violation.
    sqlstate = str(getattr(error.orig, "sqlstate", None) or getattr(error.orig, "pgcode", None) or "")
    if isinstance(error, exc.IntegrityError) or sqlstate.startswith("23"):
        return BpmnError("sql-integrity-error", f"the database refused the change: {detail}")
    if isinstance(error, exc.DataError) or sqlstate.startswith("22"):
        return BpmnError("sql-data-error", f"the database refused a value: {detail}")
    if isinstance(error, exc.ProgrammingError | exc.NotSupportedError):
        return ConfigurationError(f"the statement failed: {detail}")
    return RetryableError(f"the database failed: {detail}")


class SqlQueryConfig(ComponentConfig):
    connection: str = Field(description=CONNECTION_DESCRIPTION)
    sql: str = Field(
        min_length=1,
        description="One statement returning rows, with `:name` parameters bound from the inputs of "
        "that name.",
    )
    max_rows: int = Field(
        1000, gt=0, le=100_000, description="Most rows returned; `truncated` tells when there were more."
    )


class SqlQuery(Component[SqlQueryConfig]):
    type = "sql.query"
    category = "integration"
    title = "SQL query"
    description = (
        "Runs a parameterised query and returns its rows as objects (decimals as numbers, dates as ISO text, "
        "bytes as base64). Parameters are bound, never interpolated; a date or time may be given as ISO text "
        "(`2025-03-01`, `2025-03-01T09:30:00Z`)."
    )
    Config = SqlQueryConfig
    inputs = {"type": "object", "description": "Values of the statement's `:name` parameters."}
    outputs = {
        "type": "object",
        "properties": {
            "rows": {"type": "array", "items": {"type": "object"}},
            "row_count": {"type": "integer"},
            "columns": {"type": "array", "items": {"type": "string"}},
            "truncated": {"type": "boolean", "description": "whether max_rows cut the result"},
        },
    }
    examples = (
        {
            "config": {
                "connection": "shop",
                "sql": "SELECT id, total FROM orders WHERE customer_id = :customer_id",
            },
            "inputs": {"customer_id": 42},
            "outputs": {
                "rows": [{"id": 7, "total": 99.5}],
                "row_count": 1,
                "columns": ["id", "total"],
                "truncated": False,
            },
        },
    )

    async def run(
        self, context: ComponentContext, config: SqlQueryConfig, inputs: Mapping[str, Any]
    ) -> Mapping[str, Any]:
        params = bind(config.sql, inputs)

        def work(conn: Connection) -> dict[str, Any]:
            result = conn.execute(text(config.sql), params)
            if not result.returns_rows:
                raise ConfigurationError(
                    "sql.query needs a statement that returns rows; use sql.execute for changes"
                )
            rows, truncated = _rows(result, config.max_rows)
            return {
                "rows": rows,
                "row_count": len(rows),
                "columns": list(result.keys()),
                "truncated": truncated,
            }

        return await in_transaction(context, config.connection, work)


class SqlExecuteConfig(ComponentConfig):
    connection: str = Field(description=CONNECTION_DESCRIPTION)
    sql: str | list[str] = Field(
        description="A statement, or a list run in order in one transaction (all or nothing); `:name` "
        "parameters are bound from the inputs of that name."
    )
    for_each: str | None = Field(
        None,
        description="Name of an input holding a list of objects: each statement runs once per object, its "
        "parameters taken from the object (then from the inputs).",
    )
    max_rows: int = Field(
        1000, gt=0, le=100_000, description="Most rows kept from a statement with RETURNING."
    )


class SqlExecute(Component[SqlExecuteConfig]):
    type = "sql.execute"
    category = "integration"
    title = "SQL statements"
    description = (
        "Runs INSERT / UPDATE / DELETE / DDL statements with bound parameters in one transaction: either all "
        "of them take effect or none. Returns the affected row counts, and the rows of a RETURNING clause. "
        "An integrity violation raises the BPMN error `sql-integrity-error`, a value the database refuses "
        "`sql-data-error`. Dates and times may be given as ISO text."
    )
    Config = SqlExecuteConfig
    inputs = {
        "type": "object",
        "description": "Values of the statements' `:name` parameters (and the for_each list).",
    }
    outputs = {
        "type": "object",
        "properties": {
            "rowcount": {"type": "integer", "description": "rows affected, all statements together"},
            "rowcounts": {"type": "array", "items": {"type": "integer"}, "description": "per statement"},
            "rows": {"type": "array", "description": "rows returned by the last statement with RETURNING"},
        },
    }
    idempotent = False
    examples = (
        {
            "config": {
                "connection": "shop",
                "sql": [
                    "UPDATE stock SET quantity = quantity - :quantity WHERE sku = :sku",
                    "INSERT INTO reservations (order_id, sku, quantity) VALUES (:order_id, :sku, :quantity)",
                ],
            },
            "inputs": {"order_id": 7, "sku": "A-1", "quantity": 2},
            "outputs": {"rowcount": 2, "rowcounts": [1, 1], "rows": []},
        },
    )

    async def run(
        self, context: ComponentContext, config: SqlExecuteConfig, inputs: Mapping[str, Any]
    ) -> Mapping[str, Any]:
        statements = [config.sql] if isinstance(config.sql, str) else list(config.sql)
        if not statements or not all(s.strip() for s in statements):
            raise ConfigurationError("give at least one non-empty statement")
        batches = [
            [bind(sql, {**inputs, **row}) for row in self._rows_of(config, inputs)] for sql in statements
        ]

        def work(conn: Connection) -> dict[str, Any]:
            counts: list[int] = []
            returned: list[dict[str, Any]] = []
            for sql, batch in zip(statements, batches, strict=True):
                count, rows = 0, []
                for params in batch:
                    result = conn.execute(text(sql), params)
                    fetched = _rows(result, config.max_rows)[0] if result.returns_rows else []
                    # some drivers report no rowcount for a statement with RETURNING
                    count += max(result.rowcount, len(fetched), 0)
                    rows.extend(fetched)
                counts.append(count)
                returned = rows[: config.max_rows] if rows else returned
            return {"rowcount": sum(counts), "rowcounts": counts, "rows": returned}

        return await in_transaction(context, config.connection, work)

    @staticmethod
    def _rows_of(config: SqlExecuteConfig, inputs: Mapping[str, Any]) -> Sequence[Mapping[str, Any]]:
        if config.for_each is None:
            return [{}]
        items = inputs.get(config.for_each)
        if not isinstance(items, list) or not all(isinstance(item, Mapping) for item in items):
            raise ConfigurationError(
                f"for_each names '{config.for_each}', which must be an input list of objects"
            )
        return items


COMPONENTS = (SqlQuery, SqlExecute)
