"""REST v2, ``/api/v2/workflows``: ``bulk`` (create, update, delete or deploy many workflows, each
with its own result, optionally all-or-nothing) and ``execute-batch`` (up to 1,000 executions in one
call, each with its own result). Both answer 200 with per-item results; an item's error is a
problem document (``type``, ``title``, ``status``, ``detail``) of its own."""

from __future__ import annotations

from http import HTTPStatus
from typing import Annotated, Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from apg_workflow.api.deps import CallerDep, RuntimeDep
from apg_workflow.api.problems import TYPE_BASE, problem_of
from apg_workflow.api.routes.workflows import ValidationProblem, WorkflowOut, workflow_out
from apg_workflow.services import Conflict, InvalidDefinition, ServiceError, bulk
from apg_workflow.services.workflows import UnsupportedMediaType
from apg_workflow.store import CommandRejected, NotFound, Started, StoreError

router = APIRouter(prefix="/workflows", tags=["workflows v2"])


class ItemProblem(BaseModel):
    """Why one item failed, as the problem document its single-item request would have answered."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[ValidationProblem] | None = Field(
        None, description="For invalid definitions: what is wrong."
    )


def item_problem(exc: Exception) -> ItemProblem:
    status, kind = _classify(exc)
    errors = (
        [ValidationProblem(**problem_of(p)) for p in exc.problems]
        if isinstance(exc, InvalidDefinition)
        else None
    )
    detail = str(exc) if status != 500 else "an unexpected error occurred; it has been logged"
    return ItemProblem(
        type=TYPE_BASE + kind, title=HTTPStatus(status).phrase, status=status, detail=detail, errors=errors
    )


def _classify(exc: Exception) -> tuple[int, str]:
    if isinstance(exc, NotFound):
        return 404, "not-found"
    if isinstance(exc, InvalidDefinition):
        return 422, "invalid-definition"
    if isinstance(exc, UnsupportedMediaType):
        return 415, "unsupported-media-type"
    if isinstance(exc, Conflict | CommandRejected):
        return 409, "conflict"
    if isinstance(exc, ServiceError | StoreError):
        return 400, "bad-request"
    return 500, "internal"


WorkflowId = Annotated[str, Field(min_length=1, max_length=255, description="The workflow key.")]
Definition = Annotated[
    dict[str, Any] | str,
    Field(description="The JSON workflow (`name`, `activities`, `flows`) or a definition's text."),
]
Format = Annotated[
    Literal["bpmn", "json", "yaml", "dsl"] | None,
    Field(description="The text's format; detected when absent."),
]
Category = Annotated[str | None, Field(max_length=100)]


class _Op(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CreateOperation(_Op):
    """A new workflow; its key is the definition's process id (409 when it exists)."""

    op: Literal["create"]
    definition: Definition
    format: Format = None
    category: Category = None


class UpdateOperation(_Op):
    """A new version of ``workflow_id`` (nothing changes when the definition is the same)."""

    op: Literal["update"]
    workflow_id: WorkflowId
    definition: Definition
    format: Format = None
    category: Category = None


class DeployOperation(_Op):
    """Create the workflow, or deploy a new version when it exists; ``workflow_id``, when given,
    must be the definition's key."""

    op: Literal["deploy"]
    workflow_id: WorkflowId | None = None
    definition: Definition
    format: Format = None
    category: Category = None


class DeleteOperation(_Op):
    """Hide ``workflow_id``: it cannot be started any more."""

    op: Literal["delete"]
    workflow_id: WorkflowId


BulkOperation = Annotated[
    CreateOperation | UpdateOperation | DeployOperation | DeleteOperation, Field(discriminator="op")
]


class BulkRequest(BaseModel):
    operations: list[BulkOperation] = Field(min_length=1, max_length=bulk.MAX_OPERATIONS)
    atomic: bool = Field(
        False, description="All or nothing: when any operation fails, none is kept (`committed` false)."
    )


class BulkItem(BaseModel):
    index: int = Field(description="The operation's position in the request, from 0.")
    op: str
    status: Literal["succeeded", "failed", "rolled_back"] = Field(
        description="rolled_back: it worked, but another operation of an atomic request failed."
    )
    workflow: WorkflowOut | None = Field(None, description="The workflow (for delete: as it was).")
    new_version: bool | None = Field(None, description="Whether a version was deployed.")
    error: ItemProblem | None = None


class BulkResult(BaseModel):
    atomic: bool
    committed: bool = Field(description="False when an atomic request was rolled back.")
    succeeded: int
    failed: int
    results: list[BulkItem]


class BatchExecution(BaseModel):
    workflow_id: str = Field(min_length=1, max_length=255)
    variables: dict[str, Any] = Field(default_factory=dict)
    business_key: str | None = Field(
        None, max_length=255, description="A key seen before answers with the execution it started."
    )


class ExecuteBatchRequest(BaseModel):
    executions: list[BatchExecution] = Field(min_length=1, max_length=bulk.MAX_EXECUTIONS)


class BatchItem(BaseModel):
    index: int
    status: Literal["started", "existing", "failed"] = Field(
        description="existing: the business key was seen before; the execution started then."
    )
    execution_id: str | None = None
    execution_status: str | None = None
    error: ItemProblem | None = None


class ExecuteBatchResult(BaseModel):
    started: int
    existing: int
    failed: int
    results: list[BatchItem]


def _bulk_item(operation: BulkOperation, result: bulk.ItemResult) -> BulkItem:
    done: bulk.Done | None = result.done
    return BulkItem(
        index=result.index,
        op=operation.op,
        status=result.status,
        workflow=workflow_out(done.workflow) if done is not None else None,
        new_version=done.new_version if done is not None else None,
        error=item_problem(result.error) if result.error is not None else None,
    )


@router.post(
    "/bulk",
    response_model=BulkResult,
    summary="Create, update, delete or deploy many workflows (per-item results; optionally atomic)",
    responses={422: {}},
)
async def run_bulk(body: BulkRequest, rt: RuntimeDep, caller: CallerDep) -> BulkResult:
    operations = [bulk.Operation(**o.model_dump()) for o in body.operations]
    outcome = await bulk.run_bulk(rt, operations, atomic=body.atomic, actor=caller.username)
    items = [_bulk_item(body.operations[r.index], r) for r in outcome.results]
    return BulkResult(
        atomic=body.atomic,
        committed=outcome.committed,
        succeeded=sum(i.status == "succeeded" for i in items),
        failed=sum(i.status == "failed" for i in items),
        results=items,
    )


def _batch_item(result: bulk.ItemResult) -> BatchItem:
    if result.error is not None:
        return BatchItem(index=result.index, status="failed", error=item_problem(result.error))
    started: Started = result.done
    return BatchItem(
        index=result.index,
        status="started" if started.created else "existing",
        execution_id=started.execution_id,
        execution_status=started.status,
    )


@router.post(
    "/execute-batch",
    response_model=ExecuteBatchResult,
    summary="Start up to 1,000 executions (per-item results; more than 1,000 is a 422 problem)",
    responses={422: {}},
)
async def execute_batch(body: ExecuteBatchRequest, rt: RuntimeDep) -> ExecuteBatchResult:
    starts = [bulk.BatchStart(e.workflow_id, e.variables, e.business_key) for e in body.executions]
    items = [_batch_item(r) for r in await bulk.execute_batch(rt, starts)]
    return ExecuteBatchResult(
        started=sum(i.status == "started" for i in items),
        existing=sum(i.status == "existing" for i in items),
        failed=sum(i.status == "failed" for i in items),
        results=items,
    )
