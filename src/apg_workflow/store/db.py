"""The database: one async SQLAlchemy engine for SQLite (WAL, one file) or PostgreSQL (asyncpg),
and transactions that retry what is safe to retry (deadlocks, serialization failures, a lost
connection, a busy SQLite file).

On SQLite every write transaction starts with ``BEGIN IMMEDIATE`` (the file's write lock, taken up
front) and one process runs one write transaction at a time; reads use a deferred ``BEGIN``.
SQLite runs inline on the event loop (:mod:`.sqlite`), and its write transactions, one at a time
anyway, share one connection.
"""

from __future__ import annotations

import asyncio
import logging
import random
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager, suppress
from functools import partial
from typing import Any, TypeVar

import asyncpg
from sqlalchemy import text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from apg_workflow.store.codec import dumps, loads
from apg_workflow.store.errors import StoreError
from apg_workflow.store.sqlite import CHECKPOINT_EVERY, InlineSQLite, checkpoint, configure

log = logging.getLogger(__name__)
T = TypeVar("T")

# SQLSTATEs worth another try: serialization failure, deadlock, and the connection-loss classes.
_RETRY_SQLSTATES = ("40001", "40P01", "08", "57P01", "57P02", "57P03")
_READ_OPTION = "apg_read_only"
_NOTIFY = text("SELECT pg_notify(:channel, '')")
RETRY_SECONDS = 60.0  # how long a transaction is retried through transient failures


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
        options: dict[str, Any] = {"json_serializer": dumps, "json_deserializer": loads}
        if self.is_postgres:
            options |= {"pool_size": pool_size, "max_overflow": pool_size}
        else:
            options |= {"async_creator": partial(InlineSQLite.connect, self.url.database or ":memory:")}
        self.engine: AsyncEngine = create_async_engine(self.url, **options)
        self._writer = asyncio.Lock()
        self._write_conn: AsyncConnection | None = None  # SQLite: the one connection that writes
        self._commits = 0  # SQLite: commits since the last checkpoint
        self._checkpoint: asyncio.Future[None] | None = None
        self._notifying: dict[str, asyncio.Future[None]] = {}  # PostgreSQL: NOTIFYs on their way
        self._notify_again: set[str] = set()
        if not self.is_postgres:
            configure(self.engine, _READ_OPTION)

    @property
    def dialect(self) -> str:
        return "postgresql" if self.is_postgres else "sqlite"

    async def dispose(self) -> None:
        await asyncio.gather(*self._notifying.values())
        if self._checkpoint is not None:
            await self._checkpoint
        if self._write_conn is not None:
            await self._write_conn.close()
            self._write_conn = None
        await self.engine.dispose()

    async def transaction(self, work: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        """Run ``work(conn)`` in one write transaction and commit; retry it from the start on a
        transient failure, for up to ``RETRY_SECONDS`` (a server restarting under load refuses
        connections for several seconds). ``work`` must do nothing outside the database that a retry
        would repeat."""
        return await self._retrying(self._writing, work)

    async def read(self, work: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        """Run ``work(conn)`` in a read transaction (no write lock on SQLite); retried like
        :meth:`transaction`."""
        return await self._retrying(self.reading, work)

    async def _retrying(
        self,
        transaction: Callable[[], AbstractAsyncContextManager[AsyncConnection]],
        work: Callable[[AsyncConnection], Awaitable[T]],
    ) -> T:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + RETRY_SECONDS
        attempt = 0
        while True:
            attempt += 1
            try:
                async with transaction() as conn:
                    return await work(conn)
            except (DBAPIError, OSError) as exc:  # OSError: the server went away while connecting
                if isinstance(exc, DBAPIError) and not is_transient(exc):
                    raise
                delay = min(2.0, 0.01 * 2**attempt) * (0.5 + random.random())
                if loop.time() + delay > deadline:
                    raise
                log.info(
                    "transient database error (try %d, again in %.2fs): %s",
                    attempt,
                    delay,
                    exc.orig if isinstance(exc, DBAPIError) else exc,
                )
                await asyncio.sleep(delay)

    async def alone(self, call: Callable[[Any], Awaitable[T]]) -> T:
        """PostgreSQL: ``call(driver connection)`` outside any transaction block, so that each of its
        statements commits by itself (one round trip, no ``BEGIN`` and ``COMMIT``); retried like
        :meth:`transaction`, so its statements must be safe to repeat."""
        if not self.is_postgres:
            raise StoreError("statements outside a transaction are for PostgreSQL")
        return await self._retrying(self._connected, lambda conn: driver_call(conn, call, begin=False))

    @asynccontextmanager
    async def _connected(self) -> AsyncIterator[AsyncConnection]:
        async with self.engine.connect() as conn:
            yield conn

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncConnection]:
        async with self.engine.connect() as conn:
            conn = await conn.execution_options(**{_READ_OPTION: True})
            async with conn.begin():
                yield conn

    def notify(self, channel: str) -> None:
        """``NOTIFY channel`` soon, in a statement of its own (PostgreSQL; nothing on SQLite). Asks
        made while one is on its way fold into one more: a burst of commits wakes the listeners
        once or twice, and no commit waits for the server's notification lock. Listeners poll as
        well, so one lost with a crash costs them at most a poll interval."""
        if not self.is_postgres:
            return
        if channel in self._notifying:
            self._notify_again.add(channel)
            return
        self._notifying[channel] = asyncio.ensure_future(self._notify(channel))

    async def _notify(self, channel: str) -> None:
        try:
            again = True
            while again:
                self._notify_again.discard(channel)
                try:
                    async with self.engine.connect() as conn:
                        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
                        await conn.execute(_NOTIFY, {"channel": channel})
                except (DBAPIError, OSError) as exc:
                    log.info("NOTIFY %s failed (listeners will poll): %s", channel, exc)
                again = channel in self._notify_again
        finally:
            del self._notifying[channel]

    async def listen(self, channel: str, on_notify: Callable[[], None], stop: asyncio.Event) -> None:
        """Call ``on_notify`` on every ``NOTIFY channel`` until ``stop`` is set, reconnecting after a
        lost connection (and calling it once per (re)connection, for what was missed meanwhile).
        Returns at once on SQLite, which has no notifications."""
        if not self.is_postgres:
            return
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
            except (
                OSError,
                asyncpg.PostgresError,
                asyncpg.InterfaceError,
                asyncpg.InternalClientError,
            ) as exc:
                # InternalClientError: the server's goodbye arrived before its hang-up
                log.info("listening for %s interrupted: %s", channel, exc)
            finally:
                conn.terminate()

    @asynccontextmanager
    async def _writing(self) -> AsyncIterator[AsyncConnection]:
        """A write transaction. SQLite writes one at a time anyway, so they share one connection,
        kept across transactions (and replaced when a failure leaves it unusable)."""
        if self.is_postgres:
            async with self.engine.begin() as conn:
                yield conn
            return
        async with self._writer:
            conn = self._write_conn
            if conn is None:
                conn = self._write_conn = await self.engine.connect()
            try:
                async with conn.begin():
                    yield conn
                self._committed()
            finally:
                if conn.invalidated or conn.in_transaction() or not _inline(conn).usable:
                    self._write_conn = None
                    with suppress(Exception):
                        await conn.invalidate()

    def _committed(self) -> None:
        """Copy the write-ahead log into the database file every so many commits, in a thread (it
        waits for the disk; a commit in WAL mode with ``synchronous=NORMAL`` never does)."""
        self._commits += 1
        if self._commits >= CHECKPOINT_EVERY and (self._checkpoint is None or self._checkpoint.done()):
            self._commits = 0
            self._checkpoint = asyncio.ensure_future(asyncio.to_thread(checkpoint, self.url.database))


async def _wait(event: asyncio.Event, seconds: float) -> None:
    with suppress(TimeoutError):
        await asyncio.wait_for(event.wait(), seconds)


def _inline(conn: AsyncConnection) -> InlineSQLite:
    fairy = conn.sync_connection.connection if conn.sync_connection is not None else None
    assert fairy is not None
    return fairy.driver_connection  # type: ignore[no-any-return]


async def driver_call(conn: AsyncConnection, call: Callable[[Any], Awaitable[T]], *, begin: bool = True) -> T:
    """``call(driver)`` with the driver's own connection under ``conn`` (asyncpg's, or the
    ``sqlite3`` one), inside ``conn``'s transaction (PostgreSQL, ``begin`` false: outside any): for
    the hot path's statements, which skip the toolkit. Driver errors come out as SQLAlchemy's, so
    that transactions retry them as usual."""
    fairy = conn.sync_connection.connection if conn.sync_connection is not None else None
    if fairy is None:
        raise StoreError("the connection is closed")
    if conn.dialect.name != "postgresql":
        raw = fairy.driver_connection.raw
        try:
            return await call(raw)
        except sqlite3.IntegrityError as exc:
            raise IntegrityError(None, None, exc) from exc
        except sqlite3.Error as exc:
            raise OperationalError(None, None, exc) from exc
    adapted = fairy.dbapi_connection
    if begin and adapted._transaction is None:  # SQLAlchemy's adapter begins at its first statement
        await adapted._start_transaction()
    try:
        return await call(fairy.driver_connection)
    except asyncpg.IntegrityConstraintViolationError as exc:
        raise IntegrityError(None, None, exc) from exc
    except asyncpg.PostgresError as exc:
        if not str(exc.sqlstate).startswith(("08", "57P")):
            raise OperationalError(None, None, exc) from exc
        await conn.invalidate()  # the server ended the session: never reuse the connection
        raise OperationalError(None, None, exc, connection_invalidated=True) from exc
    except (OSError, asyncpg.InterfaceError, asyncpg.InternalClientError) as exc:  # the connection is gone
        await conn.invalidate()
        raise OperationalError(None, None, exc, connection_invalidated=True) from exc


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


__all__ = ["RETRY_SECONDS", "Database", "async_url", "driver_call", "is_transient"]
