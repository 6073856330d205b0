"""ISO 8601 durations as the model stores them, and the friendly forms people type ("2h", "1d 30m")."""

from __future__ import annotations

import re
from datetime import timedelta

from apg_workflow.model.errors import ModelError

_ISO = re.compile(
    r"^P(?!$)(?:(?P<years>\d+(?:[.,]\d+)?)Y)?(?:(?P<months>\d+(?:[.,]\d+)?)M)?(?:(?P<weeks>\d+(?:[.,]\d+)?)W)?"
    r"(?:(?P<days>\d+(?:[.,]\d+)?)D)?(?:T(?=\d)(?:(?P<hours>\d+(?:[.,]\d+)?)H)?"
    r"(?:(?P<minutes>\d+(?:[.,]\d+)?)M)?(?:(?P<seconds>\d+(?:[.,]\d+)?)S)?)?$",
    re.IGNORECASE,
)
_FRIENDLY_PART = re.compile(
    r"(\d+(?:\.\d+)?)\s*(ms|s|sec|secs|second|seconds|m|min|mins|minute|minutes|"
    r"h|hr|hrs|hour|hours|d|day|days|w|week|weeks)\b",
    re.IGNORECASE,
)
_UNIT_SECONDS = {
    "ms": 0.001,
    "s": 1,
    "sec": 1,
    "secs": 1,
    "second": 1,
    "seconds": 1,
    "m": 60,
    "min": 60,
    "mins": 60,
    "minute": 60,
    "minutes": 60,
    "h": 3600,
    "hr": 3600,
    "hrs": 3600,
    "hour": 3600,
    "hours": 3600,
    "d": 86400,
    "day": 86400,
    "days": 86400,
    "w": 604800,
    "week": 604800,
    "weeks": 604800,
}


class DurationError(ModelError):
    pass


def is_iso_duration(text: str) -> bool:
    return bool(_ISO.match(text.strip()))


def parse_duration(text: str) -> timedelta:
    """``PT2H``, ``P1DT30M``, ``2h``, ``1d 30m``, ``90s`` or a bare number of seconds → timedelta.

    Years and months have no fixed length; they count as 365 and 30 days here (calendars are the
    runtime's business, which resolves them against a start date).
    """
    raw = text.strip()
    match = _ISO.match(raw)
    if match:
        parts = {k: float(v.replace(",", ".")) if v else 0.0 for k, v in match.groupdict().items()}
        return timedelta(
            days=parts["years"] * 365 + parts["months"] * 30 + parts["weeks"] * 7 + parts["days"],
            hours=parts["hours"],
            minutes=parts["minutes"],
            seconds=parts["seconds"],
        )
    if re.fullmatch(r"\d+(?:\.\d+)?", raw):
        return timedelta(seconds=float(raw))
    pos, total = 0, 0.0
    compact = raw.replace(",", " ")
    for part in _FRIENDLY_PART.finditer(compact):
        if compact[pos : part.start()].strip():
            break
        total += float(part.group(1)) * _UNIT_SECONDS[part.group(2).lower()]
        pos = part.end()
    else:
        if pos and not compact[pos:].strip():
            return timedelta(seconds=total)
    raise DurationError(
        f"'{text}' is not a duration: write ISO 8601 like 'PT2H' or 'P1DT30M', or '2h', '1d 30m'"
    )


def format_duration(delta: timedelta) -> str:
    """timedelta → canonical ISO 8601 (``PT2H``, ``P1DT30M``, ``PT0.5S``)."""
    total = delta.total_seconds()
    if total < 0:
        raise DurationError("durations cannot be negative")
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    out = "P" + (f"{int(days)}D" if days else "")
    time = ""
    if hours:
        time += f"{int(hours)}H"
    if minutes:
        time += f"{int(minutes)}M"
    if seconds:
        sec = round(seconds, 3)
        time += (f"{int(sec)}" if sec == int(sec) else f"{sec:g}") + "S"
    if time:
        out += "T" + time
    return out if out != "P" else "PT0S"


def normalize_duration(text: str) -> str:
    """Any accepted spelling → canonical ISO 8601. ISO input with years or months is kept as written."""
    raw = text.strip()
    if _ISO.match(raw) and _has_calendar_units(raw):
        return raw.upper()
    return format_duration(parse_duration(raw))


def friendly_duration(iso: str) -> str:
    """Canonical ISO → the short form the DSL writes (``2h``, ``1d 30m``); falls back to the ISO text."""
    try:
        seconds = parse_duration(iso).total_seconds()
    except DurationError:
        return iso
    if _has_calendar_units(iso):
        return iso
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            count, seconds = divmod(seconds, size)
            parts.append(f"{int(count)}{unit}")
    if seconds:
        parts.append(f"{seconds:g}s")
    return " ".join(parts) or "0s"


def _has_calendar_units(iso: str) -> bool:
    """True when an ISO duration names years or months, which have no fixed length."""
    date_part = iso.strip().upper().split("T")[0]
    return date_part.startswith("P") and bool(re.search(r"[YM]", date_part))
