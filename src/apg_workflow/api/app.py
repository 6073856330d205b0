"""The FastAPI application: REST v1/v2, health, and (with ``background``) the worker, timer poller
and scheduler of ``apg-workflow server`` in the same process."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from apg_workflow.api import graphql, metrics, problems
from apg_workflow.api.graphql import graphql_router
from apg_workflow.api.idempotency import Idempotency
from apg_workflow.api.limits import BodyLimit
from apg_workflow.api.routes import ROOT_ROUTERS, V1_ROUTERS, V2_ROUTERS
from apg_workflow.runtime.components import StoredWorkflowCalls
from apg_workflow.runtime.context import Runtime, open_runtime
from apg_workflow.runtime.events import event_bus
from apg_workflow.runtime.registry import platform_registry
from apg_workflow.runtime.schedules import SchedulePoller
from apg_workflow.runtime.serve import Loop
from apg_workflow.runtime.timers import TimerPoller
from apg_workflow.runtime.worker import Worker
from apg_workflow.services import webhooks
from apg_workflow.services.connection_sources import StoredConnections
from apg_workflow.settings import Settings
from apg_workflow.store import upgrade
from apg_workflow.store.migrate import current, head

log = logging.getLogger(__name__)

DESCRIPTION = """The APG Workflow service API. Authenticate with `POST /api/v1/auth/login` and send
`Authorization: Bearer <access_token>` (or an `X-API-Key`). Errors are `application/problem+json`."""


def _background_loops(rt: Runtime, settings: Settings) -> list[Loop]:
    """What ``server`` runs beside the API: jobs, timers, schedules (and the webhook dispatcher)."""
    return [
        Worker(
            rt, platform_registry(StoredWorkflowCalls(rt)), connections=StoredConnections.for_runtime(rt)
        ).run,
        TimerPoller(rt).run,
        SchedulePoller(rt).run,
        webhooks.dispatch_loop(rt),
    ]


def _api_loops(rt: Runtime, settings: Settings) -> list[Loop]:
    """What every API process runs (the event tail that feeds WebSocket subscribers)."""
    return [event_bus(rt).run]


def create_app(settings: Settings, *, background: bool = False, migrate: bool | None = None) -> FastAPI:
    """The application for ``settings``. ``background`` runs the worker, timers and schedules too;
    ``migrate`` upgrades the schema at start-up (default: on SQLite only)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with open_runtime(settings) as rt:
            if migrate if migrate is not None else not rt.db.is_postgres:
                await upgrade(rt.db)
            elif await current(rt.db) != head():
                raise RuntimeError("the database schema is not current: run `apg-workflow db upgrade`")
            app.state.runtime = rt
            stop = asyncio.Event()
            loops = _api_loops(rt, settings) + (_background_loops(rt, settings) if background else [])
            tasks = [
                asyncio.create_task(loop(stop), name=getattr(loop, "__qualname__", "loop")) for loop in loops
            ]
            try:
                yield
            finally:
                stop.set()
                for task in asyncio.as_completed(tasks):
                    try:
                        await task
                    except Exception:
                        log.exception("a background loop failed while stopping")

    app = FastAPI(
        title="APG Workflow",
        version=_version(),
        description=DESCRIPTION,
        openapi_url="/api/v1/openapi.json",
        docs_url="/api/v1/docs",
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.settings = settings
    problems.install(app)
    app.add_middleware(Idempotency)  # inside the body limit: what it buffers is bounded
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    metrics.install(app)  # outermost: times every request, 413s included
    for router in V1_ROUTERS:
        app.include_router(router, prefix="/api/v1")
    for router in V2_ROUTERS:
        app.include_router(router, prefix="/api/v2")
    for router in ROOT_ROUTERS:
        app.include_router(router)
    app.include_router(graphql_router(), prefix=graphql.PATH)  # graphql: mounted here
    return app


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("apg-workflow")
    except PackageNotFoundError:
        return "0"


__all__ = ["create_app"]
