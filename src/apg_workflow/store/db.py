"""The database: one async SQLAlchemy engine for SQLite (WAL, one file) or PostgreSQL (asyncpg),
and transactions that retry what is safe to retry (deadlocks, serialization failures, a lost
connection, a busy SQLite file).

On SQLite every write transaction starts with ``BEGIN IMMEDIATE`` (the file's write lock, taken up
front) and one process runs one write transaction at a time; reads use a deferred ``BEGIN``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from apg_workflow.store.errors import StoreError

log = logging.getLogger(__name__)
T = TypeVar("T")

# SQLSTATEs worth another try: serialization failure, deadlock, and the connection-loss classes.
_RETRY_SQLSTATES = ("40001", "40P01", "08", "57P01", "57P02", "57P03")
_READ_OPTION = "apg_read_only"


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def async_url(url: str) -> URL:
    """The SQLAlchemy URL with the async driver of its dialect (aiosqlite / asyncpg)."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return parsed.set(drivername="sqlite+aiosqlite")
    if backend in ("postgresql", "postgres"):
        return parsed.set(drivername="postgresql+asyncpg")
    raise StoreError(f"unsupported database '{backend}': use sqlite:///FILE or postgresql://…")


class Database:
    """An engine plus the transaction discipline of the store. Create it in the event loop that uses
    it; :meth:`dispose` closes its connections."""

    def __init__(self, url: str, *, pool_size: int = 10) -> None:
        self.url = async_url(url)
        self.is_postgres = self.url.get_backend_name() == "postgresql"
        options: dict[str, Any] = {"json_serializer": _dumps, "json_deserializer": json.loads}
        if self.is_postgres:
            options |= {"pool_size": pool_size, "max_overflow": pool_size}
        else:
            options |= {"connect_args": {"timeout": 60}}
        self.engine: AsyncEngine = create_async_engine(self.url, **options)
        self._writer = asyncio.Lock()
        if not self.is_postgres:
            _configure_sqlite(self.engine)

    @property
    def dialect(self) -> str:
        return "postgresql" if self.is_postgres else "sqlite"

    async def dispose(self) -> None:
        await self.engine.dispose()

    async def transaction(self, work: Callable[[AsyncConnection], Awaitable[T]], *, attempts: int = 8) -> T:
        """Run ``work(conn)`` in one write transaction and commit; retry it from the start on a
        transient failure. ``work`` must do nothing outside the database that a retry would repeat."""
        for attempt in range(1, attempts + 1):
            try:
                async with self._write_slot(), self.engine.begin() as conn:
                    return await work(conn)
            except DBAPIError as exc:
                if attempt == attempts or not is_transient(exc):
                    raise
                delay = min(2.0, 0.01 * 2**attempt) * (0.5 + random.random())
                log.info(
                    "transient database error (try %d of %d, again in %.2fs): %s",
                    attempt,
                    attempts,
                    delay,
                    exc.orig,
                )
                await asyncio.sleep(delay)
            except OSError as exc:  # the server went away while connecting
                if attempt == attempts:
                    raise
                log.info("database unreachable (try %d of %d): %s", attempt, attempts, exc)
                await asyncio.sleep(min(2.0, 0.05 * 2**attempt))
        raise AssertionError("unreachable")

    async def read(self, work: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        """Run ``work(conn)`` in a read transaction (no write lock on SQLite)."""
        async with self.reading() as conn:
            return await work(conn)

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncConnection]:
        async with self.engine.connect() as conn:
            conn = await conn.execution_options(**{_READ_OPTION: True})
            async with conn.begin():
                yield conn

    async def listen(self, channel: str, on_notify: Callable[[], None], stop: asyncio.Event) -> None:
        """Call ``on_notify`` on every ``NOTIFY channel`` until ``stop`` is set, reconnecting after a
        lost connection (and calling it once per (re)connection, for what was missed meanwhile).
        Returns at once on SQLite, which has no notifications."""
        if not self.is_postgres:
            return
        import asyncpg

        dsn = self.url.set(drivername="postgresql").render_as_string(hide_password=False)
        while not stop.is_set():
            try:
                conn = await asyncpg.connect(dsn)
            except (OSError, asyncpg.PostgresError) as exc:
                log.info("cannot listen for %s yet: %s", channel, exc)
                await _wait(stop, 1.0)
                continue
            try:
                await conn.add_listener(channel, lambda *_: on_notify())
                on_notify()
                while not stop.is_set():
                    await _wait(stop, 5.0)
                    await conn.fetchval("SELECT 1")  # notices a lost connection
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.info("listening for %s interrupted: %s", channel, exc)
            finally:
                conn.terminate()

    @asynccontextmanager
    async def _write_slot(self) -> AsyncIterator[None]:
        if self.is_postgres:
            yield
        else:
            async with self._writer:
                yield


async def _wait(event: asyncio.Event, seconds: float) -> None:
    with suppress(TimeoutError):
        await asyncio.wait_for(event.wait(), seconds)


def is_transient(exc: DBAPIError) -> bool:
    """A failure that another try of the whole transaction may not meet."""
    if exc.connection_invalidated:
        return True
    orig = exc.orig
    sqlstate = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    if isinstance(sqlstate, str) and sqlstate.startswith(_RETRY_SQLSTATES):
        return True
    text = str(orig).lower()
    return "database is locked" in text or "connection is closed" in text or "connection was closed" in text


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
        cursor = dbapi_connection.cursor()
        for pragma in (
            "journal_mode=WAL",
            "synchronous=NORMAL",
            "busy_timeout=60000",
            "foreign_keys=ON",
            "cache_size=-16000",
        ):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        read_only = conn.get_execution_options().get(_READ_OPTION, False)
        conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


__all__ = ["Database", "async_url", "is_transient"]
