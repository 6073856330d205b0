"""``/tasks``: the user tasks of the caller's tenant — mine, those I may claim, by execution or
element — and claim, unclaim, assign and complete (variables checked against the task's form)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import AfterValidator, BaseModel, Field

from apg_workflow.api.deps import Caller, CallerDep, RuntimeDep
from apg_workflow.api.pagination import Cursor, Limit, PageOf, page_of
from apg_workflow.api.problems import ProblemError
from apg_workflow.services import queries, task_actions
from apg_workflow.services import tasks as service
from apg_workflow.services.task_actions import Actor, InvalidVariables, NotPermitted
from apg_workflow.store import TaskRecord
from apg_workflow.store.execution_queries import TaskFilter

router = APIRouter(prefix="/tasks", tags=["tasks"])


def finite_json(value: Any) -> Any:
    """Refuse NaN and Infinity, which Python's JSON reader accepts but JSON and the store do not."""
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("numbers must be finite: NaN and Infinity are not JSON")
    for item in value.values() if isinstance(value, dict) else value if isinstance(value, list) else ():
        finite_json(item)
    return value


Variables = Annotated[dict[str, Any], AfterValidator(finite_json)]

# Roles that may act on tasks other people hold (assign them, take them back, complete them).
OVERRIDE_ROLES = frozenset({"admin", "operator"})
_ACTION_ERRORS: dict[int | str, dict[str, Any]] = {
    403: {"description": "The caller may not do this to the task"},
    404: {"description": "No such task in the caller's tenant"},
    409: {"description": "The task is not open, or someone else holds it"},
}


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
    form: dict[str, Any] | None = Field(
        None, description='`{"key", "schema"}`: a stored form or a JSON Schema.'
    )
    variables: dict[str, Any]
    status: str
    created_at: datetime
    completed_at: datetime | None = None


class CompleteRequest(BaseModel):
    variables: Variables = Field(default_factory=dict)


class AssignRequest(BaseModel):
    assignee: str | None = Field(max_length=255, description="A user name; `null` gives the task back.")


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


def actor_of(caller: Caller) -> Actor:
    return Actor(caller.username, caller.groups, override=bool(OVERRIDE_ROLES & set(caller.roles)))


@contextmanager
def task_problems() -> Iterator[None]:
    """The refusals of task actions as problems: 403 for who may not, 422 with the fields at fault."""
    try:
        yield
    except NotPermitted as exc:
        raise ProblemError(403, "forbidden", exc.message) from None
    except InvalidVariables as exc:
        errors = [{"loc": ["body", "variables", *e.loc], "message": e.message} for e in exc.errors]
        raise ProblemError(
            422,
            "validation-error",
            exc.message,
            title="Variables do not match the task's form",
            errors=errors,
        ) from None


@router.get("", response_model=PageOf[TaskOut], summary="List user tasks, oldest first")
async def list_tasks(
    rt: RuntimeDep,
    caller: CallerDep,
    status: Annotated[str, Query(pattern="^(open|completed|cancelled)$")] = "open",
    assignee: Annotated[
        str | None, Query(max_length=255, description="`me`, or a user name: tasks that user holds.")
    ] = None,
    candidate: Annotated[
        Literal["me"] | None,
        Query(
            description="`me`: tasks I may claim (I am a candidate user, or one of my groups is a "
            "candidate group) and nobody else holds."
        ),
    ] = None,
    execution_id: Annotated[str | None, Query(max_length=255)] = None,
    element_id: Annotated[str | None, Query(max_length=255)] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> PageOf[TaskOut]:
    chosen = TaskFilter(
        status=status,
        assignee=caller.username if assignee == "me" else assignee,
        candidate=caller.username if candidate == "me" else None,
        groups=caller.groups,
        execution_id=execution_id,
        element_id=element_id,
    )
    return page_of(await queries.find_tasks(rt, chosen, limit=limit, cursor=cursor), task_out)


@router.post(
    "/{task_id:path}/claim", response_model=TaskOut, summary="Claim a user task", responses=_ACTION_ERRORS
)
async def claim_task(task_id: str, rt: RuntimeDep, caller: CallerDep) -> TaskOut:
    with task_problems():
        return task_out(await task_actions.claim_task(rt, task_id, actor_of(caller)))


@router.post(
    "/{task_id:path}/unclaim",
    response_model=TaskOut,
    summary="Give a claimed user task back to its candidates",
    responses=_ACTION_ERRORS,
)
async def unclaim_task(task_id: str, rt: RuntimeDep, caller: CallerDep) -> TaskOut:
    with task_problems():
        return task_out(await task_actions.unclaim_task(rt, task_id, actor_of(caller)))


@router.post(
    "/{task_id:path}/assign", response_model=TaskOut, summary="Assign a user task", responses=_ACTION_ERRORS
)
async def assign_task(task_id: str, body: AssignRequest, rt: RuntimeDep, caller: CallerDep) -> TaskOut:
    with task_problems():
        return task_out(await task_actions.assign_task(rt, task_id, body.assignee, actor_of(caller)))


@router.post(
    "/{task_id:path}/complete",
    response_model=TaskOut,
    summary="Complete a user task",
    responses={**_ACTION_ERRORS, 422: {"description": "The variables do not match the task's form schema"}},
)
async def complete_task(task_id: str, body: CompleteRequest, rt: RuntimeDep, caller: CallerDep) -> TaskOut:
    with task_problems():
        return task_out(await task_actions.complete_task(rt, task_id, body.variables, actor_of(caller)))


@router.get("/{task_id:path}", response_model=TaskOut, summary="Get a user task")
async def get_task(task_id: str, rt: RuntimeDep) -> TaskOut:
    return task_out(await service.get_task(rt, task_id))
