"""``now()``, ``datetime`` and ``date`` as scripts see them, reading the engine's clock.

SpiffWorkflow hands scripts either the ``datetime`` module or the ``datetime`` class, so scripts
written for it use both spellings: ``datetime.now()`` and ``datetime.datetime.now()``,
``datetime.timedelta(days=1)`` and ``timedelta(days=1)``. :class:`DateTimeType` answers both. The
clock is the ``now`` the engine passes to each evaluation (virtual time holds); the sandbox's
local time zone is UTC, so ``datetime.now()`` is the engine's time in UTC without a time zone,
as Python's ``datetime.now()`` is local time without one.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from typing import Any


def _utc(now: _dt.datetime) -> _dt.datetime:
    """``now`` as an aware UTC datetime (a naive clock is taken to be UTC already)."""
    return now.replace(tzinfo=_dt.UTC) if now.tzinfo is None else now.astimezone(_dt.UTC)


class DateType:
    """``date``: the class (call it to build a date) with ``today()`` on the engine's clock."""

    __slots__ = ("_now",)

    resolution = _dt.date.resolution
    min = _dt.date.min
    max = _dt.date.max
    fromisoformat = staticmethod(_dt.date.fromisoformat)
    fromordinal = staticmethod(_dt.date.fromordinal)
    fromisocalendar = staticmethod(_dt.date.fromisocalendar)

    def __init__(self, now: _dt.datetime) -> None:
        self._now = now

    def __call__(self, year: int, month: int, day: int) -> _dt.date:
        return _dt.date(year, month, day)

    def __repr__(self) -> str:
        return "<class 'datetime.date'>"

    def today(self) -> _dt.date:
        return _utc(self._now).date()


class DateTimeType:
    """``datetime``: the class and, through its attributes, the module of the same name."""

    __slots__ = ("_now", "date")

    resolution = _dt.datetime.resolution
    min = _dt.datetime.min
    max = _dt.datetime.max
    time = _dt.time
    timedelta = _dt.timedelta
    timezone = _dt.timezone
    UTC = _dt.UTC
    fromisoformat = staticmethod(_dt.datetime.fromisoformat)
    strptime = staticmethod(_dt.datetime.strptime)
    combine = staticmethod(_dt.datetime.combine)
    fromtimestamp = staticmethod(_dt.datetime.fromtimestamp)
    fromordinal = staticmethod(_dt.datetime.fromordinal)

    def __init__(self, now: _dt.datetime) -> None:
        self._now = now
        self.date = DateType(now)

    def __call__(self, *args: Any, **kwargs: Any) -> _dt.datetime:
        return _dt.datetime(*args, **kwargs)

    def __repr__(self) -> str:
        return "<class 'datetime.datetime'>"

    @property
    def datetime(self) -> DateTimeType:
        return self

    def now(self, tz: _dt.tzinfo | None = None) -> _dt.datetime:
        utc = _utc(self._now)
        return utc.replace(tzinfo=None) if tz is None else utc.astimezone(tz)

    def today(self) -> _dt.datetime:
        return self.now()

    def utcnow(self) -> _dt.datetime:
        return self.now()


# What `isinstance(value, datetime)` means for each stand-in.
REAL_CLASSES: dict[type, type] = {DateTimeType: _dt.datetime, DateType: _dt.date}


def clock_names(now: _dt.datetime) -> dict[str, Any]:
    """The names that read the clock, bound to ``now``."""

    def current_time() -> _dt.datetime:
        """The engine's current time, as the engine passed it."""
        return now

    clock: Callable[[], _dt.datetime] = current_time
    datetime_type = DateTimeType(now)
    return {"now": clock, "datetime": datetime_type, "date": datetime_type.date}


CLOCK_NAMES = frozenset(clock_names(_dt.datetime(2000, 1, 1)))
