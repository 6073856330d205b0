"""When a schedule fires: previews, the next fire, and which fires are due now under the misfire
policy. Pure functions of the spec and the instants the caller passes; every result is in UTC.

Fire times are a function of the spec alone (never of when a scheduler happened to look), so
every scheduler process computes the same instants and can use ``(schedule, fire time)`` as the
natural key that makes each fire happen once.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import islice, takewhile

from apg_workflow.runtime.scheduling.spec import MisfirePolicy, ScheduleError, ScheduleKind, ScheduleSpec

MAX_PREVIEW = 1000
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
"""Where the grid of an interval schedule without ``start_at`` starts."""
_TICK = timedelta(microseconds=1)


@dataclass(frozen=True, slots=True)
class FireDecision:
    """What a scheduler does for one schedule at ``now``."""

    fires: tuple[datetime, ...]
    """The scheduled times to start a run for, oldest first."""
    checkpoint: datetime | None
    """To record as the schedule's last fire: the latest scheduled time up to now, fired or dropped."""
    next_fire: datetime | None
    """The next scheduled time after now; ``None`` when the schedule is paused or has ended."""


def next_after(spec: ScheduleSpec, moment: datetime) -> datetime | None:
    """The first fire strictly after ``moment``; ``None`` when paused or when no fire is left."""
    _aware("moment", moment)
    return None if spec.paused else next(fires_after(spec, moment), None)


def next_fire_times(spec: ScheduleSpec, after: datetime, n: int) -> list[datetime]:
    """A preview: the next ``n`` fires strictly after ``after`` (fewer when the schedule ends)."""
    _aware("after", after)
    if isinstance(n, bool) or not isinstance(n, int) or not 0 <= n <= MAX_PREVIEW:
        raise ScheduleError("n", f"a preview shows 0 to {MAX_PREVIEW} fire times, not {n!r}")
    return [] if spec.paused else list(islice(fires_after(spec, after), n))


def previous_fire(spec: ScheduleSpec, moment: datetime) -> datetime | None:
    """The latest scheduled time at or before ``moment``, paused or not."""
    _aware("moment", moment)
    return next(fires_until(spec, moment), None)


def decide(spec: ScheduleSpec, last_fire: datetime | None, now: datetime) -> FireDecision:
    """The fires due at ``now`` given the last fire the store recorded, under the misfire policy.

    Missed fires are the scheduled times after ``last_fire`` and up to ``now``. Without a
    ``last_fire`` nothing counts as missed beyond the grace period: record the creation (or
    resume) time as the last fire to make a schedule owe what it misses from then on.
    """
    _aware("now", now)
    if last_fire is not None:
        _aware("last_fire", last_fire)
    if spec.paused:
        return FireDecision((), last_fire, None)
    grace = spec.misfire_grace
    missed = fires_until(spec, now)
    if last_fire is None:
        missed = takewhile(lambda t: now - t <= grace, missed)
    else:
        missed = takewhile(lambda t: t > last_fire, missed)
    if spec.misfire is MisfirePolicy.CATCH_UP:
        fires = tuple(reversed(list(islice(missed, spec.catch_up_cap))))
        latest = fires[-1] if fires else None
    else:
        latest = next(missed, None)
        on_time = latest is not None and now - latest <= grace
        keep = spec.misfire is MisfirePolicy.FIRE_ONCE or on_time
        fires = (latest,) if latest is not None and keep else ()
    return FireDecision(fires, latest or last_fire, next(fires_after(spec, now), None))


def due_fires(spec: ScheduleSpec, last_fire: datetime | None, now: datetime) -> list[datetime]:
    """The scheduled times to fire at ``now``, oldest first (``decide(...).fires``)."""
    return list(decide(spec, last_fire, now).fires)


def fires_after(spec: ScheduleSpec, moment: datetime) -> Iterator[datetime]:
    """Every scheduled time strictly after ``moment`` within the bounds, ascending, paused or not."""
    if spec.start_at is not None and moment < spec.start_at:
        moment = spec.start_at - _TICK
    end = spec.end_at
    return takewhile(lambda t: end is None or t <= end, _stream(spec, moment, forward=True))


def fires_until(spec: ScheduleSpec, moment: datetime) -> Iterator[datetime]:
    """Every scheduled time at or before ``moment`` within the bounds, descending, paused or not."""
    if spec.end_at is not None and moment > spec.end_at:
        moment = spec.end_at
    start = spec.start_at
    return takewhile(lambda t: start is None or t >= start, _stream(spec, moment, forward=False))


def _stream(spec: ScheduleSpec, moment: datetime, *, forward: bool) -> Iterator[datetime]:
    moment = moment.astimezone(UTC)
    if spec.kind is ScheduleKind.CRON:
        return spec.cron.instants(spec.zone, moment, forward=forward)
    if spec.kind is ScheduleKind.INTERVAL:
        return _grid(spec.start_at or EPOCH, spec.every, moment, forward=forward)
    at = spec.at
    return iter([at] if (at > moment if forward else at <= moment) else [])


def _grid(anchor: datetime, every: timedelta, moment: datetime, *, forward: bool) -> Iterator[datetime]:
    """``anchor + k * every`` for k >= 0, strictly after (or at or before) ``moment``; exact in UTC."""
    steps = (moment - anchor) // every
    if forward:
        index = max(steps + 1, 0)
        while True:
            yield anchor + index * every
            index += 1
    else:
        for index in range(steps, -1, -1):
            yield anchor + index * every


def _aware(name: str, value: object) -> None:
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise ScheduleError(name, f"must be a timezone-aware datetime, not {value!r}")
