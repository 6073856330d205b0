"""Checks for the time values a definition holds: ISO 8601 durations, date-times, repeating
intervals (``R3/PT10M``) and cron expressions. Each returns what is wrong, or ``None``."""

from __future__ import annotations

import re
from datetime import datetime

from apg_workflow.model.durations import DurationError, is_iso_duration, normalize_duration
from apg_workflow.model.events import TimerKind

DYNAMIC_MARKERS = ("${", "#{", "=")
_CRON_MACROS = frozenset({"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"})
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
# (name, lowest, highest, names for values): the fields of a 5-field cron, and the extra ones.
_SECOND = ("second", 0, 59, ())
_FIVE_FIELDS = (
    ("minute", 0, 59, ()),
    ("hour", 0, 23, ()),
    ("day of month", 1, 31, ()),
    ("month", 1, 12, _MONTHS),
    ("day of week", 0, 7, _DAYS),
)
_YEAR = ("year", 1970, 2099, ())
_CRON_ITEM = re.compile(r"^(?:\*|\?|(?P<low>\w+)(?:-(?P<high>\w+))?)(?:/(?P<step>\d+))?$")
_CRON_SPECIAL = re.compile(r"^(?:L|LW|L-\d+|\d+W|\d*L|\w+#[1-5])$", re.IGNORECASE)


def is_dynamic(text: str) -> bool:
    """``${…}``, ``#{…}`` and ``=…`` are computed when the process runs, not checked here."""
    return text.strip().startswith(DYNAMIC_MARKERS)


def duration_problem(text: str) -> str | None:
    raw = text.strip()
    if is_iso_duration(raw):
        return None
    try:
        suggestion = normalize_duration(raw)
    except DurationError:
        return f"'{text}' is not an ISO 8601 duration such as 'PT10M' or 'P1DT12H'"
    return f"'{text}' is not an ISO 8601 duration: write '{suggestion}'"


def date_problem(text: str) -> str | None:
    try:
        datetime.fromisoformat(text.strip())
    except ValueError:
        return f"'{text}' is not an ISO 8601 date-time such as '2025-03-01T09:00:00Z'"
    return None


def cycle_problem(text: str) -> str | None:
    raw = text.strip()
    if raw.upper().startswith("R"):
        return _interval_problem(raw)
    return _cron_problem(raw)


def timer_problem(kind: TimerKind, text: str) -> str | None:
    """What is wrong with a timer's value (dynamic values are left to the expression checks)."""
    if not text.strip():
        return f"the timer has no {kind.value}"
    if is_dynamic(text):
        return None
    checks = {
        TimerKind.DURATION: duration_problem,
        TimerKind.DATE: date_problem,
        TimerKind.CYCLE: cycle_problem,
    }
    return checks[kind](text)


def _interval_problem(raw: str) -> str | None:
    """``R3/PT10M``, ``R/PT1H``, ``R5/2025-03-01T09:00:00Z/P1D``, ``R2/P1D/2025-12-31T00:00:00``."""
    parts = raw.split("/")
    if not re.fullmatch(r"[Rr]\d*", parts[0]) or not 2 <= len(parts) <= 3:
        return f"'{raw}' is not a repeating interval such as 'R3/PT10M' or 'R/P1D'"
    durations = [part for part in parts[1:] if is_iso_duration(part)]
    dates = [part for part in parts[1:] if part not in durations and date_problem(part) is None]
    if len(durations) + len(dates) != len(parts) - 1 or not durations:
        return (
            f"'{raw}' is not a repeating interval: after 'R…/' write a duration, with an optional "
            "start or end date"
        )
    return None


def _cron_problem(raw: str) -> str | None:
    if raw.lower() in _CRON_MACROS:
        return None
    fields = raw.split()
    layouts = {5: _FIVE_FIELDS, 6: (_SECOND, *_FIVE_FIELDS), 7: (_SECOND, *_FIVE_FIELDS, _YEAR)}
    layout = layouts.get(len(fields))
    if layout is None:
        return (
            f"'{raw}' is neither a repeating interval such as 'R3/PT10M' nor a cron expression "
            "with 5 or 6 fields such as '0 9 * * MON-FRI'"
        )
    for value, (name, low, high, names) in zip(fields, layout, strict=True):
        for item in value.split(","):
            problem = _cron_item_problem(item, name, low, high, names)
            if problem:
                return f"'{raw}' is not a valid cron expression: {problem}"
    return None


def _cron_item_problem(item: str, name: str, low: int, high: int, names: tuple[str, ...]) -> str | None:
    if name in ("day of month", "day of week") and _CRON_SPECIAL.match(item):
        return None
    match = _CRON_ITEM.match(item)
    if match is None:
        return f"the {name} field '{item}' cannot be read"
    for bound in (match.group("low"), match.group("high")):
        if bound is None:
            continue
        number = _cron_number(bound, names)
        if number is None or not low <= number <= high:
            return f"the {name} '{bound}' is not between {low} and {high}"
    step = match.group("step")
    if step is not None and int(step) == 0:
        return f"the {name} step cannot be 0"
    return None


def _cron_number(value: str, names: tuple[str, ...]) -> int | None:
    if value.isdigit():
        return int(value)
    upper = value.upper()
    if upper in names:
        return names.index(upper) + (1 if names is _MONTHS else 0)
    return None
