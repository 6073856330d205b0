"""User tasks: list and complete. Completing a task twice (a client retrying) is not an error."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from apg_workflow.engine.commands import CompleteUserTask
from apg_workflow.runtime.context import Runtime
from apg_workflow.services.errors import Conflict
from apg_workflow.store import CommandRejected, Page, TaskRecord, reads


async def list_tasks(
    rt: Runtime, *, status: str = "open", limit: int = 50, cursor: str | None = None
) -> Page[TaskRecord]:
    return await rt.db.read(
        lambda conn: reads.list_tasks(conn, rt.tenant, status=status, limit=limit, cursor=cursor)
    )


async def get_task(rt: Runtime, task_id: str) -> TaskRecord:
    return await rt.db.read(lambda conn: reads.get_task(conn, rt.tenant, task_id))


async def complete_task(rt: Runtime, task_id: str, variables: Mapping[str, Any] | None = None) -> TaskRecord:
    """Complete an open task with ``variables``; returns the task as it is now."""
    task = await get_task(rt, task_id)
    if task.status == "open":
        command = CompleteUserTask(task_id=task_id, variables=dict(variables or {}))
        try:
            await rt.transitions.apply(task.execution_id, command)
        except CommandRejected:
            task = await get_task(rt, task_id)  # completed meanwhile by a retry of this request?
            if task.status != "completed":
                raise
        task = await get_task(rt, task_id)
    if task.status == "cancelled":
        raise Conflict(f"user task '{task_id}' was cancelled and cannot be completed")
    return task


__all__ = ["complete_task", "get_task", "list_tasks"]
