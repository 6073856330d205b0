"""Wall-clock times of an IANA time zone mapped to UTC instants, with the DST rules of schedules.

A wall-clock time can exist once (most of the year), never (skipped when clocks spring forward) or
twice (repeated when clocks fall back). ``resolve`` says which, and ``localize`` applies the rule
schedules use for a fixed time: a skipped time fires at the first instant after the gap, a repeated
time fires at its first occurrence.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# The largest change of UTC offset looked for around an instant. Every transition in current use is
# one hour or less (Lord Howe: 30 minutes); historical double summer time moved clocks by two.
MAX_SHIFT = timedelta(hours=3)


class Wall(NamedTuple):
    """The instants at which a zone's clocks show one wall-clock time."""

    first: datetime
    """The first instant showing the time; for a skipped time, the instant the clocks jump."""
    second: datetime | None
    """The second instant showing the time when clocks fall back, else ``None``."""
    exists: bool
    """False when clocks skip the time."""


def zone(name: str) -> ZoneInfo:
    """The IANA zone called ``name``; ``ValueError`` when there is none."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"'{name}' is not an IANA time zone (e.g. 'UTC', 'Europe/Berlin')") from None


def resolve(wall: datetime, tz: ZoneInfo) -> Wall:
    """The instants at which clocks in ``tz`` show the naive ``wall`` time."""
    earlier = wall.replace(tzinfo=tz, fold=0).astimezone(UTC)
    later = wall.replace(tzinfo=tz, fold=1).astimezone(UTC)
    if earlier == later:
        return Wall(earlier, None, True)
    if earlier < later:  # clocks fall back: the time is shown twice
        return Wall(earlier, later, True)
    # Clocks spring forward: fold=1 reads the time with the new offset (an instant before the
    # jump), fold=0 with the old one (an instant after it); the jump lies between.
    return Wall(_jump_between(later, earlier, tz), None, False)


def localize(wall: datetime, tz: ZoneInfo) -> datetime:
    """A naive wall-clock time in ``tz`` as a UTC instant, by the rule for fixed times."""
    return resolve(wall, tz).first


def wall_time(instant: datetime, tz: ZoneInfo) -> datetime:
    """The naive wall-clock time clocks in ``tz`` show at ``instant``."""
    return instant.astimezone(tz).replace(tzinfo=None)


def offset(instant: datetime, tz: ZoneInfo) -> timedelta:
    """The UTC offset of ``tz`` at ``instant``."""
    return instant.astimezone(tz).utcoffset() or timedelta(0)


def _jump_between(before: datetime, after: datetime, tz: ZoneInfo) -> datetime:
    """The instant in ``(before, after]`` where the offset of ``tz`` changes (whole seconds)."""
    old = offset(before, tz)
    low, high = int(before.timestamp()), int(after.timestamp())
    while high - low > 1:
        middle = (low + high) // 2
        if offset(datetime.fromtimestamp(middle, UTC), tz) == old:
            low = middle
        else:
            high = middle
    return datetime.fromtimestamp(high, UTC)
