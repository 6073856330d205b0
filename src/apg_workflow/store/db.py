"""The database: one async SQLAlchemy engine for SQLite (WAL, one file) or PostgreSQL (asyncpg),
and transactions that retry what is safe to retry (deadlocks, serialization failures, a lost
connection, a busy SQLite file).

On SQLite every write transaction starts with ``BEGIN IMMEDIATE`` (the file's write lock, taken up
front) and one process runs one write transaction at a time; reads use a deferred ``BEGIN``.
SQLite runs inline on the event loop (:class:`InlineSQLite`, behind SQLAlchemy's aiosqlite
adapter): its statements take microseconds, far less than aiosqlite's hand-overs to its thread
and back (four per statement), and the one wait that can be long, for the write lock another
process holds, is done in a thread.
"""

from __future__ import annotations

import asyncio
import logging
import random
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from functools import partial
from typing import Any, TypeVar

import asyncpg
from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.util import await_

from apg_workflow.store.codec import dumps, loads
from apg_workflow.store.errors import StoreError

log = logging.getLogger(__name__)
T = TypeVar("T")

# SQLSTATEs worth another try: serialization failure, deadlock, and the connection-loss classes.
_RETRY_SQLSTATES = ("40001", "40P01", "08", "57P01", "57P02", "57P03")
_READ_OPTION = "apg_read_only"


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
        if not self.is_postgres:
            _configure_sqlite(self.engine)

    @property
    def dialect(self) -> str:
        return "postgresql" if self.is_postgres else "sqlite"

    async def dispose(self) -> None:
        if self._checkpoint is not None:
            await self._checkpoint
        if self._write_conn is not None:
            await self._write_conn.close()
            self._write_conn = None
        await self.engine.dispose()

    async def transaction(self, work: Callable[[AsyncConnection], Awaitable[T]], *, attempts: int = 8) -> T:
        """Run ``work(conn)`` in one write transaction and commit; retry it from the start on a
        transient failure. ``work`` must do nothing outside the database that a retry would repeat."""
        for attempt in range(1, attempts + 1):
            try:
                async with self._writing() as conn:
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

    async def read(self, work: Callable[[AsyncConnection], Awaitable[T]], *, attempts: int = 8) -> T:
        """Run ``work(conn)`` in a read transaction (no write lock on SQLite); retried like
        :meth:`transaction` on a transient failure."""
        for attempt in range(1, attempts + 1):
            try:
                async with self.reading() as conn:
                    return await work(conn)
            except DBAPIError as exc:
                if attempt == attempts or not is_transient(exc):
                    raise
                await asyncio.sleep(min(2.0, 0.01 * 2**attempt) * (0.5 + random.random()))
        raise AssertionError("unreachable")

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
                if conn.invalidated or conn.in_transaction():
                    self._write_conn = None
                    with suppress(Exception):
                        await conn.close()

    def _committed(self) -> None:
        """Copy the write-ahead log into the database file every so many commits, in a thread (it
        waits for the disk; a commit in WAL mode with ``synchronous=NORMAL`` never does)."""
        self._commits += 1
        if self._commits >= _CHECKPOINT_EVERY and (self._checkpoint is None or self._checkpoint.done()):
            self._commits = 0
            self._checkpoint = asyncio.ensure_future(asyncio.to_thread(_checkpoint, self.url.database))


async def _wait(event: asyncio.Event, seconds: float) -> None:
    with suppress(TimeoutError):
        await asyncio.wait_for(event.wait(), seconds)


async def driver_call(conn: AsyncConnection, call: Callable[[Any], Awaitable[T]]) -> T:
    """``call(driver)`` with the driver's own connection under ``conn`` (asyncpg's, or the
    ``sqlite3`` one), inside ``conn``'s transaction: for the hot path's statements, which skip the
    toolkit. Driver errors come out as SQLAlchemy's, so that transactions retry them as usual."""
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
    if adapted._transaction is None:  # SQLAlchemy's adapter begins at its first statement: begin now
        await adapted._start_transaction()
    try:
        return await call(fairy.driver_connection)
    except asyncpg.IntegrityConstraintViolationError as exc:
        raise IntegrityError(None, None, exc) from exc
    except asyncpg.PostgresError as exc:
        raise OperationalError(None, None, exc) from exc
    except (OSError, asyncpg.InterfaceError) as exc:  # the connection is gone: never reuse it
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


_LOCK_WAIT_MS = 60_000
_CHECKPOINT_EVERY = 500  # commits (a few pages each; SQLite's own default is every 1,000 pages)


class InlineCursor:
    """aiosqlite's cursor interface over a ``sqlite3`` cursor; every call completes at once."""

    __slots__ = ("_cursor",)

    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._cursor = cursor

    async def __aenter__(self) -> InlineCursor:
        return self

    async def __aexit__(self, *_: object) -> None:
        self._cursor.close()

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value

    async def execute(self, sql: str, parameters: Any = ()) -> InlineCursor:
        self._cursor.execute(sql, parameters)
        return self

    async def executemany(self, sql: str, parameters: Any) -> InlineCursor:
        self._cursor.executemany(sql, parameters)
        return self

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return self._cursor.fetchmany(self._cursor.arraysize if size is None else size)

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def close(self) -> None:
        self._cursor.close()


class InlineSQLite:
    """aiosqlite's connection interface over a ``sqlite3`` connection used on the event loop's
    thread: no driver thread, no hand-overs. ``raw`` is the ``sqlite3`` connection."""

    __slots__ = ("_connection", "raw")

    def __init__(self, raw: sqlite3.Connection) -> None:
        self.raw = raw
        self._connection: sqlite3.Connection | None = raw  # what SQLAlchemy's adapter checks

    @classmethod
    async def connect(cls, database: str) -> InlineSQLite:
        return cls(await asyncio.to_thread(_open, database))

    @property
    def isolation_level(self) -> str | None:
        return self.raw.isolation_level

    def cursor(self) -> InlineCursor:
        return InlineCursor(self.raw.cursor())

    async def commit(self) -> None:
        self.raw.commit()

    async def rollback(self) -> None:
        self.raw.rollback()

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        self.raw.create_function(*args, **kwargs)

    async def close(self) -> None:
        self.stop()

    def stop(self) -> None:
        self._connection = None
        self.raw.close()


def _open(database: str) -> sqlite3.Connection:
    """A connection in autocommit mode (we emit BEGIN ourselves), set up in a thread (switching to
    WAL may wait for another process), then without busy timeout: ``_begin`` waits for the write
    lock in a thread, and only there may another thread use the connection."""
    raw = sqlite3.connect(
        database, timeout=_LOCK_WAIT_MS / 1000, isolation_level=None, check_same_thread=False
    )
    for pragma in (
        "journal_mode=WAL",
        "synchronous=NORMAL",
        "foreign_keys=ON",
        "cache_size=-16000",
        "wal_autocheckpoint=0",  # checkpoints (the only fsyncs) run in a thread: Database._committed
    ):
        raw.execute(f"PRAGMA {pragma}")
    raw.execute("PRAGMA busy_timeout=0")
    return raw


def _checkpoint(database: str | None) -> None:
    """A passive checkpoint, on a connection of its own: it copies what no reader still needs and
    never blocks a writer. A failure is left to the next one."""
    try:
        raw = sqlite3.connect(database or ":memory:", timeout=_LOCK_WAIT_MS / 1000, isolation_level=None)
        try:
            raw.execute("PRAGMA wal_checkpoint(PASSIVE)")
        finally:
            raw.close()
    except sqlite3.Error as exc:
        log.info("checkpoint of %s failed: %s", database, exc)


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        read_only = conn.get_execution_options().get(_READ_OPTION, False)
        _begin(conn.connection.driver_connection.raw, "BEGIN" if read_only else "BEGIN IMMEDIATE")


def _begin(dbapi_connection: sqlite3.Connection, statement: str) -> None:
    """Begin at once when the file is free; else wait for it in a thread, so that the event loop
    runs on meanwhile (called inside the engine's greenlet, where ``await_`` suspends)."""
    try:
        try:
            dbapi_connection.execute(statement)
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise
            await_(asyncio.to_thread(_begin_waiting, dbapi_connection, statement))
    except sqlite3.Error as exc:  # as SQLAlchemy reports a statement's failure (retried when transient)
        raise OperationalError(statement, None, exc) from exc


def _begin_waiting(dbapi_connection: sqlite3.Connection, statement: str) -> None:
    dbapi_connection.execute(f"PRAGMA busy_timeout={_LOCK_WAIT_MS}")
    try:
        dbapi_connection.execute(statement)
    finally:
        dbapi_connection.execute("PRAGMA busy_timeout=0")


__all__ = ["Database", "InlineSQLite", "async_url", "driver_call", "is_transient"]
