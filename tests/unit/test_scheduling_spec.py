"""Schedule specs: what is accepted, the errors that name the field at fault, and the JSON round trip."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from apg_workflow.runtime.scheduling import (
    MisfirePolicy,
    ScheduleError,
    ScheduleKind,
    ScheduleSpec,
    next_fire_times,
)
from tests.conftest import ROOT

SPECS = [
    {"kind": "cron", "expression": "30 2 * * *", "timezone": "Europe/Berlin"},
    {"kind": "cron", "expression": "0 0 9 * * MON-FRI", "misfire": "skip", "misfire_grace": "PT5M"},
    {"kind": "cron", "expression": "*/5 * * * *", "misfire": "skip", "misfire_grace": 30},
    {"kind": "cron", "expression": "@daily", "misfire": "catch_up", "max_catch_up": 3, "paused": True},
    {"kind": "interval", "expression": "90s", "start_at": "2025-01-01T00:00:00+00:00"},
    {"kind": "interval", "expression": "PT2H", "end_at": "2025-06-01T00:00", "timezone": "America/New_York"},
    {"kind": "once", "expression": "2025-03-01T09:00", "timezone": "Asia/Tokyo"},
]


@pytest.mark.parametrize("data", SPECS, ids=lambda data: data["expression"])
def test_specs_round_trip_through_json(data: dict[str, Any]) -> None:
    spec = ScheduleSpec.from_dict(data)
    stored = json.loads(json.dumps(spec.to_dict()))
    assert ScheduleSpec.from_dict(stored) == spec
    assert stored["kind"] == data["kind"]


def test_defaults_and_normal_forms() -> None:
    spec = ScheduleSpec.from_dict(
        {"kind": "cron", "expression": "  0   9 * *  1 ", "start_at": "2025-01-01T10:00+01:00"}
    )
    assert spec.kind is ScheduleKind.CRON
    assert spec.expression == "0 9 * * 1"
    assert spec.timezone == "UTC"
    assert spec.misfire is MisfirePolicy.FIRE_ONCE
    assert spec.misfire_grace == timedelta(seconds=60)
    assert spec.start_at == datetime(2025, 1, 1, 9, tzinfo=UTC)
    assert spec.to_dict() == {
        "kind": "cron",
        "expression": "0 9 * * 1",
        "timezone": "UTC",
        "start_at": "2025-01-01T09:00:00+00:00",
        "end_at": None,
        "paused": False,
        "misfire": "fire_once",
        "misfire_grace": "PT1M",
    }


@pytest.mark.parametrize(
    ("alias", "expected"),
    [("@hourly", "01-01 01:00"), ("@daily", "01-02 00:00"), ("@midnight", "01-02 00:00"),
     ("@weekly", "01-05 00:00"), ("@monthly", "02-01 00:00"), ("@yearly", "01-01 00:00"),
     ("@ANNUALLY", "01-01 00:00")],
)  # fmt: skip
def test_cron_aliases(alias: str, expected: str) -> None:
    spec = ScheduleSpec(kind="cron", expression=alias)
    (fire,) = next_fire_times(spec, datetime(2025, 1, 1, 0, 0, 1, tzinfo=UTC), 1)
    assert fire.strftime("%m-%d %H:%M") == expected


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"expression": "* * * * *"}, "kind", "is required"),
        ({"kind": "daily", "expression": "x"}, "kind", "'daily' is not one of 'cron', 'interval', 'once'"),
        ({"kind": "cron"}, "expression", "is required"),
        ({"kind": "cron", "expression": "  "}, "expression", "needs an expression"),
        ({"kind": "cron", "expression": "* * * *"}, "expression", "has 4 fields"),
        ({"kind": "cron", "expression": "0 0 0 1 1 * 2025"}, "expression", "has 7 fields"),
        ({"kind": "cron", "expression": "61 * * * *"}, "expression", "out of range"),
        ({"kind": "cron", "expression": "0 0 31 2 *"}, "expression", "never matches a date"),
        ({"kind": "cron", "expression": "@reboot"}, "expression", "is not a cron alias"),
        ({"kind": "cron", "expression": "H * * * *"}, "expression", "is not a cron expression"),
        ({"kind": "interval", "expression": "soon"}, "expression", "is not a duration"),
        ({"kind": "interval", "expression": "P1M"}, "expression", "years or months"),
        ({"kind": "interval", "expression": "500ms"}, "expression", "shorter than the shortest interval"),
        ({"kind": "once", "expression": "tomorrow"}, "expression", "is not an ISO 8601 date-time"),
        ({"kind": "cron", "expression": "@daily", "timezone": "Mars/Olympus"}, "timezone", "not an IANA"),
        ({"kind": "cron", "expression": "@daily", "timezone": "../etc/passwd"}, "timezone", "not an IANA"),
        ({"kind": "cron", "expression": "@daily", "start_at": "noon"}, "start_at", "not an ISO 8601"),
        ({"kind": "cron", "expression": "@daily", "end_at": 5}, "end_at", "must be an ISO 8601 date-time"),
        (
            {"kind": "cron", "expression": "@daily", "start_at": "2025-02-01", "end_at": "2025-01-01"},
            "end_at",
            "is before start_at",
        ),
        (
            {"kind": "once", "expression": "2025-01-01T09:00Z", "end_at": "2024-12-31T00:00Z"},
            "end_at",
            "would never fire",
        ),
        ({"kind": "cron", "expression": "@daily", "misfire": "retry"}, "misfire", "is not one of"),
        ({"kind": "cron", "expression": "@daily", "max_catch_up": 3}, "max_catch_up", "only the 'catch_up'"),
        (
            {"kind": "cron", "expression": "@daily", "misfire": "catch_up", "max_catch_up": 0},
            "max_catch_up",
            "from 1 to 1000",
        ),
        (
            {"kind": "cron", "expression": "@daily", "misfire_grace": "a while"},
            "misfire_grace",
            "not a duration",
        ),
        ({"kind": "cron", "expression": "@daily", "paused": "no"}, "paused", "true or false"),
        ({"kind": "cron", "expression": "@daily", "every": "1h"}, "every", "unknown field"),
    ],
)
def test_invalid_specs_are_refused_naming_the_field(data: dict[str, Any], field: str, message: str) -> None:
    with pytest.raises(ScheduleError) as caught:
        ScheduleSpec.from_dict(data)
    assert caught.value.field == field
    assert message in str(caught.value)
    assert str(caught.value).startswith(f"{field}: ")


def test_a_schedule_must_be_an_object() -> None:
    with pytest.raises(ScheduleError, match="schedule: must be an object, not list"):
        ScheduleSpec.from_dict([])  # type: ignore[arg-type]


def test_the_constructor_validates_like_from_dict() -> None:
    with pytest.raises(ScheduleError, match="misfire_grace: must be a duration of zero or more"):
        ScheduleSpec(kind=ScheduleKind.CRON, expression="@daily", misfire_grace=timedelta(seconds=-1))


DOC = (ROOT / "docs" / "schedules.md").read_text(encoding="utf-8")


def test_every_json_example_in_the_docs_is_a_valid_schedule() -> None:
    blocks = re.findall(r"```json\n(.*?)\n```", DOC, re.DOTALL)
    assert len(blocks) >= 4
    for body in blocks:
        ScheduleSpec.from_dict(json.loads(body))


def test_the_python_example_in_the_docs_runs(capsys: pytest.CaptureFixture[str]) -> None:
    (body,) = re.findall(r"```python\n(.*?)```", DOC, re.DOTALL)
    exec(compile(body, "docs/schedules.md", "exec"), {"__name__": "docs_example"})
    assert "start a run for 2025-01-15T10:00:00+00:00" in capsys.readouterr().out
