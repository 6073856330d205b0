"""Dates and times as ISO text on asyncpg, the default PostgreSQL driver of the SQL components.

Workflow variables are JSON, so a date reaches a statement as text (``"2025-03-01"``). asyncpg binds
a ``date``, ``time`` or ``timestamp`` parameter only from a Python ``date`` / ``time`` / ``datetime``
and refuses text, where other drivers let PostgreSQL parse it. These codecs make asyncpg send such
parameters as text for PostgreSQL to parse (Python values are written in ISO form), and read the
columns back as the Python values asyncpg gives by default (``timestamptz`` in UTC). A value Python
cannot represent (``infinity``, a date BC) is read as PostgreSQL's text.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine


def _write(value: Any) -> str:
    return value.isoformat() if isinstance(value, date | time) else str(value)


def _timestamptz(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


_READERS: dict[str, Callable[[str], Any]] = {
    "date": date.fromisoformat,
    "time": time.fromisoformat,
    "timetz": time.fromisoformat,
    "timestamp": datetime.fromisoformat,
    "timestamptz": _timestamptz,
}


def _reader(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    def read(text: str) -> Any:
        try:
            return parse(text)
        except ValueError:
            return text

    return read


async def _register(connection: Any) -> None:
    for name, parse in _READERS.items():
        await connection.set_type_codec(
            name, schema="pg_catalog", encoder=_write, decoder=_reader(parse), format="text"
        )


def _on_connect(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.run_async(_register)


def accept_iso_text(engine: AsyncEngine) -> AsyncEngine:
    """``engine``, whose asyncpg connections take dates and times as ISO text (other drivers: as is)."""
    if engine.dialect.driver == "asyncpg":
        event.listen(engine.sync_engine, "connect", _on_connect)
    return engine


__all__ = ["accept_iso_text"]
