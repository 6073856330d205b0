"""Schedules: cron expressions, intervals and one-off times in a time zone, and when they fire.

Pure: no I/O and no clock; the scheduler loop passes ``now`` and the last fire it recorded. See
docs/schedules.md for the format and its semantics.
"""

from apg_workflow.runtime.scheduling.computing import (
    MAX_PREVIEW,
    FireDecision,
    decide,
    due_fires,
    fires_after,
    fires_until,
    next_after,
    next_fire_times,
    previous_fire,
)
from apg_workflow.runtime.scheduling.spec import (
    DEFAULT_GRACE,
    DEFAULT_MAX_CATCH_UP,
    MisfirePolicy,
    ScheduleError,
    ScheduleKind,
    ScheduleSpec,
)

__all__ = [
    "DEFAULT_GRACE",
    "DEFAULT_MAX_CATCH_UP",
    "MAX_PREVIEW",
    "FireDecision",
    "MisfirePolicy",
    "ScheduleError",
    "ScheduleKind",
    "ScheduleSpec",
    "decide",
    "due_fires",
    "fires_after",
    "fires_until",
    "next_after",
    "next_fire_times",
    "previous_fire",
]
