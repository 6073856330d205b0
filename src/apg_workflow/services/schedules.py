"""Schedules: cron, interval and one-off starts of a workflow (the format: docs/schedules.md).

Creating, changing or resuming a schedule records that moment as its checkpoint: it owes the fires
after it and never backfills the past (nor the fires missed while it was paused). Each change
locks the schedule's row, so it never interleaves with a scheduler firing it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from apg_workflow.runtime.context import Runtime
from apg_workflow.runtime.scheduling import (
    ScheduleError,
    ScheduleKind,
    ScheduleSpec,
    next_after,
    next_fire_times,
)
from apg_workflow.services.errors import ServiceError
from apg_workflow.store import NotFound, ScheduleRecord, find_version
from apg_workflow.store import schedules as stored

DEFAULT_PREVIEW = 10
# The widths of the columns that hold them.
_LIMITS = {"name": 200, "expression": 200, "timezone": 64}


class InvalidSchedule(ServiceError):
    """A schedule that cannot be used; ``field`` names what is wrong."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


def schedule_spec(data: Mapping[str, Any]) -> ScheduleSpec:
    """A spec from JSON data (``ScheduleSpec.from_dict``); a bad one raises :class:`InvalidSchedule`."""
    try:
        return ScheduleSpec.from_dict(data)
    except ScheduleError as exc:
        raise InvalidSchedule(exc.field, exc.reason) from None


def preview_spec(spec: ScheduleSpec, after: datetime, n: int = DEFAULT_PREVIEW) -> list[datetime]:
    """The next ``n`` fire times of ``spec`` strictly after ``after`` (as if it were not paused)."""
    try:
        return next_fire_times(spec.resume(), after, n)
    except ScheduleError as exc:
        raise InvalidSchedule(exc.field, exc.reason) from None


async def create_schedule(
    rt: Runtime,
    key: str,
    spec: ScheduleSpec,
    *,
    variables: Mapping[str, Any] | None = None,
    name: str | None = None,
) -> ScheduleRecord:
    """Schedule starts of the latest version of workflow ``key`` (at each fire, the then latest)."""
    variables = _checked(spec, variables, name)
    now = rt.clock()
    _fires_after(spec, now)

    async def work(conn: AsyncConnection) -> ScheduleRecord:
        found = await find_version(conn, rt.tenant, key, None)
        if found is None:
            raise NotFound("workflow", key)
        return await stored.insert_schedule(
            conn,
            tenant_id=rt.tenant,
            workflow_id=found[0],
            name=name,
            spec=spec.to_dict(),
            variables=variables,
            checkpoint=now,
            next_fire_at=next_after(spec, now),
            now=now,
        )

    return await rt.db.transaction(work)


async def update_schedule(
    rt: Runtime,
    schedule_id: int,
    *,
    spec: ScheduleSpec | None = None,
    variables: Mapping[str, Any] | None = None,
    name: str | None = None,
) -> ScheduleRecord:
    """Change what is given (the rest, and whether it is paused, stays). The schedule owes the fires
    after this moment."""

    def change(record: ScheduleRecord, now: datetime) -> ScheduleRecord:
        new_spec = spec or schedule_spec(record.spec)
        new_spec = new_spec.pause() if record.paused else new_spec.resume()  # pause / resume decide that
        checked = _checked(new_spec, record.variables if variables is None else variables, name)
        _fires_after(new_spec, now)
        return replace(
            record,
            spec=new_spec.to_dict(),
            variables=checked,
            name=record.name if name is None else name,
            checkpoint=now,
            next_fire_at=next_after(new_spec, now),
            last_error=None,
        )

    return await _change(rt, schedule_id, change)


async def pause_schedule(rt: Runtime, schedule_id: int) -> ScheduleRecord:
    """Stop firing until resumed (pausing a paused schedule changes nothing)."""

    def change(record: ScheduleRecord, now: datetime) -> ScheduleRecord:
        if record.paused:
            return record
        return replace(record, spec={**record.spec, "paused": True}, next_fire_at=None)

    return await _change(rt, schedule_id, change)


async def resume_schedule(rt: Runtime, schedule_id: int) -> ScheduleRecord:
    """Fire again from now on; the fires missed while paused are not owed."""

    def change(record: ScheduleRecord, now: datetime) -> ScheduleRecord:
        if not record.paused:
            return record
        spec = schedule_spec(record.spec).resume()
        return replace(record, spec=spec.to_dict(), checkpoint=now, next_fire_at=next_after(spec, now))

    return await _change(rt, schedule_id, change)


async def delete_schedule(rt: Runtime, schedule_id: int) -> None:
    """Delete the schedule; the executions it started are not touched."""
    await rt.db.transaction(lambda conn: stored.delete_schedule(conn, rt.tenant, schedule_id))


async def get_schedule(rt: Runtime, schedule_id: int) -> ScheduleRecord:
    return await rt.db.read(lambda conn: stored.get_schedule(conn, rt.tenant, schedule_id))


async def list_schedules(rt: Runtime, *, workflow: str | None = None) -> list[ScheduleRecord]:
    """The tenant's schedules (of one workflow key, if given), oldest first."""
    return await rt.db.read(lambda conn: stored.list_schedules(conn, rt.tenant, workflow_key=workflow))


async def preview_schedule(rt: Runtime, schedule_id: int, n: int = DEFAULT_PREVIEW) -> list[datetime]:
    """The schedule's next ``n`` fire times from now (of a paused one: were it resumed now)."""
    record = await get_schedule(rt, schedule_id)
    return preview_spec(schedule_spec(record.spec), rt.clock(), n)


async def _change(
    rt: Runtime, schedule_id: int, change: Callable[[ScheduleRecord, datetime], ScheduleRecord]
) -> ScheduleRecord:
    async def work(conn: AsyncConnection) -> ScheduleRecord:
        record = await stored.lock_schedule(conn, rt.tenant, schedule_id)
        now = rt.clock()
        changed = change(record, now)
        if changed is record:
            return record
        changed = replace(changed, updated_at=now)
        await stored.save_schedule(conn, changed)
        return changed

    return await rt.db.transaction(work)


def _fires_after(spec: ScheduleSpec, now: datetime) -> None:
    """Refuse a schedule that would never fire again (a one-off in the past, an end date passed)."""
    if next_after(spec.resume(), now) is None:
        if spec.kind is ScheduleKind.ONCE:
            raise InvalidSchedule("expression", f"{spec.at.isoformat()} is past: it would never fire")
        raise InvalidSchedule("end_at", "is past: the schedule would never fire again")


def _checked(spec: ScheduleSpec, variables: Mapping[str, Any] | None, name: str | None) -> dict[str, Any]:
    """The start variables as a plain dict, once the values fit their columns."""
    for field, value in (("name", name), ("expression", spec.expression), ("timezone", spec.timezone)):
        if value is not None and len(value) > _LIMITS[field]:
            raise InvalidSchedule(field, f"is longer than {_LIMITS[field]} characters")
    if variables is None:
        return {}
    if not isinstance(variables, Mapping):
        raise InvalidSchedule("variables", "must be a JSON object")
    try:
        json.dumps(variables, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InvalidSchedule("variables", f"must be JSON data: {exc}") from None
    return dict(variables)


__all__ = [
    "DEFAULT_PREVIEW",
    "InvalidSchedule",
    "create_schedule",
    "delete_schedule",
    "get_schedule",
    "list_schedules",
    "pause_schedule",
    "preview_schedule",
    "preview_spec",
    "resume_schedule",
    "schedule_spec",
    "update_schedule",
]
