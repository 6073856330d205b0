"""Dates and times: parse, format, shift, now, in any IANA time zone, correct across DST changes."""

from __future__ import annotations

import calendar
import datetime as _dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, Field, model_validator

from apg_workflow.components.base import ComponentConfig, ComponentContext
from apg_workflow.components.builtins.data._base import DataComponent, invalid_config, kind, prop, shape


def _zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise invalid_config(
            f"unknown time zone '{name}' (use an IANA name such as 'Europe/Paris' or 'UTC')"
        ) from None
    return name


TimeZone = Annotated[str, Field(min_length=1, max_length=100), AfterValidator(_zone)]


class Shift(ComponentConfig):
    years: int = Field(0, ge=-10_000, le=10_000, description="Calendar years (Feb 29 + 1 year is Feb 28).")
    months: int = Field(
        0, ge=-120_000, le=120_000, description="Calendar months (Jan 31 + 1 month is the last of Feb)."
    )
    weeks: int = Field(0, ge=-520_000, le=520_000, description="Calendar weeks: 7 days each.")
    days: int = Field(
        0, ge=-3_650_000, le=3_650_000, description="Calendar days: same wall-clock time, even across DST."
    )
    hours: float = Field(0, ge=-1e8, le=1e8, description="Elapsed hours (a DST change moves the wall clock).")
    minutes: float = Field(0, ge=-1e10, le=1e10, description="Elapsed minutes.")
    seconds: float = Field(0, ge=-1e12, le=1e12, description="Elapsed seconds.")

    def is_zero(self) -> bool:
        return not any(getattr(self, name) for name in type(self).model_fields)


class DateConfig(ComponentConfig):
    operation: Literal["parse", "format", "shift", "now"] = Field(
        description="`parse` / `format`: read the input `value` and write it as `output_format`; `shift`: "
        "also move it by `shift`; `now`: start from the current time (no input)."
    )
    input_format: str | None = Field(
        None,
        max_length=200,
        description="How the input text is written, as a strftime pattern (`%d/%m/%Y %H:%M`). Default: "
        "ISO 8601 text (`2024-05-03T09:30:00+02:00`, `2024-05-03`); numbers are Unix timestamps.",
    )
    epoch_unit: Literal["seconds", "milliseconds"] = Field(
        "seconds", description="The unit of numeric input timestamps."
    )
    input_timezone: TimeZone | None = Field(
        None, description="The zone of input times that carry no offset (default: `timezone`)."
    )
    timezone: TimeZone = Field(
        "UTC", description="The zone of the result, and the one whose calendar `shift` counts days in."
    )
    shift: Shift = Field(default_factory=Shift, description="How far to move the time (negative: back).")
    output_format: str = Field(
        "iso",
        min_length=1,
        max_length=200,
        description="`iso` (ISO 8601 with offset), `date` (`2024-05-03`), `epoch` (Unix seconds), "
        "`epoch_ms`, or a strftime pattern such as `%d %B %Y, %H:%M`.",
    )

    @model_validator(mode="after")
    def _consistent(self) -> DateConfig:
        if self.operation == "shift" and self.shift.is_zero():
            raise invalid_config("the 'shift' operation needs a non-zero 'shift'")
        if self.operation == "now" and self.input_format is not None:
            raise invalid_config("the 'now' operation reads no input, so 'input_format' does not apply")
        return self


class Date(DataComponent[DateConfig]):
    type = "data.date"
    title = "Date and time"
    description = (
        "Parses, formats and shifts dates and times in IANA time zones, or gives the current time. "
        "Days, weeks, months and years shift the calendar (the wall-clock time stays, across DST "
        "changes); hours, minutes and seconds are elapsed time. A local time that a DST change skips "
        "moves forward by the gap; a repeated one means its first occurrence."
    )
    Config = DateConfig
    inputs = shape(value=prop("the date/time (not for `now`)", ["string", "number"]))
    outputs = shape(
        result=prop("the time, as `output_format` says", ["string", "number"]),
        iso=prop("the time in ISO 8601, with its offset", "string"),
        timestamp=prop("the time as Unix seconds", "number"),
    )
    examples = (
        {
            "config": {"operation": "shift", "timezone": "Europe/Berlin", "shift": {"days": 1}},
            "inputs": {"value": "2024-03-30T09:00:00+01:00"},
            "outputs": {
                "result": "2024-03-31T09:00:00+02:00",
                "iso": "2024-03-31T09:00:00+02:00",
                "timestamp": 1711868400,
            },
        },
        {
            "config": {
                "operation": "format",
                "input_format": "%d/%m/%Y %H:%M",
                "input_timezone": "Europe/London",
                "timezone": "America/New_York",
                "output_format": "%Y-%m-%d %H:%M %Z",
            },
            "inputs": {"value": "03/05/2024 14:30"},
            "outputs": {
                "result": "2024-05-03 09:30 EDT",
                "iso": "2024-05-03T09:30:00-04:00",
                "timestamp": 1714743000,
            },
        },
    )

    async def run(
        self, context: ComponentContext, config: DateConfig, inputs: Mapping[str, Any]
    ) -> Mapping[str, Any]:
        zone = ZoneInfo(config.timezone)
        if config.operation == "now":
            moment = context.now()
            moment = moment if moment.tzinfo is not None else moment.replace(tzinfo=_dt.UTC)
        else:
            moment = self._read(self.value(inputs, "value"), config)
        try:
            moment = _shift(moment.astimezone(zone), config.shift, zone)
            result = _format(moment, config.output_format)
        except (OverflowError, ValueError) as exc:
            raise self.invalid(f"the time cannot be shifted or written as asked: {exc}") from None
        return {"result": result, "iso": moment.isoformat(), "timestamp": _number(moment.timestamp())}

    def _read(self, value: Any, config: DateConfig) -> _dt.datetime:
        zone = ZoneInfo(config.input_timezone or config.timezone)
        try:
            if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
                seconds = float(value) / (1000 if config.epoch_unit == "milliseconds" else 1)
                return _dt.datetime.fromtimestamp(seconds, _dt.UTC)
            if isinstance(value, _dt.datetime):
                parsed = value
            elif isinstance(value, _dt.date):
                parsed = _dt.datetime.combine(value, _dt.time())
            elif isinstance(value, str):
                text = value.strip()
                parsed = (
                    _dt.datetime.strptime(text, config.input_format)
                    if config.input_format
                    else _dt.datetime.fromisoformat(text)
                )
            else:
                raise self.invalid(
                    f"the input 'value' must be a date/time text or a timestamp, not {kind(value)}"
                )
        except (ValueError, OverflowError, OSError) as exc:
            expected = f"'{config.input_format}'" if config.input_format else "ISO 8601"
            raise self.invalid(f"the input 'value' {value!r} is not a {expected} date/time: {exc}") from None
        return parsed if parsed.tzinfo is not None else _localize(parsed, zone)


def _localize(wall: _dt.datetime, zone: ZoneInfo) -> _dt.datetime:
    """``wall`` (a naive local time) in ``zone``: a time skipped by a DST change moves forward by
    the gap, a repeated one is its first occurrence (RFC 5545's and Temporal's "compatible")."""
    aware = wall.replace(tzinfo=zone, fold=0)
    return aware.astimezone(_dt.UTC).astimezone(zone)


def _shift(moment: _dt.datetime, shift: Shift, zone: ZoneInfo) -> _dt.datetime:
    if shift.is_zero():
        return moment
    wall = moment.replace(tzinfo=None)
    months = wall.month - 1 + shift.months + 12 * shift.years
    year, month = wall.year + months // 12, months % 12 + 1
    day = min(wall.day, calendar.monthrange(year, month)[1])  # ValueError beyond year 9999
    wall = wall.replace(year=year, month=month, day=day) + _dt.timedelta(weeks=shift.weeks, days=shift.days)
    moment = _localize(wall, zone) if wall != moment.replace(tzinfo=None) else moment
    elapsed = _dt.timedelta(hours=shift.hours, minutes=shift.minutes, seconds=shift.seconds)
    return (moment.astimezone(_dt.UTC) + elapsed).astimezone(zone)


def _format(moment: _dt.datetime, output_format: str) -> str | int | float:
    if output_format == "iso":
        return moment.isoformat()
    if output_format == "date":
        return moment.date().isoformat()
    if output_format == "epoch":
        return _number(moment.timestamp())
    if output_format == "epoch_ms":
        return round(moment.timestamp() * 1000)
    return moment.strftime(output_format)


def _number(value: float) -> int | float:
    return int(value) if value.is_integer() else value
