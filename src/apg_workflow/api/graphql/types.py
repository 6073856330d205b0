"""The GraphQL object types, built from the same records and REST models as the REST answers, so
both APIs say the same things about a workflow, an execution or a task."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from strawberry.scalars import JSON

from apg_workflow.api.graphql.context import Context
from apg_workflow.api.problems import problem_of
from apg_workflow.api.routes.executions import ExecutionOut, ExecutionSummaryOut, summary_out
from apg_workflow.api.routes.tasks import task_out
from apg_workflow.api.routes.workflows import workflow_out
from apg_workflow.runtime.events import event_message
from apg_workflow.services import Conflict, InvalidDefinition, ServiceError
from apg_workflow.services.task_actions import InvalidVariables, NotPermitted
from apg_workflow.store import CommandRejected, ExecutionRecord, NotFound, StoreError, TaskRecord
from apg_workflow.store.outbox_reads import OutboxEvent
from apg_workflow.store.workflows import WorkflowRecord


@strawberry.type(description="A workflow: its latest version and how its executions went.")
class Workflow:
    id: strawberry.ID = strawberry.field(description="The workflow key (its main process id).")
    key: str
    name: str | None
    description: str | None
    category: str | None
    status: str
    version: int = strawberry.field(description="The latest version.")
    created_at: datetime
    updated_at: datetime
    ref: strawberry.Private[int]

    @classmethod
    def of(cls, record: WorkflowRecord) -> Workflow:
        return cls(**workflow_out(record).model_dump(), ref=record.id)

    @strawberry.field(description="Top-level executions started, of every version.")
    async def execution_count(self, info: strawberry.Info[Context, None]) -> int:
        count, _ = await info.context.stats.load(self.ref)
        return count

    @strawberry.field(description="Share of the finished executions that completed (null: none finished).")
    async def success_rate(self, info: strawberry.Info[Context, None]) -> float | None:
        _, rate = await info.context.stats.load(self.ref)
        return rate


@strawberry.type(description="A run of a workflow version.")
class Execution:
    id: strawberry.ID
    workflow_id: str = strawberry.field(description="The workflow key.")
    workflow_version: int
    status: str
    business_key: str | None
    parent_id: str | None
    error: str | None
    started_at: datetime
    updated_at: datetime
    completed_at: datetime | None
    duration_seconds: float | None = strawberry.field(
        name="duration", description="Seconds from start to end (to now while it runs)."
    )

    @classmethod
    def of(cls, shown: ExecutionSummaryOut) -> Execution:
        return cls(**shown.model_dump(include=set(ExecutionSummaryOut.model_fields)))

    @classmethod
    def of_record(cls, record: ExecutionRecord, now: datetime) -> Execution:
        return cls.of(summary_out(record, now))

    async def _detail(self, info: strawberry.Info[Context, None]) -> ExecutionOut:
        return await info.context.executions.load(str(self.id))

    @strawberry.field(description="Share of the elements completed; 1.0 once it ended.")
    async def progress(self, info: strawberry.Info[Context, None]) -> float:
        return (await self._detail(info)).progress

    @strawberry.field(description="The variables of its root scope.")
    async def variables(self, info: strawberry.Info[Context, None]) -> JSON:
        return (await self._detail(info)).variables

    @strawberry.field(description="Elements completed, in order.")
    async def completed_elements(self, info: strawberry.Info[Context, None]) -> list[str]:
        return (await self._detail(info)).completed_elements

    @strawberry.field(description="Elements active now.")
    async def active_elements(self, info: strawberry.Info[Context, None]) -> list[str]:
        return (await self._detail(info)).active_elements


@strawberry.type
class ExecutionPage:
    items: list[Execution]
    next_cursor: str | None = strawberry.field(description="Pass it back as `cursor` for the next page.")


@strawberry.type(description="A user task: work for a person.")
class Task:
    id: strawberry.ID
    execution_id: str
    element_id: str
    name: str | None
    assignee: str | None
    candidate_users: list[str]
    candidate_groups: list[str]
    due_at: datetime | None
    priority: int | None
    form: JSON | None
    variables: JSON
    status: str
    created_at: datetime
    completed_at: datetime | None

    @classmethod
    def of(cls, task: TaskRecord) -> Task:
        return cls(**task_out(task).model_dump())


@strawberry.type(description="Why a mutation did not do what was asked.")
class UserError:
    code: str = strawberry.field(
        description="not-found, conflict, forbidden, invalid-variables, bad-request, or a validation "
        "code of the definition."
    )
    message: str
    field: list[str] | None = strawberry.field(
        default=None, description="For invalid-variables: the path of the variable at fault."
    )
    element_id: str | None = None
    line: int | None = None
    column: int | None = None


@strawberry.type
class WorkflowResult:
    workflow: Workflow | None
    success: bool
    errors: list[UserError]


@strawberry.type
class ExecutionResult:
    execution: Execution | None
    success: bool
    errors: list[UserError]


@strawberry.type
class TaskResult:
    task: Task | None
    success: bool
    errors: list[UserError]


@strawberry.type(description="A live event (the same as on the /ws WebSocket).")
class Event:
    id: int = strawberry.field(description="The outbox id: increasing within an execution.")
    event: str
    execution_id: str | None
    workflow_key: str | None
    data: JSON
    created_at: datetime

    @classmethod
    def of(cls, event: OutboxEvent) -> Event:
        message = event_message(event)
        return cls(
            id=event.id,
            event=event.event,
            execution_id=event.execution_id,
            workflow_key=event.workflow_key,
            data=message["data"],
            created_at=event.created_at,
        )


MUTATION_ERRORS = (ServiceError, StoreError)


def user_errors(exc: Exception) -> list[UserError]:
    """A refusal of the use cases as the ``errors`` of a mutation's result."""
    if isinstance(exc, InvalidDefinition):
        found = [_problem(problem_of(p)) for p in exc.problems]
        return found or [UserError(code="invalid-definition", message=exc.message)]
    if isinstance(exc, InvalidVariables):
        return [
            UserError(code="invalid-variables", message=e.message, field=[str(p) for p in e.loc])
            for e in exc.errors
        ]
    if isinstance(exc, NotPermitted):
        return [UserError(code="forbidden", message=exc.message)]
    if isinstance(exc, NotFound):
        return [UserError(code="not-found", message=str(exc))]
    if isinstance(exc, Conflict | CommandRejected):
        return [UserError(code="conflict", message=str(exc))]
    return [UserError(code="bad-request", message=str(exc))]


def _problem(problem: dict[str, Any]) -> UserError:
    """A definition problem (``problem_of``'s shape, as REST answers it) as a user error."""
    return UserError(**{key: problem[key] for key in ("code", "message", "element_id", "line", "column")})


__all__ = [
    "MUTATION_ERRORS",
    "Event",
    "Execution",
    "ExecutionPage",
    "ExecutionResult",
    "Task",
    "TaskResult",
    "UserError",
    "Workflow",
    "WorkflowResult",
    "user_errors",
]
