"""``/tasks``: the user tasks of the caller's tenant; complete one with variables."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from apg_workflow.api.deps import RuntimeDep
from apg_workflow.api.pagination import Cursor, Limit, PageOf, page_of
from apg_workflow.services import tasks as service
from apg_workflow.store import TaskRecord

router = APIRouter(prefix="/tasks", tags=["tasks"])


class TaskOut(BaseModel):
    id: str
    execution_id: str
    element_id: str
    name: str | None = None
    assignee: str | None = None
    candidate_users: list[str]
    candidate_groups: list[str]
    due_at: datetime | None = None
    priority: int | None = None
    form: dict[str, Any] | None = None
    variables: dict[str, Any]
    status: str
    created_at: datetime
    completed_at: datetime | None = None


class CompleteRequest(BaseModel):
    variables: dict[str, Any] = Field(default_factory=dict)


def task_out(task: TaskRecord) -> TaskOut:
    return TaskOut(
        id=task.id,
        execution_id=task.execution_id,
        element_id=task.element_id,
        name=task.name,
        assignee=task.assignee,
        candidate_users=list(task.candidate_users),
        candidate_groups=list(task.candidate_groups),
        due_at=task.due_at,
        priority=task.priority,
        form=task.form,
        variables=task.variables,
        status=task.status,
        created_at=task.created_at,
        completed_at=task.completed_at,
    )


@router.get("", response_model=PageOf[TaskOut], summary="List user tasks")
async def list_tasks(
    rt: RuntimeDep,
    status: Annotated[str, Query(pattern="^(open|completed|cancelled)$")] = "open",
    limit: Limit = 50,
    cursor: Cursor = None,
) -> PageOf[TaskOut]:
    return page_of(await service.list_tasks(rt, status=status, limit=limit, cursor=cursor), task_out)


@router.get("/{task_id:path}", response_model=TaskOut, summary="Get a user task")
async def get_task(task_id: str, rt: RuntimeDep) -> TaskOut:
    return task_out(await service.get_task(rt, task_id))


@router.post("/{task_id:path}/complete", response_model=TaskOut, summary="Complete a user task")
async def complete_task(task_id: str, body: CompleteRequest, rt: RuntimeDep) -> TaskOut:
    return task_out(await service.complete_task(rt, task_id, body.variables))
