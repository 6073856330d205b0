"""``/health`` (the process answers) and ``/ready`` (the database answers and its schema is current)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from apg_workflow.api.deps import AppRuntimeDep
from apg_workflow.store.migrate import current, head

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str


@router.get("/health", response_model=Health, summary="Liveness")
async def health() -> Health:
    return Health(status="ok")


@router.get("/ready", response_model=Health, summary="Readiness: database reachable, migrations current")
async def ready(rt: AppRuntimeDep) -> JSONResponse:
    try:
        revision = await current(rt.db)
    except Exception as exc:  # any failure to reach the database means not ready
        return JSONResponse({"status": "unavailable", "detail": f"database: {exc}"}, status_code=503)
    if revision != head():
        detail = f"database schema at {revision}, expected {head()}: run `apg-workflow db upgrade`"
        return JSONResponse({"status": "unavailable", "detail": detail}, status_code=503)
    return JSONResponse({"status": "ok"})
