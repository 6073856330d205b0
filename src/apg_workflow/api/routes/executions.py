"""``/executions``: list with filters, sort and keyset pagination, get (with progress), cancel, retry
the open incidents, history, and logs (paged, or streamed as server-sent events)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Query
from fastapi.responses import StreamingResponse
from pydantic import AfterValidator, AwareDatetime, BaseModel, Field, StringConstraints

from apg_workflow.api.deps import CallerDep, RuntimeDep
from apg_workflow.api.pagination import Cursor, Limit, PageOf, page_of
from apg_workflow.api.routes.incidents import IncidentOut, incident_out
from apg_workflow.api.routes.tasks import Variables, actor_of
from apg_workflow.runtime.context import Runtime
from apg_workflow.services import executions as service
from apg_workflow.services import queries, task_actions
from apg_workflow.store import ExecutionRecord
from apg_workflow.store.execution_queries import ExecutionFilter

router = APIRouter(prefix="/executions", tags=["executions"])

Status = Annotated[
    str | None,
    Query(pattern="^(queued|pending|running|completed|failed|cancelled)$", description="Only this status."),
]


def _utc(moment: datetime | None) -> datetime | None:
    try:
        return None if moment is None else moment.astimezone(UTC)
    except OverflowError:
        raise ValueError("is out of range once in UTC") from None


Moment = Annotated[
    AwareDatetime | None,
    AfterValidator(_utc),
    Query(description="ISO 8601 date-time with an offset (`…Z`)."),
]
VariableMatch = Annotated[str, StringConstraints(pattern=r'^[^:"\\]{1,200}:', max_length=2000)]
LogCursor = Annotated[
    str | None, Query(pattern=r"^\d{1,18}$", description="`next_cursor` of the previous page (a line id).")
]
# One server-sent event of ``logs?follow=true`` (OpenAPI 3.1: the schema of each event).
SSE_EVENT: dict[str, Any] = {
    "type": "object",
    "required": ["event", "data"],
    "properties": {
        "event": {"type": "string", "enum": ["log", "end"]},
        "id": {"type": "string", "description": "The line's id (`log` events)."},
        "data": {
            "type": "string",
            "contentMediaType": "application/json",
            "description": 'A log line as JSON (`log`); `{"status", "timed_out"}` (`end`).',
        },
        "retry": {"type": "integer"},
    },
}


class ExecutionSummaryOut(BaseModel):
    id: str
    workflow_id: str = Field(description="The workflow key.")
    workflow_version: int
    status: str
    business_key: str | None = None
    parent_id: str | None = None
    error: str | None = None
    started_at: datetime
    updated_at: datetime
    completed_at: datetime | None = None
    duration_seconds: float | None = Field(None, description="From start to end (or to now while running).")


class ExecutionOut(ExecutionSummaryOut):
    variables: dict[str, Any]
    completed_elements: list[str]
    active_elements: list[str]
    progress: float = Field(
        description="Share of the process's flow nodes completed (an estimate while running), "
        "1.0 once it ended."
    )


class HistoryEntry(BaseModel):
    id: int
    at: datetime
    event: str
    element_id: str | None = None
    instance_id: str | None = None
    data: Any = None


class LogLineOut(BaseModel):
    id: int = Field(description="Orders the lines; resume after it with `cursor` or `Last-Event-ID`.")
    at: datetime
    level: Literal["info", "warning", "error"]
    event: str
    element_id: str | None = None
    message: str


class CancelRequest(BaseModel):
    reason: str = Field("cancelled", max_length=500)


class RetryRequest(BaseModel):
    variables: Variables | None = Field(
        None, description="Written where each failed element reads them before it runs again."
    )


class RetryOut(BaseModel):
    retried: list[IncidentOut] = Field(description="The incidents retried (none when none was open).")
    execution: ExecutionOut


def summary_out(record: ExecutionRecord, now: datetime | None = None) -> ExecutionSummaryOut:
    return ExecutionSummaryOut(**_summary_fields(record, now))


def _summary_fields(record: ExecutionRecord, now: datetime | None) -> dict[str, Any]:
    end = record.ended_at or now
    return {
        "id": record.id,
        "workflow_id": record.workflow_key,
        "workflow_version": record.workflow_version,
        "status": record.status,
        "business_key": record.business_key,
        "parent_id": record.parent_id,
        "error": record.error,
        "started_at": record.created_at,
        "updated_at": record.updated_at,
        "completed_at": record.ended_at,
        "duration_seconds": (end - record.created_at).total_seconds() if end is not None else None,
    }


async def execution_out(rt: Runtime, execution_id: str) -> ExecutionOut:
    detail = await queries.execution_detail(rt, execution_id)
    return ExecutionOut(
        **_summary_fields(detail.record, rt.clock()),
        variables=detail.variables,
        completed_elements=list(detail.completed),
        active_elements=list(detail.active),
        progress=detail.progress,
    )


def log_out(line: queries.LogLine) -> LogLineOut:
    return LogLineOut(**asdict(line))


@router.get("", response_model=PageOf[ExecutionSummaryOut], summary="List executions")
async def list_executions(
    rt: RuntimeDep,
    status: Status = None,
    workflow_id: Annotated[str | None, Query(max_length=255, description="The workflow key.")] = None,
    version: Annotated[
        int | None, Query(ge=1, le=2**31 - 1, description="Only this workflow version.")
    ] = None,
    business_key: Annotated[str | None, Query(max_length=255)] = None,
    started_after: Moment = None,
    started_before: Moment = None,
    ended_after: Moment = None,
    ended_before: Moment = None,
    variables: Annotated[
        list[VariableMatch] | None,
        Query(
            description="`name:value`, repeatable: the root scope holds `name` equal to `value`, read as "
            'JSON when it is JSON (`amount:120`, `ok:true`, `code:"7"`), else as a string (`region:emea`).'
        ),
    ] = None,
    sort: Annotated[
        Literal["started_at:desc", "started_at:asc"], Query(description="Order by start time.")
    ] = "started_at:desc",
    limit: Limit = 50,
    cursor: Cursor = None,
) -> PageOf[ExecutionSummaryOut]:
    chosen = ExecutionFilter(
        workflow_key=workflow_id,
        version=version,
        status=status,
        business_key=business_key,
        started_after=started_after,
        started_before=started_before,
        ended_after=ended_after,
        ended_before=ended_before,
        variables=tuple(queries.variable_filter(v) for v in variables or ()),
        newest_first=sort.endswith(":desc"),
    )
    page = await queries.find_executions(rt, chosen, limit=limit, cursor=cursor)
    now = rt.clock()
    return page_of(page, lambda r: summary_out(r, now))


@router.get("/{execution_id}", response_model=ExecutionOut, summary="Get an execution")
async def get_execution(execution_id: str, rt: RuntimeDep) -> ExecutionOut:
    return await execution_out(rt, execution_id)


@router.post("/{execution_id}/cancel", response_model=ExecutionOut, summary="Cancel an execution")
async def cancel_execution(
    execution_id: str, rt: RuntimeDep, body: CancelRequest | None = None
) -> ExecutionOut:
    await service.cancel(rt, execution_id, (body or CancelRequest()).reason)
    return await execution_out(rt, execution_id)


@router.post(
    "/{execution_id}/retry",
    response_model=RetryOut,
    summary="Retry the open incidents of an execution (and of the executions it called)",
)
async def retry_execution(
    execution_id: str, rt: RuntimeDep, caller: CallerDep, body: RetryRequest | None = None
) -> RetryOut:
    variables = body.variables if body is not None else None
    retried = await task_actions.retry_execution(rt, execution_id, actor_of(caller), variables)
    return RetryOut(
        retried=[incident_out(i) for i in retried], execution=await execution_out(rt, execution_id)
    )


@router.get("/{execution_id}/history", response_model=list[HistoryEntry], summary="An execution's history")
async def get_history(
    execution_id: str,
    rt: RuntimeDep,
    after: Annotated[int, Query(ge=0, le=2**63 - 1, description="Entries after this id.")] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 500,
) -> list[HistoryEntry]:
    return [HistoryEntry(**e) for e in await service.history(rt, execution_id, after=after, limit=limit)]


def _event(name: str, data: dict[str, Any], event_id: int | None = None) -> str:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {name}\ndata: {json.dumps(data, default=str)}\n\n"


async def _stream(rt: Runtime, execution_id: str, after: int, timeout: float) -> AsyncIterator[str]:
    async for item in queries.follow_logs(rt, execution_id, after=after, timeout=timeout):
        if isinstance(item, queries.LogEnd):
            yield _event("end", {"status": item.status, "timed_out": item.timed_out})
        else:
            yield _event("log", log_out(item).model_dump(mode="json"), item.id)


@router.get(
    "/{execution_id}/logs",
    response_model=PageOf[LogLineOut],
    summary="An execution's log, oldest first; `follow=true` streams it until the execution ends",
    responses={
        200: {
            "description": "A page of log lines; with `follow=true` a `text/event-stream` of `log` events "
            "(the line as JSON, its id as the event id) closed by one `end` event "
            '(`{"status", "timed_out"}`).',
            "content": {"text/event-stream": {"schema": SSE_EVENT}},
        }
    },
)
async def get_logs(
    execution_id: str,
    rt: RuntimeDep,
    limit: Limit = 100,
    cursor: LogCursor = None,
    follow: Annotated[bool, Query(description="Stream the lines as server-sent events.")] = False,
    timeout: Annotated[
        float, Query(ge=1, le=600, description="With `follow`: stop after this many seconds.")
    ] = 60,
    last_event_id: Annotated[str | None, Header(pattern=r"^\d{1,18}$")] = None,
) -> Any:
    after = queries.log_cursor(last_event_id or cursor)
    if not follow:
        return page_of(await queries.execution_logs(rt, execution_id, after=after, limit=limit), log_out)
    await service.get(rt, execution_id)  # an unknown execution answers 404 before the stream starts
    return StreamingResponse(
        _stream(rt, execution_id, after, timeout),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
