"""data.date: parsing, formatting and shifting in time zones, across DST changes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.unit.components.test_data_catalogue import fails, refused, run


def date(config: dict[str, object], value: object = None, now: datetime | None = None) -> dict[str, object]:
    inputs = {} if value is None else {"value": value}
    return run("data.date", config, inputs, now=now) if now else run("data.date", config, inputs)


@pytest.mark.parametrize(
    ("value", "config", "iso"),
    [
        ("2024-05-03T09:30:00Z", {}, "2024-05-03T09:30:00+00:00"),
        ("2024-05-03T11:30:00+02:00", {}, "2024-05-03T09:30:00+00:00"),
        ("2024-05-03", {"timezone": "Asia/Tokyo"}, "2024-05-03T00:00:00+09:00"),
        ("2024-05-03 09:30", {"input_timezone": "America/New_York"}, "2024-05-03T13:30:00+00:00"),
        (
            "03.05.2024 09:30",
            {"input_format": "%d.%m.%Y %H:%M", "timezone": "Europe/Berlin"},
            "2024-05-03T09:30:00+02:00",
        ),
        (1714728600, {}, "2024-05-03T09:30:00+00:00"),
        (1714728600500, {"epoch_unit": "milliseconds"}, "2024-05-03T09:30:00.500000+00:00"),
    ],
)
def test_parse_reads_iso_patterns_and_timestamps(value: object, config: dict[str, object], iso: str) -> None:
    result = date({"operation": "parse", **config}, value)
    assert result["iso"] == iso and result["result"] == iso


@pytest.mark.parametrize(
    ("output_format", "expected"),
    [
        ("date", "2024-05-03"),
        ("epoch", 1714728600),
        ("epoch_ms", 1714728600000),
        ("%A %d %B %Y, %H:%M %Z", "Friday 03 May 2024, 11:30 CEST"),
    ],
)
def test_format_writes_the_time_in_the_zone_asked(output_format: str, expected: object) -> None:
    config = {"operation": "format", "timezone": "Europe/Paris", "output_format": output_format}
    assert date(config, "2024-05-03T09:30:00Z")["result"] == expected


def test_now_reads_the_context_clock() -> None:
    config = {"operation": "now", "timezone": "Europe/Oslo", "shift": {"days": -1}}
    result = date(config, now=datetime(2024, 5, 3, 9, 30, tzinfo=UTC))
    assert result == {
        "result": "2024-05-02T11:30:00+02:00",
        "iso": "2024-05-02T11:30:00+02:00",
        "timestamp": 1714642200,
    }


SPRING = "2024-03-30T09:00:00+01:00"  # Berlin: clocks go 02:00 -> 03:00 on 31 March
AUTUMN = "2024-11-02T09:00:00-04:00"  # New York: clocks go 02:00 -> 01:00 on 3 November


@pytest.mark.parametrize(
    ("start", "zone", "shift", "expected"),
    [
        (SPRING, "Europe/Berlin", {"days": 1}, "2024-03-31T09:00:00+02:00"),
        (SPRING, "Europe/Berlin", {"hours": 24}, "2024-03-31T10:00:00+02:00"),
        (SPRING, "Europe/Berlin", {"weeks": 1, "hours": -1}, "2024-04-06T08:00:00+02:00"),
        (AUTUMN, "America/New_York", {"days": 1}, "2024-11-03T09:00:00-05:00"),
        (AUTUMN, "America/New_York", {"hours": 24}, "2024-11-03T08:00:00-05:00"),
        (AUTUMN, "UTC", {"days": 1}, "2024-11-03T13:00:00+00:00"),
    ],
)
def test_calendar_units_keep_the_wall_clock_and_elapsed_units_do_not(
    start: str, zone: str, shift: dict[str, int], expected: str
) -> None:
    assert date({"operation": "shift", "timezone": zone, "shift": shift}, start)["iso"] == expected


@pytest.mark.parametrize(
    ("start", "shift", "expected"),
    [
        ("2024-01-31T12:00:00+00:00", {"months": 1}, "2024-02-29T12:00:00+00:00"),
        ("2023-01-31T12:00:00+00:00", {"months": 1}, "2023-02-28T12:00:00+00:00"),
        ("2024-02-29T12:00:00+00:00", {"years": 1}, "2025-02-28T12:00:00+00:00"),
        ("2024-03-31T12:00:00+00:00", {"months": -13}, "2023-02-28T12:00:00+00:00"),
        ("2024-12-15T12:00:00+00:00", {"months": 1, "days": 20}, "2025-02-04T12:00:00+00:00"),
    ],
)
def test_months_and_years_clamp_to_the_end_of_the_month(
    start: str, shift: dict[str, int], expected: str
) -> None:
    assert date({"operation": "shift", "shift": shift}, start)["iso"] == expected


def test_a_local_time_skipped_by_dst_moves_forward_and_a_repeated_one_is_the_first() -> None:
    skipped = date({"operation": "parse", "timezone": "Europe/Berlin"}, "2024-03-31T02:30:00")
    assert skipped["iso"] == "2024-03-31T03:30:00+02:00"
    repeated = date({"operation": "parse", "timezone": "America/New_York"}, "2024-11-03T01:30:00")
    assert repeated["iso"] == "2024-11-03T01:30:00-04:00"
    landing = date(
        {"operation": "shift", "timezone": "Europe/Berlin", "shift": {"days": 1}}, "2024-03-30T02:30:00"
    )
    assert landing["iso"] == "2024-03-31T03:30:00+02:00"


def test_bad_values_and_zones_are_reported() -> None:
    message = fails("data.date", {"operation": "parse"}, {"value": "03/05/2024"}, "invalid-input")
    assert message.startswith("data.date: the input 'value' '03/05/2024' is not a ISO 8601 date/time")
    assert "is not a '%d.%m.%Y'" in fails(
        "data.date",
        {"operation": "parse", "input_format": "%d.%m.%Y"},
        {"value": "2024-05-03"},
        "invalid-input",
    )
    assert "not a boolean" in fails("data.date", {"operation": "parse"}, {"value": True}, "invalid-input")
    assert "the input 'value' is missing" in fails("data.date", {"operation": "format"}, {}, "invalid-input")
    assert "cannot be shifted" in fails(
        "data.date",
        {"operation": "shift", "shift": {"years": 9000}},
        {"value": "2024-01-01"},
        "invalid-input",
    )
    assert "unknown time zone '../etc/passwd'" in refused(
        "data.date", {"operation": "now", "timezone": "../etc/passwd"}
    )
