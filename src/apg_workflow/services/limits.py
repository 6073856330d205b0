"""Concurrency limits: how many executions of a workflow, or of the caller's tenant, are active at
once. Starts beyond a limit queue and run in order as slots free (see
:mod:`apg_workflow.store.limits`); setting, raising or removing a limit starts at once what it lets
through."""

from __future__ import annotations

from apg_workflow.runtime.context import Runtime
from apg_workflow.services.errors import ServiceError
from apg_workflow.store import limits


class InvalidLimit(ServiceError):
    """A limit that is not a positive number of executions."""


def _checked(limit: int | None) -> int | None:
    if limit is not None and limit < 1:
        raise InvalidLimit(f"a concurrency limit is at least 1 execution (got {limit}); none removes it")
    return limit


async def set_workflow_limit(rt: Runtime, key: str, limit: int | None) -> None:
    """Let at most ``limit`` executions of workflow ``key`` be active at once (``None``: no limit)."""
    await limits.set_limit(rt.transitions, tenant_id=rt.tenant, key=key, limit=_checked(limit))


async def workflow_limit(rt: Runtime, key: str) -> int | None:
    """The limit of workflow ``key`` (``None``: none)."""
    return await rt.db.read(lambda conn: limits.workflow_limit(conn, rt.tenant, key))


async def set_tenant_limit(rt: Runtime, limit: int | None) -> None:
    """Let at most ``limit`` executions of the caller's tenant be active at once (``None``: no limit)."""
    await limits.set_limit(rt.transitions, tenant_id=rt.tenant, limit=_checked(limit))


__all__ = ["InvalidLimit", "set_tenant_limit", "set_workflow_limit", "workflow_limit"]
