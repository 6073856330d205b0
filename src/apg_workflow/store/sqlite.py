"""SQLite inline on the event loop: the standard ``sqlite3`` driver behind SQLAlchemy's aiosqlite
adapter, with aiosqlite's interface (:class:`InlineSQLite`) but no driver thread. A statement is
a call, not four hand-overs to a thread and back; the one wait that can be long, for the write lock
another process holds, happens in a thread (:func:`configure`), and so do checkpoints, the only
writes that wait for the disk (a commit in WAL mode with ``synchronous=NORMAL`` never does).
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from typing import Any

from sqlalchemy import event
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.util import await_

log = logging.getLogger(__name__)

_LOCK_WAIT_MS = 60_000
CHECKPOINT_EVERY = 500  # commits (a few pages each; SQLite's own default is every 1,000 pages)


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

    __slots__ = ("_connection", "_waiting", "raw")

    def __init__(self, raw: sqlite3.Connection) -> None:
        self.raw = raw
        self._connection: sqlite3.Connection | None = raw  # what SQLAlchemy's adapter checks
        self._waiting: asyncio.Future[None] | None = None  # a BEGIN waiting for the lock in a thread

    @property
    def usable(self) -> bool:
        """False while a thread still waits for the write lock on this connection: a transaction
        cancelled meanwhile must not hand it on (the thread's BEGIN may yet succeed)."""
        return self._waiting is None or self._waiting.done()

    def begin(self, statement: str) -> None:
        """Begin at once when the file is free; else wait for it in a thread, so that the event loop
        runs on meanwhile (called inside the engine's greenlet, where ``await_`` suspends)."""
        try:
            try:
                self.raw.execute(statement)
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc):
                    raise
                self._waiting = asyncio.ensure_future(asyncio.to_thread(_begin_waiting, self.raw, statement))
                await_(asyncio.shield(self._waiting))
        except sqlite3.Error as exc:  # as SQLAlchemy reports a statement's failure (retried when transient)
            raise OperationalError(statement, None, exc) from exc

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
        if self.usable:
            self.raw.close()
        else:  # close once the thread lets go (closing rolls back what its BEGIN started)
            assert self._waiting is not None
            self._waiting.add_done_callback(lambda _: self.raw.close())


def _open(database: str) -> sqlite3.Connection:
    """A connection in autocommit mode (we emit BEGIN ourselves), set up in a thread (switching to
    WAL may wait for another process), then without busy timeout: ``InlineSQLite.begin`` waits for the write
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


def checkpoint(database: str | None) -> None:
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


def configure(engine: AsyncEngine, read_option: str) -> None:
    """Begin every transaction ourselves: ``BEGIN IMMEDIATE`` (the write lock, up front) unless the
    connection has the execution option ``read_option``."""

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        read_only = conn.get_execution_options().get(read_option, False)
        conn.connection.driver_connection.begin("BEGIN" if read_only else "BEGIN IMMEDIATE")


def _begin_waiting(dbapi_connection: sqlite3.Connection, statement: str) -> None:
    dbapi_connection.execute(f"PRAGMA busy_timeout={_LOCK_WAIT_MS}")
    try:
        dbapi_connection.execute(statement)
    finally:
        dbapi_connection.execute("PRAGMA busy_timeout=0")


__all__ = ["CHECKPOINT_EVERY", "InlineCursor", "InlineSQLite", "checkpoint", "configure"]
