"""The GraphQL schema: queries, mutations and subscriptions over the same use cases as REST
(:mod:`apg_workflow.services`). Queries answer ``null`` for an id the caller cannot see; mutations
answer ``{…, success, errors}`` with the reasons of a refusal; subscriptions stream the events of the
process's outbox tail (the rules of the WebSocket topics)."""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator

import strawberry
from strawberry.scalars import JSON

from apg_workflow.api.graphql.context import Context
from apg_workflow.api.graphql.types import (
    MUTATION_ERRORS,
    Event,
    Execution,
    ExecutionPage,
    ExecutionResult,
    Task,
    TaskResult,
    Workflow,
    WorkflowResult,
    user_errors,
)
from apg_workflow.api.routes.executions import execution_out
from apg_workflow.api.routes.tasks import actor_of
from apg_workflow.runtime.events import Subscription, event_bus, task_topic, workflow_topic
from apg_workflow.runtime.webhooks import check_event_patterns
from apg_workflow.services import InvalidDefinition, executions, task_actions, tasks, workflows
from apg_workflow.store import NotFound
from apg_workflow.store.reads import MAX_PAGE

Info = strawberry.Info[Context, None]


def _limit(limit: int) -> int:
    return min(max(limit, 1), MAX_PAGE)


@strawberry.type
class Query:
    @strawberry.field(description="Workflows of the caller's tenant, newest first.")
    async def workflows(self, info: Info, limit: int = 50, category: str | None = None) -> list[Workflow]:
        page = await workflows.list_workflow_records(info.context.rt, category=category, limit=_limit(limit))
        return [Workflow.of(record) for record in page.items]

    @strawberry.field(description="One workflow by id (its key); null when there is none.")
    async def workflow(self, info: Info, id: strawberry.ID) -> Workflow | None:
        try:
            return Workflow.of(await workflows.get_workflow_record(info.context.rt, str(id)))
        except NotFound:
            return None

    @strawberry.field(description="One execution; null when there is none.")
    async def execution(self, info: Info, id: strawberry.ID) -> Execution | None:
        try:
            shown = await info.context.executions.load(str(id))
        except NotFound:
            return None
        return Execution.of(shown)

    @strawberry.field(description="Executions, newest first, a page at a time.")
    async def executions(
        self, info: Info, status: str | None = None, limit: int = 50, cursor: str | None = None
    ) -> ExecutionPage:
        rt = info.context.rt
        page = await executions.list_executions(rt, status=status, limit=_limit(limit), cursor=cursor)
        now = rt.clock()
        return ExecutionPage(
            items=[Execution.of_record(record, now) for record in page.items], next_cursor=page.next_cursor
        )

    @strawberry.field(description="User tasks of the caller's tenant in one status, oldest first.")
    async def tasks(self, info: Info, status: str = "open", limit: int = 50) -> list[Task]:
        page = await tasks.list_tasks(info.context.rt, status=status, limit=_limit(limit))
        return [Task.of(task) for task in page.items]


def _definition_body(name: str, definition: JSON) -> workflows.DefinitionBody:
    """A JSON workflow object named ``name``, or the text of a definition in any format."""
    if isinstance(definition, dict):
        body = {**definition, "name": name}
    elif isinstance(definition, str):
        body = {"definition": definition}
    else:
        raise InvalidDefinition("workflowDefinition must be a JSON workflow object or a definition's text")
    return workflows.read_body(json.dumps(body).encode(), "application/json", name=name)


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Create a workflow from a JSON workflow (`activities`, `flows`, …) named `name`, or "
        "from the text of a BPMN, YAML or DSL definition."
    )
    async def create_workflow(
        self, info: Info, name: str, workflow_definition: JSON, category: str | None = None
    ) -> WorkflowResult:
        try:
            body = _definition_body(name, workflow_definition)
            if category is not None:
                body = workflows.DefinitionBody(body.source, category, body.description)
            record = await workflows.create_workflow(info.context.rt, body, actor=info.context.me.username)
        except MUTATION_ERRORS as exc:
            return WorkflowResult(workflow=None, success=False, errors=user_errors(exc))
        return WorkflowResult(workflow=Workflow.of(record), success=True, errors=[])

    @strawberry.mutation(description="Start an execution of the workflow's latest version.")
    async def execute_workflow(
        self,
        info: Info,
        workflow_id: strawberry.ID,
        parameters: JSON | None = None,
        business_key: str | None = None,
    ) -> ExecutionResult:
        rt = info.context.rt
        try:
            if parameters is not None and not isinstance(parameters, dict):
                raise InvalidDefinition("parameters must be a JSON object of variables")
            started = await workflows.execute(
                rt, str(workflow_id), variables=parameters, business_key=business_key
            )
            shown = await execution_out(rt, started.execution_id)
        except MUTATION_ERRORS as exc:
            return ExecutionResult(execution=None, success=False, errors=user_errors(exc))
        return ExecutionResult(execution=Execution.of(shown), success=True, errors=[])

    @strawberry.mutation(
        description="Complete an open user task with variables (checked against its form schema)."
    )
    async def complete_task(
        self, info: Info, task_id: strawberry.ID, variables: JSON | None = None
    ) -> TaskResult:
        try:
            if variables is not None and not isinstance(variables, dict):
                raise InvalidDefinition("variables must be a JSON object")
            actor = actor_of(info.context.me)
            task = await task_actions.complete_task(info.context.rt, str(task_id), variables or {}, actor)
        except MUTATION_ERRORS as exc:
            return TaskResult(task=None, success=False, errors=user_errors(exc))
        return TaskResult(task=Task.of(task), success=True, errors=[])

    @strawberry.mutation(description="Cancel a running execution (with its jobs, timers and tasks).")
    async def cancel_execution(
        self, info: Info, id: strawberry.ID, reason: str = "cancelled"
    ) -> ExecutionResult:
        rt = info.context.rt
        try:
            await executions.cancel(rt, str(id), reason)
            shown = await execution_out(rt, str(id))
        except MUTATION_ERRORS as exc:
            return ExecutionResult(execution=None, success=False, errors=user_errors(exc))
        return ExecutionResult(execution=Execution.of(shown), success=True, errors=[])


def _checked(events: list[str] | None) -> list[str] | None:
    """The event patterns asked for (a GraphQL error names those that match no event)."""
    if events is not None:
        check_event_patterns(events)
    return events


async def _stream(sub: Subscription) -> AsyncGenerator[Event, None]:
    try:
        async for event in sub:
            yield Event.of(event)
    finally:
        sub.close()


@strawberry.type(name="Subscription")
class LiveEvents:
    @strawberry.subscription(
        description="Events of one execution in order; with `replay`, those it already had first."
    )
    async def execution_events(
        self, info: Info, execution_id: strawberry.ID, events: list[str] | None = None, replay: bool = False
    ) -> AsyncGenerator[Event, None]:
        context = info.context
        await executions.get(context.rt, str(execution_id))  # NotFound: an error, not a silent stream
        bus = event_bus(context.app_runtime)
        names = _checked(events)
        sub = await bus.subscribe_execution(context.me.tenant_id, str(execution_id), names, replay=replay)
        async for event in _stream(sub):
            yield event

    @strawberry.subscription(
        description="Events of my user tasks: those whose assignee or candidate users name me, or whose "
        "candidate groups hold one of my groups."
    )
    async def task_events(self, info: Info, events: list[str] | None = None) -> AsyncGenerator[Event, None]:
        me = info.context.me
        sub = event_bus(info.context.app_runtime).subscribe(
            me.tenant_id, task_topic((me.username, me.user_id), me.groups, _checked(events))
        )
        async for event in _stream(sub):
            yield event

    @strawberry.subscription(
        description="Definition events (workflow.*) of every workflow, or with `workflowId` that "
        "workflow's and those of its executions."
    )
    async def workflow_events(
        self, info: Info, workflow_id: strawberry.ID | None = None, events: list[str] | None = None
    ) -> AsyncGenerator[Event, None]:
        me = info.context.me
        key = str(workflow_id) if workflow_id is not None else None
        sub = event_bus(info.context.app_runtime).subscribe(
            me.tenant_id, workflow_topic(key, _checked(events))
        )
        async for event in _stream(sub):
            yield event


schema = strawberry.Schema(query=Query, mutation=Mutation, subscription=LiveEvents)

__all__ = ["schema"]
