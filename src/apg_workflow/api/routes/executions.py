"""``/executions``: list with filters and keyset pagination, get, cancel, history."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from apg_workflow.api.deps import RuntimeDep
from apg_workflow.api.pagination import Cursor, Limit, PageOf, page_of
from apg_workflow.runtime.context import Runtime
from apg_workflow.services import executions as service
from apg_workflow.store import ExecutionRecord

router = APIRouter(prefix="/executions", tags=["executions"])

Status = Annotated[
    str | None,
    Query(pattern="^(queued|pending|running|completed|failed|cancelled)$", description="Only this status."),
]


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
    progress: float = Field(description="Share of the elements already completed, 1.0 once it ended.")


class HistoryEntry(BaseModel):
    id: int
    at: datetime
    event: str
    element_id: str | None = None
    instance_id: str | None = None
    data: Any = None


class CancelRequest(BaseModel):
    reason: str = Field("cancelled", max_length=500)


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
    record = await service.get(rt, execution_id)
    shown = await service.show(rt, execution_id)
    completed, active = list(shown["completed"]), list(shown["active"])
    if record.status in ("completed", "failed", "cancelled"):
        progress = 1.0
    else:
        done = len(set(completed))
        progress = done / (done + len(set(active)) or 1) if done else 0.0
    return ExecutionOut(
        **_summary_fields(record, rt.clock()),
        variables=shown["variables"],
        completed_elements=completed,
        active_elements=active,
        progress=round(progress, 4),
    )


@router.get("", response_model=PageOf[ExecutionSummaryOut], summary="List executions, newest first")
async def list_executions(
    rt: RuntimeDep, status: Status = None, limit: Limit = 50, cursor: Cursor = None
) -> PageOf[ExecutionSummaryOut]:
    page = await service.list_executions(rt, status=status, limit=limit, cursor=cursor)
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


@router.get("/{execution_id}/history", response_model=list[HistoryEntry], summary="An execution's history")
async def get_history(
    execution_id: str,
    rt: RuntimeDep,
    after: Annotated[int, Query(ge=0, description="Entries after this id.")] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 500,
) -> list[HistoryEntry]:
    return [HistoryEntry(**e) for e in await service.history(rt, execution_id, after=after, limit=limit)]
