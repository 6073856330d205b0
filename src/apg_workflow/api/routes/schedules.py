"""``/schedules``: cron, interval and one-off starts of a workflow (the format: docs/schedules.md) —
create, list, get, change, delete, pause, resume, and preview the next fire times."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request, Response, status
from pydantic import BaseModel, Field

from apg_workflow.api.deps import RuntimeDep
from apg_workflow.api.pagination import PageOf
from apg_workflow.api.problems import ProblemError
from apg_workflow.services import schedules as service
from apg_workflow.services.schedules import InvalidSchedule
from apg_workflow.store import ScheduleRecord

router = APIRouter(prefix="/schedules", tags=["schedules"])

ScheduleId = Annotated[int, Path(ge=1, le=2**63 - 1, description="The schedule id.")]
_MOMENT = "ISO 8601 date-time; without an offset, a wall-clock time in `timezone`."
_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such schedule (or workflow) in the caller's tenant"},
    422: {"description": "The schedule cannot be used; `errors[0].loc` names the field"},
}


class ScheduleChange(BaseModel):
    """The fields of a change; those left out stay as they are."""

    name: str | None = Field(None, max_length=200)
    variables: dict[str, Any] | None = Field(None, description="What each execution starts with.")
    kind: Literal["cron", "interval", "once"] | None = None
    expression: str | None = Field(
        None, min_length=1, max_length=200, description="A cron expression, an interval or a date-time."
    )
    timezone: str | None = Field(None, max_length=64, description="An IANA time zone (`Europe/Berlin`).")
    start_at: str | None = Field(None, max_length=64, description=f"No fire before it. {_MOMENT}")
    end_at: str | None = Field(None, max_length=64, description=f"No fire after it. {_MOMENT}")
    misfire: Literal["skip", "fire_once", "catch_up"] | None = Field(
        None, description="What happens to fires missed while no scheduler ran."
    )
    max_catch_up: int | None = Field(
        None, ge=1, le=1000, description="With `catch_up`: the most fires at once."
    )
    misfire_grace: str | None = Field(
        None, max_length=64, description="How late a fire may be and still count as on time (`PT1M`, `90s`)."
    )


class ScheduleCreate(ScheduleChange):
    workflow_id: str = Field(min_length=1, max_length=255, description="The workflow key.")
    kind: Literal["cron", "interval", "once"]
    expression: str = Field(
        min_length=1, max_length=200, description="A cron expression, an interval or a date-time."
    )
    timezone: str = Field("UTC", max_length=64, description="An IANA time zone (`Europe/Berlin`).")
    paused: bool = Field(False, description="Created paused: it fires nothing until resumed.")


class ScheduleOut(BaseModel):
    id: int
    workflow_id: str = Field(description="The workflow key.")
    name: str | None = None
    status: str = Field(description="`active`, `paused` or `ended` (no fire left).")
    kind: str
    expression: str
    timezone: str
    start_at: datetime | None = None
    end_at: datetime | None = None
    misfire: str
    max_catch_up: int | None = None
    misfire_grace: str
    variables: dict[str, Any]
    next_fire_at: datetime | None = None
    last_fire_at: datetime | None = None
    last_execution_id: str | None = None
    last_error: str | None = None
    created_at: datetime
    updated_at: datetime


class NextFires(BaseModel):
    schedule_id: int
    times: list[datetime] = Field(
        description="The next fire times, UTC (of a paused one: were it resumed now)."
    )


_SPEC_FIELDS = (
    "kind",
    "expression",
    "timezone",
    "start_at",
    "end_at",
    "misfire",
    "max_catch_up",
    "misfire_grace",
)


def schedule_out(record: ScheduleRecord) -> ScheduleOut:
    spec = record.spec
    return ScheduleOut(
        id=record.id,
        workflow_id=record.workflow_key,
        name=record.name,
        status=record.status,
        kind=spec["kind"],
        expression=spec["expression"],
        timezone=spec["timezone"],
        start_at=spec.get("start_at"),
        end_at=spec.get("end_at"),
        misfire=spec.get("misfire", "fire_once"),
        max_catch_up=spec.get("max_catch_up"),
        misfire_grace=spec.get("misfire_grace", "PT1M"),
        variables=record.variables,
        next_fire_at=record.next_fire_at,
        last_fire_at=record.last_fire_at,
        last_execution_id=record.last_execution_id,
        last_error=record.last_error,
        created_at=record.created_at,
        updated_at=record.updated_at,
    )


@contextmanager
def schedule_problems() -> Iterator[None]:
    """A schedule that cannot be used answers 422, naming the field at fault where it is known."""
    try:
        yield
    except InvalidSchedule as exc:
        raise _invalid(exc.message, ["body", exc.field]) from None
    except OverflowError:  # a date, or a date plus a duration, past what a date-time holds
        raise _invalid(
            "a date-time or duration of the schedule is out of range (years 1 to 9999)", ["body"]
        ) from None


def _invalid(detail: str, loc: list[str]) -> ProblemError:
    errors = [{"loc": loc, "message": detail}]
    return ProblemError(422, "invalid-schedule", detail, title="Invalid schedule", errors=errors)


@router.get("", response_model=PageOf[ScheduleOut], summary="List schedules, oldest first")
async def list_schedules(
    rt: RuntimeDep,
    workflow_id: Annotated[
        str | None, Query(max_length=255, description="Those of this workflow key.")
    ] = None,
) -> PageOf[ScheduleOut]:
    found = await service.list_schedules(rt, workflow=workflow_id)
    return PageOf[ScheduleOut](items=[schedule_out(s) for s in found], next_cursor=None)


@router.post(
    "",
    response_model=ScheduleOut,
    status_code=status.HTTP_201_CREATED,
    summary="Create a schedule",
    responses=_ERRORS,
)
async def create_schedule(
    body: ScheduleCreate, rt: RuntimeDep, request: Request, response: Response
) -> ScheduleOut:
    with schedule_problems():
        spec = service.schedule_spec(
            body.model_dump(include=set(_SPEC_FIELDS) | {"paused"}, exclude_none=True)
        )
        record = await service.create_schedule(
            rt, body.workflow_id, spec, variables=body.variables, name=body.name
        )
    response.headers["Location"] = f"{request.url.path.rstrip('/')}/{record.id}"
    return schedule_out(record)


@router.get("/{schedule_id}", response_model=ScheduleOut, summary="Get a schedule", responses=_ERRORS)
async def get_schedule(schedule_id: ScheduleId, rt: RuntimeDep) -> ScheduleOut:
    return schedule_out(await service.get_schedule(rt, schedule_id))


@router.patch(
    "/{schedule_id}",
    response_model=ScheduleOut,
    summary="Change a schedule (it owes the fires after this moment)",
    responses=_ERRORS,
)
async def update_schedule(schedule_id: ScheduleId, body: ScheduleChange, rt: RuntimeDep) -> ScheduleOut:
    given = body.model_dump(exclude_unset=True)
    changed = {k: v for k, v in given.items() if k in _SPEC_FIELDS}
    with schedule_problems():
        spec = None
        if changed:
            current = await service.get_schedule(rt, schedule_id)
            spec = service.schedule_spec({**current.spec, "paused": False, **changed})
        record = await service.update_schedule(
            rt, schedule_id, spec=spec, variables=given.get("variables"), name=given.get("name")
        )
    return schedule_out(record)


@router.delete(
    "/{schedule_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a schedule (the executions it started stay)",
    responses={404: _ERRORS[404]},
)
async def delete_schedule(schedule_id: ScheduleId, rt: RuntimeDep) -> None:
    await service.delete_schedule(rt, schedule_id)


@router.post(
    "/{schedule_id}/pause", response_model=ScheduleOut, summary="Pause a schedule", responses=_ERRORS
)
async def pause_schedule(schedule_id: ScheduleId, rt: RuntimeDep) -> ScheduleOut:
    return schedule_out(await service.pause_schedule(rt, schedule_id))


@router.post(
    "/{schedule_id}/resume",
    response_model=ScheduleOut,
    summary="Resume a schedule (the fires missed while paused are not owed)",
    responses=_ERRORS,
)
async def resume_schedule(schedule_id: ScheduleId, rt: RuntimeDep) -> ScheduleOut:
    with schedule_problems():
        return schedule_out(await service.resume_schedule(rt, schedule_id))


@router.get("/{schedule_id}/next", response_model=NextFires, summary="The next fire times", responses=_ERRORS)
async def next_fires(
    schedule_id: ScheduleId,
    rt: RuntimeDep,
    count: Annotated[int, Query(ge=1, le=1000, description="How many.")] = 10,
) -> NextFires:
    with schedule_problems():
        times = await service.preview_schedule(rt, schedule_id, count)
    return NextFires(schedule_id=schedule_id, times=times)
