"""When timers are due: ISO 8601 durations, date-times, repeating intervals and cron expressions.

Pure functions of the value and ``now``. A cron expression has five fields, or six with the seconds
first (``0 */5 * * * ?``), as the scheduler reads them. A cycle's progress is plain data (``{"left": 2,
"every": "PT10M"}`` or ``{"cron": "0 9 * * 1-5", "left": -1}``) kept in the execution state, so a
non-interrupting cycle re-arms after each firing.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import Any

from croniter import CroniterError, croniter

from apg_workflow.model import DurationError, TimerKind, format_duration, parse_duration

_REPEAT = re.compile(r"^R(?P<count>\d*)/(?P<rest>.+)$", re.IGNORECASE)
_CRON_FIELD = re.compile(r"^[\d*/,\-?LW#A-Za-z]+$")

Cycle = dict[str, Any]


class TimerError(ValueError):
    """A timer value that is not a duration, a date-time, a cycle or a cron expression."""


def parse_datetime(text: str, now: datetime) -> datetime:
    """An ISO 8601 date or date-time; without a zone it takes ``now``'s."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise TimerError(f"'{text}' is not an ISO 8601 date-time") from None
    if value.tzinfo is None and now.tzinfo is not None:
        value = value.replace(tzinfo=now.tzinfo)
    return value


def due_at(kind: TimerKind, value: Any, now: datetime) -> tuple[datetime, Cycle | None]:
    """The first due time of a timer, and the cycle's state when it repeats."""
    if kind is TimerKind.CYCLE and isinstance(value, str):
        return _first_of_cycle(value.strip(), now)
    return resolve_due(value, now), None


def resolve_due(value: Any, now: datetime) -> datetime:
    """A due time from a duration (``PT10M``, a timedelta: from now) or a date-time."""
    if isinstance(value, timedelta):
        return now + value
    if isinstance(value, datetime):
        return value if value.tzinfo or now.tzinfo is None else value.replace(tzinfo=now.tzinfo)
    if isinstance(value, date):
        return datetime.combine(value, time(), tzinfo=now.tzinfo)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return now + timedelta(seconds=value)
    if isinstance(value, str):
        text = value.strip()
        if text.upper().startswith("P"):
            try:
                return now + parse_duration(text)
            except DurationError as exc:
                raise TimerError(str(exc)) from None
        return parse_datetime(text, now)
    raise TimerError(f"a timer needs a duration or a date-time, not {type(value).__name__} {value!r}")


def _first_of_cycle(text: str, now: datetime) -> tuple[datetime, Cycle]:
    match = _REPEAT.match(text)
    if match:
        left = int(match["count"]) if match["count"] else -1
        parts = match["rest"].split("/")
        start: datetime | None = None
        if len(parts) == 2 and not parts[0].upper().startswith("P"):
            start, every = parse_datetime(parts[0], now), parts[1]
        else:  # "PT1H" or "PT1H/<end>": the duration repeats
            every = parts[0]
        try:
            step = parse_duration(every)
        except DurationError as exc:
            raise TimerError(str(exc)) from None
        if step <= timedelta(0):
            raise TimerError(f"the cycle '{text}' does not advance")
        first = start if start is not None and start > now else now + step
        return first, {"left": left - 1 if left > 0 else left, "every": format_duration(step)}
    fields = text.split()
    if 5 <= len(fields) <= 6 and all(_CRON_FIELD.match(f) for f in fields):
        return _cron_next(text, now), {"cron": text, "left": -1}
    raise TimerError(f"'{text}' is not a timer cycle: write R3/PT10M, R/PT1H or a cron expression")


def next_due(cycle: Cycle, now: datetime) -> tuple[datetime, Cycle] | None:
    """The next firing of a cycle after one at ``now``; ``None`` when no repetition is left."""
    left = cycle["left"]
    if left == 0:
        return None
    following = {**cycle, "left": left - 1 if left > 0 else left}
    if "cron" in cycle:
        return _cron_next(cycle["cron"], now), following
    return now + parse_duration(cycle["every"]), following


def _cron_next(expression: str, now: datetime) -> datetime:
    """The next time after ``now`` matching a cron expression: five fields, or six with the seconds
    first (Quartz, Spring and Camunda write them so; the scheduler reads them the same way)."""
    seconds_first = len(expression.split()) == 6
    try:
        cursor = croniter(expression, now, second_at_beginning=seconds_first)
        return cursor.get_next(datetime)  # type: ignore[no-any-return]
    except (CroniterError, ValueError, KeyError) as exc:
        raise TimerError(f"'{expression}' is not a cron expression: {exc}") from None
