"""What a schedule is: when it fires, in which time zone, between which dates, and what happens to
fires missed while no scheduler ran. Frozen, validated on construction, JSON-ready for the store."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from apg_workflow.model.durations import DurationError, format_duration, is_iso_duration, parse_duration
from apg_workflow.runtime.scheduling import zone
from apg_workflow.runtime.scheduling.cron import Cron
from apg_workflow.runtime.scheduling.cron import parse as parse_cron

DEFAULT_GRACE = timedelta(seconds=60)
DEFAULT_MAX_CATCH_UP = 10
MAX_CATCH_UP_LIMIT = 1000
_MIN_INTERVAL = timedelta(seconds=1)
_Enum = TypeVar("_Enum", bound=StrEnum)


class ScheduleError(ValueError):
    """A schedule that cannot be used, naming the field at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.reason = message


class ScheduleKind(StrEnum):
    CRON = "cron"
    INTERVAL = "interval"
    ONCE = "once"


class MisfirePolicy(StrEnum):
    SKIP = "skip"
    """Fire only a fire that is at most ``misfire_grace`` late; drop every other missed fire."""
    FIRE_ONCE = "fire_once"
    """Fire once, at the latest missed time, however many were missed."""
    CATCH_UP = "catch_up"
    """Fire every missed fire, oldest first, at most the ``max_catch_up`` most recent ones."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ScheduleSpec:
    """When a schedule fires. Naive ``start_at`` / ``end_at`` are wall-clock times in ``timezone``."""

    kind: ScheduleKind
    expression: str
    timezone: str = "UTC"
    start_at: datetime | None = None
    end_at: datetime | None = None
    paused: bool = False
    misfire: MisfirePolicy = MisfirePolicy.FIRE_ONCE
    max_catch_up: int | None = None
    """The cap of the ``catch_up`` policy; ``None`` means ``DEFAULT_MAX_CATCH_UP``."""
    misfire_grace: timedelta = DEFAULT_GRACE

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "kind", _choice("kind", self.kind, ScheduleKind))
        set_(self, "misfire", _choice("misfire", self.misfire, MisfirePolicy))
        if not isinstance(self.timezone, str):
            raise ScheduleError("timezone", "must be an IANA time zone name such as 'Europe/Berlin'")
        try:
            tz = zone.zone(self.timezone)
        except ValueError as exc:
            raise ScheduleError("timezone", str(exc)) from None
        if not isinstance(self.expression, str) or not self.expression.strip():
            raise ScheduleError("expression", f"a {self.kind.value} schedule needs an expression")
        set_(self, "expression", " ".join(self.expression.split()))
        self._check_expression()
        for bound in ("start_at", "end_at"):
            value = getattr(self, bound)
            set_(self, bound, None if value is None else _instant(bound, value, tz))
        if self.start_at and self.end_at and self.end_at < self.start_at:
            raise ScheduleError("end_at", f"{self.end_at.isoformat()} is before start_at")
        if self.kind is ScheduleKind.ONCE:
            self._check_once_in_bounds()
        if not isinstance(self.paused, bool):
            raise ScheduleError("paused", "must be true or false")
        if self.max_catch_up is not None:
            if self.misfire is not MisfirePolicy.CATCH_UP:
                raise ScheduleError("max_catch_up", "only the 'catch_up' misfire policy takes a cap")
            _check_count("max_catch_up", self.max_catch_up)
        if not isinstance(self.misfire_grace, timedelta) or self.misfire_grace < timedelta(0):
            raise ScheduleError("misfire_grace", "must be a duration of zero or more")

    @property
    def catch_up_cap(self) -> int:
        """How many missed fires the ``catch_up`` policy starts at most."""
        return DEFAULT_MAX_CATCH_UP if self.max_catch_up is None else self.max_catch_up

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def cron(self) -> Cron:
        """The parsed expression of a cron schedule."""
        return parse_cron(self.expression)

    @property
    def every(self) -> timedelta:
        """The period of an interval schedule."""
        return parse_duration(self.expression)

    @property
    def at(self) -> datetime:
        """The instant of a one-off schedule, in UTC."""
        return _instant("expression", datetime.fromisoformat(self.expression), self.zone)

    def pause(self) -> ScheduleSpec:
        return replace(self, paused=True)

    def resume(self) -> ScheduleSpec:
        """Running again. The caller records the resume time as the last fire, so the fires missed
        while paused are not owed."""
        return replace(self, paused=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready; ``from_dict`` reads it back to an equal spec."""
        data: dict[str, Any] = {
            "kind": self.kind.value,
            "expression": self.expression,
            "timezone": self.timezone,
            "start_at": self.start_at.isoformat() if self.start_at else None,
            "end_at": self.end_at.isoformat() if self.end_at else None,
            "paused": self.paused,
            "misfire": self.misfire.value,
            "misfire_grace": format_duration(self.misfire_grace),
        }
        if self.max_catch_up is not None:
            data["max_catch_up"] = self.max_catch_up
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ScheduleSpec:
        """A spec from JSON data (as written by ``to_dict`` or typed by a person)."""
        if not isinstance(data, Mapping):
            raise ScheduleError("schedule", f"must be an object, not {type(data).__name__}")
        unknown = sorted(set(data) - set(cls.__dataclass_fields__))
        if unknown:
            raise ScheduleError(unknown[0], f"unknown field; known fields are {', '.join(_FIELDS)}")
        for required in ("kind", "expression"):
            if data.get(required) is None:
                raise ScheduleError(required, "is required")
        values = {key: value for key, value in data.items() if value is not None}
        for key in ("start_at", "end_at"):
            if isinstance(values.get(key), str):
                values[key] = _parse_datetime(key, values[key])
        grace = values.get("misfire_grace")
        if isinstance(grace, str | int | float) and not isinstance(grace, bool):  # numbers are seconds
            values["misfire_grace"] = _parse_duration("misfire_grace", str(grace))
        return cls(**values)

    def _check_expression(self) -> None:
        text = self.expression
        if self.kind is ScheduleKind.CRON:
            try:
                parse_cron(text)
            except ValueError as exc:
                raise ScheduleError("expression", str(exc)) from None
        elif self.kind is ScheduleKind.INTERVAL:
            if is_iso_duration(text) and any(unit in text.upper().split("T")[0] for unit in "YM"):
                raise ScheduleError(
                    "expression", f"'{text}' counts years or months, which have no fixed length: use a cron"
                )
            if _parse_duration("expression", text) < _MIN_INTERVAL:
                raise ScheduleError("expression", f"'{text}' is shorter than the shortest interval, 1 second")
        else:
            _parse_datetime("expression", text)

    def _check_once_in_bounds(self) -> None:
        at = self.at.isoformat()
        if self.start_at and self.at < self.start_at:
            raise ScheduleError("start_at", f"is after the one-off time {at}: it would never fire")
        if self.end_at and self.at > self.end_at:
            raise ScheduleError("end_at", f"is before the one-off time {at}: it would never fire")


_FIELDS = tuple(ScheduleSpec.__dataclass_fields__)


def _choice(field: str, value: object, enum: type[_Enum]) -> _Enum:
    if isinstance(value, str) and value in enum._value2member_map_:
        return enum(value)
    allowed = ", ".join(repr(member.value) for member in enum)
    raise ScheduleError(field, f"{value!r} is not one of {allowed}")


def _instant(field: str, value: object, tz: ZoneInfo) -> datetime:
    """An aware datetime in UTC; a naive one is a wall-clock time in ``tz``."""
    if not isinstance(value, datetime):
        raise ScheduleError(field, f"must be an ISO 8601 date-time, not {type(value).__name__}")
    if value.tzinfo is None:
        return zone.localize(value, tz)
    return value.astimezone(UTC)


def _parse_datetime(field: str, text: str) -> datetime:
    try:
        return datetime.fromisoformat(text.strip())
    except ValueError:
        raise ScheduleError(field, f"'{text}' is not an ISO 8601 date-time like '2025-06-01T09:00'") from None


def _parse_duration(field: str, text: str) -> timedelta:
    try:
        return parse_duration(text)
    except DurationError as exc:
        raise ScheduleError(field, str(exc)) from None


def _check_count(field: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_CATCH_UP_LIMIT:
        raise ScheduleError(field, f"must be a whole number from 1 to {MAX_CATCH_UP_LIMIT}, not {value!r}")
