"""The routers, by where they are mounted: ``/api/v1``, ``/api/v2``, and the root (health, ``/ws``)."""

from __future__ import annotations

from fastapi import APIRouter

from apg_workflow.api import ws
from apg_workflow.api.routes import (
    audit,
    auth,
    bulk,
    components,
    executions,
    health,
    hooks,
    incidents,
    messages,
    schedules,
    signals,
    tasks,
    templates,
    users,
    webhooks,
    workflows,
)

V1_ROUTERS: list[APIRouter] = [
    auth.router,
    workflows.router,
    executions.router,
    tasks.router,
    incidents.router,
    messages.router,
    signals.router,
    schedules.router,
    templates.router,
    components.router,
    audit.router,
    users.router,
    *(webhooks.router, hooks.config_router, hooks.router),
]
V2_ROUTERS: list[APIRouter] = [bulk.router]
ROOT_ROUTERS: list[APIRouter] = [health.router, ws.router]

__all__ = ["ROOT_ROUTERS", "V1_ROUTERS", "V2_ROUTERS"]
