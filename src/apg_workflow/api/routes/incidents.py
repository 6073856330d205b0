"""``/incidents``: what failed and waits for an operator — list, get, retry (with variables to fix
the cause), or resolve without retrying."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from apg_workflow.api.deps import CallerDep, RuntimeDep
from apg_workflow.api.pagination import Cursor, Limit, PageOf, page_of
from apg_workflow.api.routes.tasks import Variables, actor_of
from apg_workflow.services import queries, task_actions
from apg_workflow.store import IncidentRecord

router = APIRouter(prefix="/incidents", tags=["incidents"])


class IncidentOut(BaseModel):
    id: str
    execution_id: str
    element_id: str
    message: str
    status: str = Field(description="`open` or `resolved`.")
    created_at: datetime
    resolved_at: datetime | None = None


class IncidentRetryRequest(BaseModel):
    variables: Variables | None = Field(
        None, description="Written where the failed element reads them before it runs again."
    )


class ResolveRequest(BaseModel):
    reason: str | None = Field(None, max_length=1000, description="Why it is closed without a retry.")


def incident_out(incident: IncidentRecord) -> IncidentOut:
    return IncidentOut(
        id=incident.id,
        execution_id=incident.execution_id,
        element_id=incident.element_id,
        message=incident.message,
        status=incident.status,
        created_at=incident.created_at,
        resolved_at=incident.resolved_at,
    )


@router.get("", response_model=PageOf[IncidentOut], summary="List incidents, oldest first")
async def list_incidents(
    rt: RuntimeDep,
    status: Annotated[
        str, Query(pattern="^(open|resolved|any)$", description="`open`, `resolved` or `any`.")
    ] = "open",
    execution_id: Annotated[
        str | None,
        Query(max_length=255, description="Those of this execution and of the executions it called."),
    ] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> PageOf[IncidentOut]:
    page = await queries.find_incidents(
        rt, status=None if status == "any" else status, execution_id=execution_id, limit=limit, cursor=cursor
    )
    return page_of(page, incident_out)


@router.post(
    "/{incident_id:path}/retry",
    response_model=IncidentOut,
    summary="Retry what failed (a job gets a fresh budget of attempts)",
    responses={404: {"description": "No such incident"}},
)
async def retry_incident(
    incident_id: str, rt: RuntimeDep, caller: CallerDep, body: IncidentRetryRequest | None = None
) -> IncidentOut:
    variables = body.variables if body is not None else None
    return incident_out(await task_actions.retry_incident(rt, incident_id, actor_of(caller), variables))


@router.post(
    "/{incident_id:path}/resolve",
    response_model=IncidentOut,
    summary="Close an incident without retrying it (the execution stays where it stopped)",
    responses={404: {"description": "No such incident"}},
)
async def resolve_incident(
    incident_id: str, rt: RuntimeDep, caller: CallerDep, body: ResolveRequest | None = None
) -> IncidentOut:
    reason = body.reason if body is not None else None
    return incident_out(await task_actions.resolve_incident(rt, incident_id, actor_of(caller), reason))


@router.get("/{incident_id:path}", response_model=IncidentOut, summary="Get an incident")
async def get_incident(incident_id: str, rt: RuntimeDep) -> IncidentOut:
    return incident_out(await queries.get_incident(rt, incident_id))
