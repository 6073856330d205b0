"""Cron expressions evaluated in the wall-clock time of a time zone.

``croniter`` does the calendar arithmetic on naive wall-clock times, where it is exact. Turning
those into instants applies the DST rule of Vixie cron, which croniter does not apply by itself
(given aware datetimes it fires a fixed 02:30 twice on the day clocks fall back):

* a *fixed-time* expression (neither the minute nor the hour field starts with ``*``) fires once
  for each matching wall-clock time: a time the clocks skip fires at the first instant after the
  gap, a time the clocks repeat fires at its first occurrence;
* a *wildcard* expression (``*`` or ``*/n`` in the minute or hour field, ``@hourly``) follows the
  clock as it runs: times the clocks skip do not fire, times they repeat fire on both passes.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from croniter import CroniterBadDateError, CroniterError, croniter

from apg_workflow.runtime.scheduling import zone

ALIASES = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
_REFERENCE = datetime(2000, 1, 1)
_SECOND = timedelta(seconds=1)


@dataclass(frozen=True, slots=True)
class Cron:
    """A parsed cron expression: 5 fields, or 6 with seconds first."""

    fields: tuple[str, ...]

    @property
    def wildcard(self) -> bool:
        minute, hour = self.fields[-5], self.fields[-4]
        return minute.startswith("*") or hour.startswith("*")

    def walls(self, start: datetime, *, forward: bool) -> Iterator[datetime]:
        """Matching naive wall-clock times strictly after (or before) the naive ``start``."""
        cursor = croniter(
            " ".join(self.fields), start, ret_type=datetime, second_at_beginning=len(self.fields) == 6
        )
        advance = cursor.get_next if forward else cursor.get_prev
        while True:
            try:
                yield advance()
            except CroniterBadDateError:  # no match within croniter's search window of many years
                return

    def instants(self, tz: ZoneInfo, moment: datetime, *, forward: bool) -> Iterator[datetime]:
        """UTC fire instants strictly after ``moment`` (ascending) or at or before it (descending)."""
        here = zone.offset(moment, tz)
        if forward:  # clocks falling back soon repeat wall times earlier than the current one
            shift = max(here - zone.offset(moment + zone.MAX_SHIFT, tz), timedelta(0))
            start = zone.wall_time(moment, tz) - shift - _SECOND
        else:  # clocks fell back lately: wall times later than the current one already passed
            shift = max(zone.offset(moment - zone.MAX_SHIFT, tz) - here, timedelta(0))
            start = zone.wall_time(moment, tz) + shift + _SECOND
        ordered = _ordered(self.walls(start, forward=forward), tz, self.wildcard, forward)
        if forward:
            yield from (instant for instant in ordered if instant > moment)
        else:
            yield from (instant for instant in ordered if instant <= moment)


def parse(text: str) -> Cron:
    """A cron expression or alias; ``ValueError`` with the reason when it is not one."""
    raw = " ".join(text.split())
    expanded = ALIASES.get(raw.lower(), raw)
    if expanded.startswith("@"):
        raise ValueError(f"'{raw}' is not a cron alias: use one of {', '.join(ALIASES)}")
    fields = tuple(expanded.split(" "))
    if len(fields) not in (5, 6):
        raise ValueError(
            f"'{raw}' has {len(fields)} fields: a cron expression has 5 (minute hour day month weekday) "
            "or 6 with seconds first"
        )
    cron = Cron(fields)
    try:
        next(cron.walls(_REFERENCE, forward=True))
    except (CroniterError, ValueError, KeyError) as exc:
        raise ValueError(f"'{raw}' is not a cron expression: {exc}") from None
    except StopIteration:
        raise ValueError(f"'{raw}' never matches a date") from None
    return cron


def _ordered(walls: Iterator[datetime], tz: ZoneInfo, wildcard: bool, forward: bool) -> Iterator[datetime]:
    """Wall times in order → their fire instants in order, without duplicates.

    When clocks fall back, a wildcard expression's second passes are held until the first passes
    of the repeated hour are out (going forward), or the other way round (going back).
    """
    held: list[datetime] = []
    last: datetime | None = None
    for wall in walls:
        resolved = zone.resolve(wall, tz)
        if resolved.second is not None and wildcard:
            now, later = (resolved.first, resolved.second) if forward else (resolved.second, resolved.first)
            due = [t for t in held if (t < now if forward else t > now)]
            held = [*(t for t in held if t not in due), later]
            batch = [*due, now]
        elif resolved.exists or not wildcard:
            batch, held = [*held, resolved.first], []
        else:
            batch, held = held, []
        for instant in batch:
            if instant != last:
                last = instant
                yield instant
