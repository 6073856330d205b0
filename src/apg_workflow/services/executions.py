"""Executions: start, inspect, cancel; messages and signals from outside."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from apg_workflow.engine.commands import Cancel
from apg_workflow.runtime.context import Runtime
from apg_workflow.store import (
    ExecutionRecord,
    Page,
    Started,
    broadcast_signal,
    correlate_message,
    reads,
    start_execution,
)


async def start(
    rt: Runtime,
    key: str,
    *,
    variables: Mapping[str, Any] | None = None,
    business_key: str | None = None,
    request_id: str | None = None,
    version: int | None = None,
) -> Started:
    """Start the latest (or the given) version of workflow ``key``. A business key or request id
    seen before returns the execution started then (``created`` is false)."""
    return await start_execution(
        rt.transitions,
        tenant_id=rt.tenant,
        key=key,
        version=version,
        variables=variables,
        business_key=business_key,
        request_id=request_id,
    )


async def show(rt: Runtime, execution_id: str) -> dict[str, Any]:
    """``{"id", "status", "variables", "completed", "active", "error"}``: the object ``run --json``
    prints, plus the id."""
    summary = await rt.db.read(lambda conn: reads.execution_summary(conn, rt.tenant, execution_id))
    return {"id": execution_id, **summary}


async def get(rt: Runtime, execution_id: str) -> ExecutionRecord:
    return await rt.db.read(lambda conn: reads.get_execution(conn, rt.tenant, execution_id))


async def list_executions(
    rt: Runtime, *, status: str | None = None, limit: int = 50, cursor: str | None = None
) -> Page[ExecutionRecord]:
    return await rt.db.read(
        lambda conn: reads.list_executions(conn, rt.tenant, status=status, limit=limit, cursor=cursor)
    )


async def history(
    rt: Runtime, execution_id: str, *, after: int = 0, limit: int = 500
) -> list[dict[str, Any]]:
    await get(rt, execution_id)
    return await rt.db.read(
        lambda conn: reads.execution_history(conn, rt.tenant, execution_id, after=after, limit=limit)
    )


async def cancel(rt: Runtime, execution_id: str, reason: str = "cancelled") -> str:
    """Cancel a running execution (its jobs, timers, tasks and called executions with it)."""
    await get(rt, execution_id)
    outcome = await rt.transitions.apply(execution_id, Cancel(reason=reason))
    return outcome.status


async def correlate(
    rt: Runtime,
    name: str,
    *,
    correlation_key: str | None = None,
    variables: Mapping[str, Any] | None = None,
    request_id: str | None = None,
) -> str | None:
    """Deliver message ``name``; the receiving execution, or ``None`` when it was buffered."""
    return await correlate_message(
        rt.transitions,
        tenant_id=rt.tenant,
        name=name,
        correlation_key=correlation_key,
        variables=variables,
        request_id=request_id,
    )


async def broadcast(rt: Runtime, name: str, *, variables: Mapping[str, Any] | None = None) -> int:
    """Broadcast signal ``name``; how many executions received it or were started by it."""
    return await broadcast_signal(rt.transitions, tenant_id=rt.tenant, name=name, variables=variables)


__all__ = ["broadcast", "cancel", "correlate", "get", "history", "list_executions", "show", "start"]
