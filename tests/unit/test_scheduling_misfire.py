"""Which fires are due at a fixed ``now``: misfire policies, caps, bounds, pauses, one-offs, previews."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from apg_workflow.runtime.scheduling import (
    DEFAULT_MAX_CATCH_UP,
    FireDecision,
    ScheduleError,
    ScheduleSpec,
    decide,
    due_fires,
    next_after,
    next_fire_times,
)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def every_hour(**options: object) -> ScheduleSpec:
    return ScheduleSpec(kind="cron", expression="0 * * * *", **options)  # type: ignore[arg-type]


NOW = utc(2025, 1, 15, 12, 0, 30)  # 30 s after the 12:00 fire
LONG_AGO = utc(2025, 1, 15, 6, 0)  # the last recorded fire: 06:00; 07:00 … 12:00 are due


def test_skip_fires_only_the_latest_fire_when_it_is_within_the_grace_period() -> None:
    decision = decide(every_hour(misfire="skip"), LONG_AGO, NOW)
    assert decision == FireDecision((utc(2025, 1, 15, 12),), utc(2025, 1, 15, 12), utc(2025, 1, 15, 13))


def test_skip_drops_a_fire_later_than_the_grace_period_and_moves_on() -> None:
    late = utc(2025, 1, 15, 12, 1, 1)
    decision = decide(every_hour(misfire="skip"), LONG_AGO, late)
    assert decision.fires == ()
    assert decision.checkpoint == utc(2025, 1, 15, 12)  # recorded, so the next tick does not reconsider
    assert decision.next_fire == utc(2025, 1, 15, 13)


def test_the_grace_period_is_configurable_per_schedule() -> None:
    late = utc(2025, 1, 15, 12, 4)
    assert due_fires(every_hour(misfire="skip", misfire_grace=timedelta(minutes=5)), LONG_AGO, late) == [
        utc(2025, 1, 15, 12)
    ]
    on_the_dot = utc(2025, 1, 15, 12)
    assert due_fires(every_hour(misfire="skip", misfire_grace=timedelta(0)), LONG_AGO, on_the_dot) == [
        on_the_dot
    ]


def test_fire_once_fires_once_for_any_number_of_missed_fires() -> None:
    days_later = utc(2025, 1, 18, 9, 30)
    decision = decide(every_hour(misfire="fire_once"), LONG_AGO, days_later)
    assert decision.fires == (utc(2025, 1, 18, 9),)
    assert decision.checkpoint == utc(2025, 1, 18, 9)


def test_catch_up_fires_every_missed_fire_oldest_first() -> None:
    fires = due_fires(every_hour(misfire="catch_up"), LONG_AGO, NOW)
    assert fires == [utc(2025, 1, 15, hour) for hour in range(7, 13)]


def test_catch_up_keeps_the_most_recent_fires_up_to_its_cap() -> None:
    decision = decide(every_hour(misfire="catch_up", max_catch_up=3), LONG_AGO, NOW)
    assert decision.fires == (utc(2025, 1, 15, 10), utc(2025, 1, 15, 11), utc(2025, 1, 15, 12))
    assert decision.checkpoint == utc(2025, 1, 15, 12)


def test_catch_up_without_a_cap_starts_at_most_the_default_number() -> None:
    fires = due_fires(every_hour(misfire="catch_up"), utc(2025, 1, 1), NOW)
    assert len(fires) == DEFAULT_MAX_CATCH_UP
    assert fires[-1] == utc(2025, 1, 15, 12)


def test_a_recorded_checkpoint_makes_the_next_tick_fire_nothing_again() -> None:
    for policy in ("skip", "fire_once", "catch_up"):
        spec = every_hour(misfire=policy)
        first = decide(spec, LONG_AGO, NOW)
        assert first.fires
        again = decide(spec, first.checkpoint, NOW + timedelta(seconds=5))
        assert again.fires == ()
        assert again.checkpoint == first.checkpoint


def test_nothing_is_due_between_fires() -> None:
    assert due_fires(every_hour(), utc(2025, 1, 15, 12), utc(2025, 1, 15, 12, 59, 59)) == []


def test_a_last_fire_ahead_of_now_never_fires_again() -> None:
    """Another scheduler with a faster clock recorded 13:00 already: this one must not repeat it."""
    decision = decide(every_hour(misfire="catch_up"), utc(2025, 1, 15, 13), NOW)
    assert decision.fires == ()
    assert decision.checkpoint == utc(2025, 1, 15, 13)


def test_a_schedule_never_fired_owes_only_what_is_within_the_grace_period() -> None:
    assert due_fires(every_hour(misfire="catch_up"), None, NOW) == [utc(2025, 1, 15, 12)]
    assert due_fires(every_hour(misfire="fire_once"), None, NOW + timedelta(minutes=5)) == []


def test_a_paused_schedule_produces_nothing() -> None:
    spec = every_hour(misfire="catch_up").pause()
    assert decide(spec, LONG_AGO, NOW) == FireDecision((), LONG_AGO, None)
    assert next_after(spec, NOW) is None
    assert next_fire_times(spec, NOW, 5) == []
    resumed = spec.resume()
    assert not resumed.paused
    assert due_fires(resumed, NOW, NOW + timedelta(hours=1)) == [utc(2025, 1, 15, 13)]


def test_start_and_end_bound_the_fires() -> None:
    spec = every_hour(start_at=utc(2025, 1, 15, 10, 30), end_at=utc(2025, 1, 15, 14))
    assert next_fire_times(spec, utc(2025, 1, 15), 10) == [
        utc(2025, 1, 15, hour) for hour in (11, 12, 13, 14)
    ]
    assert due_fires(replace(spec, misfire="catch_up"), LONG_AGO, NOW) == [
        utc(2025, 1, 15, 11),
        utc(2025, 1, 15, 12),
    ]
    ended = decide(spec, utc(2025, 1, 15, 14), utc(2025, 1, 15, 16))
    assert ended == FireDecision((), utc(2025, 1, 15, 14), None)


def test_naive_bounds_are_wall_times_of_the_schedule_zone() -> None:
    spec = every_hour(timezone="Europe/Berlin", start_at=datetime(2025, 1, 15, 10, 30))
    assert spec.start_at == utc(2025, 1, 15, 9, 30)
    assert next_fire_times(spec, utc(2025, 1, 15), 1) == [utc(2025, 1, 15, 10)]


def test_a_one_off_schedule_fires_once() -> None:
    spec = ScheduleSpec(kind="once", expression="2025-01-15T13:00:00+01:00", misfire="catch_up")
    at = utc(2025, 1, 15, 12)
    assert next_fire_times(spec, LONG_AGO, 3) == [at]
    first = decide(spec, None, at + timedelta(seconds=2))
    assert first == FireDecision((at,), at, None)
    assert due_fires(spec, first.checkpoint, at + timedelta(days=1)) == []


def test_a_one_off_missed_by_more_than_the_grace_is_still_owed_once_under_fire_once() -> None:
    spec = ScheduleSpec(kind="once", expression="2025-01-15T12:00:00Z")
    assert due_fires(spec, LONG_AGO, utc(2025, 1, 16)) == [utc(2025, 1, 15, 12)]
    assert due_fires(replace(spec, misfire="skip"), LONG_AGO, utc(2025, 1, 16)) == []


def test_an_interval_fires_on_a_grid_from_its_start() -> None:
    spec = ScheduleSpec(kind="interval", expression="90s", start_at=utc(2025, 1, 15, 12))
    assert next_fire_times(spec, utc(2025, 1, 15), 3) == [
        utc(2025, 1, 15, 12),
        utc(2025, 1, 15, 12, 1, 30),
        utc(2025, 1, 15, 12, 3),
    ]
    assert next_after(spec, utc(2025, 1, 15, 12, 1, 30)) == utc(2025, 1, 15, 12, 3)
    catch_up = replace(spec, misfire="catch_up", max_catch_up=2)
    assert due_fires(catch_up, None, utc(2025, 1, 15, 12, 3, 10)) == [utc(2025, 1, 15, 12, 3)]
    assert due_fires(catch_up, utc(2025, 1, 15), utc(2025, 1, 15, 12, 3, 10)) == [
        utc(2025, 1, 15, 12, 1, 30),
        utc(2025, 1, 15, 12, 3),
    ]


def test_an_interval_without_start_is_aligned_to_the_unix_epoch() -> None:
    spec = ScheduleSpec(kind="interval", expression="PT2H")
    assert next_fire_times(spec, utc(2025, 1, 15, 11, 59), 2) == [utc(2025, 1, 15, 12), utc(2025, 1, 15, 14)]


def test_the_preview_lists_the_next_n_fires_in_utc() -> None:
    spec = ScheduleSpec(kind="cron", expression="0 9 * * MON-FRI", timezone="America/New_York")
    preview = next_fire_times(spec, utc(2025, 1, 17, 15), 3)  # Friday 10:00 New York
    assert preview == [utc(2025, 1, 20, 14), utc(2025, 1, 21, 14), utc(2025, 1, 22, 14)]
    assert all(fire.tzinfo is UTC for fire in preview)
    assert next_fire_times(spec, utc(2025, 1, 17, 15), 0) == []


def test_a_long_outage_of_a_frequent_schedule_is_decided_quickly() -> None:
    spec = ScheduleSpec(kind="cron", expression="* * * * * *", misfire="catch_up", max_catch_up=1000)
    decision = decide(spec, utc(2024, 1, 1), utc(2025, 1, 1))
    assert len(decision.fires) == 1000
    assert decision.fires[-1] == utc(2025, 1, 1)


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: next_fire_times(every_hour(), NOW, -1), "n"),
        (lambda: next_fire_times(every_hour(), NOW, 5000), "n"),
        (lambda: next_fire_times(every_hour(), datetime(2025, 1, 1), 1), "after"),
        (lambda: decide(every_hour(), datetime(2025, 1, 1), NOW), "last_fire"),
        (lambda: due_fires(every_hour(), None, datetime(2025, 1, 1)), "now"),
    ],
)
def test_bad_arguments_are_named(call: Callable[[], object], field: str) -> None:
    with pytest.raises(ScheduleError) as caught:
        call()
    assert caught.value.field == field
