"""Operations endpoints, outside ``/api`` and open to probes and scrapers: ``/health`` (the process
answers), ``/ready`` (the database answers and its schema is current), ``/health/detailed`` (every
dependency with its figures) and ``/metrics`` (Prometheus). When ``APG_METRICS_TOKEN`` is set the
last two ask for ``Authorization: Bearer <token>``."""

from __future__ import annotations

import secrets
import time
from typing import Literal

import redis.asyncio as aioredis
from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from apg_workflow.api.deps import AppRuntimeDep
from apg_workflow.api.metrics import Figures, figures, lag_of
from apg_workflow.api.problems import ProblemError
from apg_workflow.runtime.context import Runtime
from apg_workflow.store.migrate import current, head

router = APIRouter(tags=["health"])

Status = Literal["ok", "degraded", "unavailable"]
PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8"
REDIS_TIMEOUT = 2.0


class Health(BaseModel):
    status: str


class Check(BaseModel):
    status: Literal["ok", "degraded", "unavailable", "disabled"]
    detail: str | None = None


class DatabaseCheck(Check):
    dialect: str
    latency_ms: float | None = None
    revision: str | None = Field(None, description="The schema's migration revision.")
    schema_current: bool | None = None


class RedisCheck(Check):
    latency_ms: float | None = None


class WorkersCheck(Check):
    seen: list[str] = Field(
        default_factory=list,
        description="Workers holding a job lease now (an idle worker holds none and is not listed).",
    )


class SchedulerCheck(Check):
    overdue: int | None = Field(
        None, description="Schedules whose fire time passed over a minute (or ten poll intervals) ago."
    )
    most_overdue_seconds: float | None = None


class QueueCheck(Check):
    depth: int | None = Field(None, description="Jobs due and waiting for a worker.")
    oldest_due_seconds: float | None = None


class DetailedHealth(BaseModel):
    status: Status = Field(
        description="unavailable (503) when the database is; degraded when anything else is."
    )
    database: DatabaseCheck
    redis: RedisCheck
    workers: WorkersCheck
    scheduler: SchedulerCheck
    queue: QueueCheck
    executions: dict[str, int] = Field(default_factory=dict, description="Executions by status.")


def require_ops_token(request: Request) -> None:
    """``/metrics`` and ``/health/detailed`` are open unless ``APG_METRICS_TOKEN`` is set."""
    expected = request.app.state.settings.metrics_token.get_secret_value()
    if not expected:
        return
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not secrets.compare_digest(given.strip().encode(), expected.encode()):
        raise ProblemError(
            401,
            "unauthorized",
            "this endpoint asks for 'Authorization: Bearer <APG_METRICS_TOKEN>'",
            title="Unauthorized",
        )


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


async def _database(rt: Runtime) -> DatabaseCheck:
    started = time.perf_counter()
    try:
        revision = await current(rt.db)
    except Exception as exc:  # the check reports it; it must not fail the endpoint
        return DatabaseCheck(
            status="unavailable", dialect=rt.db.dialect, detail=f"{type(exc).__name__}: {exc}"
        )
    latency = round((time.perf_counter() - started) * 1000, 2)
    fresh = revision == head()
    return DatabaseCheck(
        status="ok" if fresh else "degraded",
        dialect=rt.db.dialect,
        latency_ms=latency,
        revision=revision,
        schema_current=fresh,
        detail=None if fresh else "the schema is not current: run `apg-workflow db upgrade`",
    )


async def _redis(url: str | None) -> RedisCheck:
    if not url:
        return RedisCheck(status="disabled", detail="APG_REDIS_URL is not set")
    client = aioredis.from_url(url, socket_connect_timeout=REDIS_TIMEOUT, socket_timeout=REDIS_TIMEOUT)
    started = time.perf_counter()
    try:
        await client.ping()
    except Exception as exc:  # the check reports it; it must not fail the endpoint
        return RedisCheck(status="unavailable", detail=f"{type(exc).__name__}: {exc}")
    finally:
        await client.aclose()
    return RedisCheck(status="ok", latency_ms=round((time.perf_counter() - started) * 1000, 2))


def runtime_checks(found: Figures, lag: float) -> tuple[WorkersCheck, SchedulerCheck, QueueCheck]:
    """Judge the figures: a job due for longer than ``lag`` seconds means the workers do not keep up
    (or none runs); a schedule overdue by as much means no scheduler fires it."""
    stuck = found.oldest_due_seconds is not None and found.oldest_due_seconds > lag
    queue = QueueCheck(
        status="degraded" if stuck else "ok",
        depth=found.queue_depth,
        oldest_due_seconds=found.oldest_due_seconds,
        detail=f"a job has waited over {lag:.0f} s for a worker" if stuck else None,
    )
    workers = WorkersCheck(
        status="degraded" if stuck and not found.workers else "ok",
        seen=list(found.workers),
        detail="no worker holds a job while due jobs wait" if stuck and not found.workers else None,
    )
    late = found.overdue_schedules > 0
    scheduler = SchedulerCheck(
        status="degraded" if late else "ok",
        overdue=found.overdue_schedules,
        most_overdue_seconds=found.most_overdue_seconds,
        detail="schedules are not firing: is a scheduler running?" if late else None,
    )
    return workers, scheduler, queue


@router.get(
    "/health/detailed",
    response_model=DetailedHealth,
    summary="Every dependency: database (latency, schema), Redis, workers seen, scheduler, queue depth",
    responses={401: {}, 503: {"model": DetailedHealth, "description": "The database is unavailable"}},
)
async def detailed(request: Request, rt: AppRuntimeDep, response: Response) -> DetailedHealth:
    require_ops_token(request)
    database = await _database(rt)
    redis = await _redis(getattr(rt.settings, "redis_url", None))
    found: Figures | None = None
    if database.status != "unavailable":
        try:
            found = await figures(rt)
        except Exception as exc:  # the database went away between the two reads
            database = database.model_copy(update={"status": "unavailable", "detail": str(exc)})
    if found is None:
        unknown = {"status": "unavailable", "detail": "the database is unavailable"}
        response.status_code = 503
        return DetailedHealth(
            status="unavailable",
            database=database,
            redis=redis,
            workers=WorkersCheck(**unknown),
            scheduler=SchedulerCheck(**unknown),
            queue=QueueCheck(**unknown),
        )
    workers, scheduler, queue = runtime_checks(found, lag_of(rt).total_seconds())
    parts = (database, redis, workers, scheduler, queue)
    overall: Status = "ok" if all(p.status in ("ok", "disabled") for p in parts) else "degraded"
    return DetailedHealth(
        status=overall,
        database=database,
        redis=redis,
        workers=workers,
        scheduler=scheduler,
        queue=queue,
        executions=found.by_status,
    )


@router.get(
    "/metrics",
    response_class=Response,
    summary="Prometheus metrics (text exposition format 0.0.4)",
    responses={200: {"content": {PROMETHEUS_TEXT: {"schema": {"type": "string"}}}}, 401: {}},
)
async def metrics(request: Request, rt: AppRuntimeDep) -> Response:
    require_ops_token(request)
    return Response(await request.app.state.metrics.render(rt), media_type=PROMETHEUS_TEXT)
