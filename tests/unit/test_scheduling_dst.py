"""Cron schedules keep the wall-clock time of their zone across DST transitions; intervals do not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise, takewhile

import pytest
from croniter import croniter
from hypothesis import given, settings
from hypothesis import strategies as st

from apg_workflow.runtime.scheduling import (
    ScheduleSpec,
    decide,
    fires_until,
    next_after,
    next_fire_times,
    previous_fire,
)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def cron(expression: str, timezone: str) -> ScheduleSpec:
    return ScheduleSpec(kind="cron", expression=expression, timezone=timezone)


# Europe/Berlin: 2024-03-31 02:00 CET → 03:00 CEST (01:00 UTC);
#                2024-10-27 03:00 CEST → 02:00 CET (01:00 UTC).
# America/New_York: 2024-03-10 02:00 EST → 03:00 EDT (07:00 UTC);
#                   2024-11-03 02:00 EDT → 01:00 EST (06:00 UTC).
SPRING = {"Europe/Berlin": utc(2024, 3, 30, 12), "America/New_York": utc(2024, 3, 9, 12)}
FALL = {"Europe/Berlin": utc(2024, 10, 26, 12), "America/New_York": utc(2024, 11, 2, 12)}


@pytest.mark.parametrize(
    ("timezone", "expected"),
    [
        # 02:30 does not exist: it fires once, at the first instant after the gap (03:00 local).
        ("Europe/Berlin", [utc(2024, 3, 31, 1), utc(2024, 4, 1, 0, 30)]),
        ("America/New_York", [utc(2024, 3, 10, 7), utc(2024, 3, 11, 6, 30)]),
    ],
)
def test_a_daily_time_skipped_by_spring_forward_fires_once_right_after_the_gap(
    timezone: str, expected: list[datetime]
) -> None:
    assert next_fire_times(cron("30 2 * * *", timezone), SPRING[timezone], 2) == expected


@pytest.mark.parametrize(
    ("timezone", "expression", "expected"),
    [
        # 02:30 happens twice in Berlin; 01:30 twice in New York: each fires once, at the first pass.
        ("Europe/Berlin", "30 2 * * *", [utc(2024, 10, 27, 0, 30), utc(2024, 10, 28, 1, 30)]),
        ("America/New_York", "30 1 * * *", [utc(2024, 11, 3, 5, 30), utc(2024, 11, 4, 6, 30)]),
    ],
)
def test_a_daily_time_repeated_by_fall_back_fires_once_at_its_first_occurrence(
    timezone: str, expression: str, expected: list[datetime]
) -> None:
    assert next_fire_times(cron(expression, timezone), FALL[timezone], 2) == expected


@pytest.mark.parametrize("timezone", ["Europe/Berlin", "America/New_York"])
def test_a_daily_schedule_keeps_its_local_time_on_both_sides_of_each_transition(timezone: str) -> None:
    spec = cron("0 9 * * *", timezone)
    for start in (SPRING[timezone], FALL[timezone]):
        local = [fire.astimezone(spec.zone) for fire in next_fire_times(spec, start - timedelta(days=3), 7)]
        assert [(t.hour, t.minute) for t in local] == [(9, 0)] * 7
        assert len({t.date() for t in local}) == 7


def test_several_times_inside_the_gap_fire_once_together() -> None:
    spec = cron("0,30 2 * * *", "Europe/Berlin")
    fires = next_fire_times(spec, SPRING["Europe/Berlin"], 3)
    assert fires == [utc(2024, 3, 31, 1), utc(2024, 4, 1, 0), utc(2024, 4, 1, 0, 30)]


def test_a_six_field_expression_counts_seconds_first() -> None:
    spec = cron("15 30 2 * * *", "Europe/Berlin")
    assert next_fire_times(spec, FALL["Europe/Berlin"], 1) == [utc(2024, 10, 27, 0, 30, 15)]


@pytest.mark.parametrize(
    ("timezone", "start", "expected_hours"),
    [
        # Berlin spring: 01:00 CET, then 03:00 CEST (02:00 does not exist), 04:00 CEST: one hour apart.
        ("Europe/Berlin", utc(2024, 3, 30, 23, 30), [0, 1, 2, 3]),
        # Berlin fall: 02:00 CEST and 02:00 CET both fire, so the schedule stays hourly in real time.
        ("Europe/Berlin", utc(2024, 10, 26, 23, 30), [0, 1, 2, 3]),
        ("America/New_York", utc(2024, 3, 10, 5, 30), [6, 7, 8, 9]),
        ("America/New_York", utc(2024, 11, 3, 4, 30), [5, 6, 7, 8]),
    ],
)
def test_an_hourly_schedule_follows_the_clock_and_stays_hourly_in_real_time(
    timezone: str, start: datetime, expected_hours: list[int]
) -> None:
    fires = next_fire_times(cron("@hourly", timezone), start, 4)
    assert [fire.hour for fire in fires] == expected_hours
    assert {b - a for a, b in pairwise(fires)} == {timedelta(hours=1)}


@pytest.mark.parametrize("timezone", ["Europe/Berlin", "America/New_York"])
def test_catching_up_over_both_transitions_fires_once_per_local_day(timezone: str) -> None:
    spec = ScheduleSpec(kind="cron", expression="30 1 * * *", timezone=timezone, misfire="catch_up")
    spring, fall = SPRING[timezone], FALL[timezone]
    for last_fire in (spring - timedelta(days=3), fall - timedelta(days=3)):
        fires = decide(spec, last_fire, last_fire + timedelta(days=7)).fires
        assert [(t.astimezone(spec.zone).hour, t.astimezone(spec.zone).minute) for t in fires] == [
            (1, 30)
        ] * 7
        assert len({t.astimezone(spec.zone).date() for t in fires}) == 7


def test_an_interval_is_exact_elapsed_time_whatever_the_zone() -> None:
    spec = ScheduleSpec(
        kind="interval", expression="P1D", timezone="Europe/Berlin", start_at=utc(2024, 3, 29, 8)
    )
    fires = next_fire_times(spec, utc(2024, 3, 29), 4)
    assert fires == [utc(2024, 3, 29, 8) + timedelta(days=day) for day in range(4)]
    assert [fire.astimezone(spec.zone).hour for fire in fires] == [9, 9, 10, 10]


def test_a_one_off_wall_time_in_the_gap_fires_right_after_it() -> None:
    spec = ScheduleSpec(kind="once", expression="2024-03-31T02:30", timezone="Europe/Berlin")
    assert spec.at == utc(2024, 3, 31, 1)
    repeated = ScheduleSpec(kind="once", expression="2024-11-03T01:30", timezone="America/New_York")
    assert repeated.at == utc(2024, 11, 3, 5, 30)


def test_croniter_alone_would_fire_a_repeated_time_twice() -> None:
    """Why the wall-clock wrapper exists: croniter with aware datetimes repeats 02:30 on fall-back day."""
    spec = cron("30 2 * * *", "Europe/Berlin")
    raw = croniter("30 2 * * *", FALL["Europe/Berlin"].astimezone(spec.zone))
    native = [raw.get_next(datetime).astimezone(UTC) for _ in range(2)]
    assert native == [utc(2024, 10, 27, 0, 30), utc(2024, 10, 27, 1, 30)]
    assert next_fire_times(spec, FALL["Europe/Berlin"], 2)[1] == utc(2024, 10, 28, 1, 30)


EXPRESSIONS = ["*/15 * * * *", "30 2 * * *", "0 * * * *", "0,30 1-3 * * *", "*/20 2 * * *", "30 */2 * * *"]
WINDOWS = [(tz, moment) for tz in ("Europe/Berlin", "America/New_York") for moment in (SPRING[tz], FALL[tz])]


@settings(max_examples=150, deadline=None)
@given(
    expression=st.sampled_from(EXPRESSIONS),
    window=st.sampled_from(WINDOWS),
    offset_seconds=st.integers(min_value=0, max_value=36 * 3600),
)
def test_next_and_previous_agree_with_one_forward_walk_from_any_moment(
    expression: str, window: tuple[str, datetime], offset_seconds: int
) -> None:
    timezone, start = window
    spec = cron(expression, timezone)
    walk = next_fire_times(spec, start, 200)
    assert walk == sorted(set(walk))
    moment = start + timedelta(seconds=offset_seconds)
    assert next_after(spec, moment) == min(t for t in walk if t > moment)
    assert previous_fire(spec, moment) == max(
        (t for t in walk if t <= moment), default=previous_fire(spec, start)
    )
    back = list(takewhile(lambda t: t > start, fires_until(spec, walk[-1])))
    assert back == walk[::-1]


@pytest.mark.parametrize("expression", ["*/15 * * * *", "0 * * * *", "*/20 2 * * *"])
@pytest.mark.parametrize(("timezone", "start"), WINDOWS)
def test_a_wildcard_expression_fires_at_every_instant_whose_wall_time_matches(
    expression: str, timezone: str, start: datetime
) -> None:
    spec = cron(expression, timezone)
    minutes = (start + timedelta(minutes=m) for m in range(1, 36 * 60))
    expected = [
        t for t in minutes if croniter.match(expression, t.astimezone(spec.zone).replace(tzinfo=None))
    ]
    assert next_fire_times(spec, start, len(expected)) == expected
