"""The routers, by where they are mounted: ``/api/v1``, ``/api/v2``, and the root (health, ``/ws``)."""

from __future__ import annotations

from fastapi import APIRouter

from apg_workflow.api.routes import auth, executions, health, tasks, workflows

V1_ROUTERS: list[APIRouter] = [
    auth.router,
    workflows.router,
    executions.router,
    tasks.router,
]
V2_ROUTERS: list[APIRouter] = []
ROOT_ROUTERS: list[APIRouter] = [health.router]

__all__ = ["ROOT_ROUTERS", "V1_ROUTERS", "V2_ROUTERS"]
