"""``/audit``: who changed what in the caller's tenant, newest first (administrators only). Workflow
creation, new versions and deletion, user creation and API key creation and revocation are
recorded, each with the acting username (null for the command line)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from apg_workflow.api.deps import RuntimeDep
from apg_workflow.api.pagination import Cursor, Limit, PageOf, page_of
from apg_workflow.api.routes.users import AdminDep
from apg_workflow.runtime.context import Runtime
from apg_workflow.store import Page
from apg_workflow.store.identity import list_audit

router = APIRouter(prefix="/audit", tags=["audit"])

Filter = Annotated[str | None, Query(min_length=1, max_length=255)]


class AuditEntry(BaseModel):
    id: int
    at: datetime
    actor: str | None = None
    action: str
    object_type: str
    object_id: str | None = None
    details: dict[str, Any] | None = None


def entry_out(row: dict[str, Any]) -> AuditEntry:
    return AuditEntry(**{name: row[name] for name in AuditEntry.model_fields})


async def audit_page(
    rt: Runtime,
    *,
    limit: int,
    cursor: str | None,
    action: str | None,
    object_type: str | None,
    object_id: str | None,
) -> Page[dict[str, Any]]:
    return await rt.db.read(
        lambda conn: list_audit(
            conn,
            rt.tenant,
            limit=limit,
            cursor=cursor,
            action=action,
            object_type=object_type,
            object_id=object_id,
        )
    )


@router.get(
    "",
    response_model=PageOf[AuditEntry],
    summary="The audit log, newest first (admin role)",
    responses={403: {}},
)
async def list_entries(
    rt: RuntimeDep,
    _: AdminDep,
    limit: Limit = 50,
    cursor: Cursor = None,
    action: Annotated[
        str | None, Query(min_length=1, max_length=100, description="e.g. workflow.created, user.created.")
    ] = None,
    object_type: Annotated[
        str | None, Query(min_length=1, max_length=50, description="workflow, user or api_key.")
    ] = None,
    object_id: Filter = None,
) -> PageOf[AuditEntry]:
    page = await audit_page(
        rt, limit=limit, cursor=cursor, action=action, object_type=object_type, object_id=object_id
    )
    return page_of(page, entry_out)
