"""``/workflows``: create (any format), read, update (a new version), delete, versions and their
comparison, validation without saving, and ``execute``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Query, Request, Response, status
from pydantic import BaseModel, Field

from apg_workflow.api.deps import CallerDep, RuntimeDep
from apg_workflow.api.pagination import Cursor, Limit, PageOf, page_of
from apg_workflow.api.problems import problem_of
from apg_workflow.api.routes.executions import ExecutionOut, execution_out
from apg_workflow.services import workflows as service
from apg_workflow.store.workflows import VersionRecord, WorkflowRecord

router = APIRouter(prefix="/workflows", tags=["workflows"])

# Versions are stored as 32-bit integers: a larger number names no version, and is refused as such.
MAX_VERSION = 2**31 - 1
VersionQuery = Annotated[int, Query(ge=1, le=MAX_VERSION)]

_TEXT = {"schema": {"type": "string"}}
DEFINITION_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "The definition: the JSON workflow (`name`, `description`, `activities`, `flows`), "
        '`{"definition": "<text>", "format": "bpmn|json|yaml|dsl", "category": …}`, or BPMN XML, YAML or '
        "APG DSL with the matching content type.",
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "name": {"type": "string"},
                        "description": {"type": "string"},
                        "category": {"type": "string"},
                        "activities": {"type": "array", "items": {"type": "object"}},
                        "flows": {"type": "array", "items": {"type": "object"}},
                        "definition": {"type": ["string", "object"]},
                        "format": {"type": "string", "enum": list(service.FORMATS)},
                    },
                },
                "example": {
                    "name": "Approve expense",
                    "activities": [
                        {"id": "start", "type": "startEvent"},
                        {"id": "review", "type": "userTask", "name": "Review"},
                        {"id": "end", "type": "endEvent"},
                    ],
                    "flows": [{"from": "start", "to": "review"}, {"from": "review", "to": "end"}],
                },
            },
            "application/xml": _TEXT,
            "application/bpmn+xml": _TEXT,
            "application/yaml": _TEXT,
            "text/vnd.apg-dsl": _TEXT,
            "text/plain": _TEXT,
        },
    }
}


class WorkflowOut(BaseModel):
    id: str = Field(description="The workflow key (its main process id); use it in URLs.")
    key: str
    version: int = Field(description="The latest version.")
    name: str | None = None
    description: str | None = None
    category: str | None = None
    status: str
    created_at: datetime
    updated_at: datetime


class VersionOut(BaseModel):
    version: int
    checksum: str
    main_process: str
    created_at: datetime


class VersionDetail(VersionOut):
    sources: list[dict[str, str]]


class Comparison(BaseModel):
    workflow_id: str
    base: int
    other: int
    same: bool
    added: list[str]
    removed: list[str]
    changed: list[str]


class ValidationProblem(BaseModel):
    code: str
    severity: str
    message: str
    element_id: str | None = None
    line: int | None = None
    column: int | None = None


class ValidationOut(BaseModel):
    valid: bool
    problems: list[ValidationProblem]


class ExecuteRequest(BaseModel):
    variables: dict[str, Any] = Field(default_factory=dict)
    business_key: str | None = Field(None, max_length=255)
    version: int | None = Field(
        None, ge=1, le=MAX_VERSION, description="A version to run; the latest by default."
    )


def workflow_out(record: WorkflowRecord) -> WorkflowOut:
    return WorkflowOut(
        id=record.key,
        key=record.key,
        version=record.latest_version,
        name=record.name,
        description=record.description,
        category=record.category,
        status=record.status,
        created_at=record.created_at,
        updated_at=record.updated_at,
    )


def _version(record: VersionRecord) -> VersionOut:
    return VersionOut(
        version=record.version,
        checksum=record.checksum,
        main_process=record.main_process,
        created_at=record.created_at,
    )


async def _body(request: Request) -> service.DefinitionBody:
    return service.read_body(await request.body(), request.headers.get("content-type"))


@router.get("", response_model=PageOf[WorkflowOut], summary="List workflows")
async def list_workflows(
    rt: RuntimeDep,
    limit: Limit = 50,
    cursor: Cursor = None,
    category: Annotated[str | None, Query(max_length=100)] = None,
    search: Annotated[str | None, Query(max_length=200, description="Part of the name.")] = None,
) -> PageOf[WorkflowOut]:
    page = await service.list_workflow_records(
        rt, category=category, search=search, limit=limit, cursor=cursor
    )
    return page_of(page, workflow_out)


@router.post(
    "",
    response_model=WorkflowOut,
    status_code=status.HTTP_201_CREATED,
    summary="Create a workflow",
    openapi_extra=DEFINITION_BODY,
    responses={409: {"description": "A workflow with that key exists"}, 415: {}, 422: {}},
)
async def create_workflow(
    request: Request, rt: RuntimeDep, caller: CallerDep, response: Response
) -> WorkflowOut:
    record = await service.create_workflow(rt, await _body(request), actor=caller.username)
    response.headers["Location"] = f"{request.url.path.rstrip('/')}/{record.key}"
    return workflow_out(record)


@router.post(
    "/validate",
    response_model=ValidationOut,
    summary="Validate a definition without saving it",
    openapi_extra=DEFINITION_BODY,
    responses={415: {}, 422: {}},
)
async def validate_workflow(request: Request, rt: RuntimeDep) -> ValidationOut:
    problems = service.validate_definition(await _body(request))
    return ValidationOut(
        valid=not service.errors_of(problems),
        problems=[ValidationProblem(**problem_of(p)) for p in problems],
    )


@router.get("/{workflow_id}", response_model=WorkflowOut, summary="Get a workflow")
async def get_workflow(workflow_id: str, rt: RuntimeDep) -> WorkflowOut:
    return workflow_out(await service.get_workflow_record(rt, workflow_id))


@router.put(
    "/{workflow_id}",
    response_model=WorkflowOut,
    summary="Deploy a new version of a workflow (nothing changes when the definition is the same)",
    openapi_extra=DEFINITION_BODY,
    responses={404: {}, 415: {}, 422: {}},
)
async def update_workflow(
    workflow_id: str, request: Request, rt: RuntimeDep, caller: CallerDep
) -> WorkflowOut:
    record, _ = await service.update_workflow(rt, workflow_id, await _body(request), actor=caller.username)
    return workflow_out(record)


@router.delete("/{workflow_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Delete a workflow")
async def delete_workflow(workflow_id: str, rt: RuntimeDep, caller: CallerDep) -> None:
    await service.delete_workflow(rt, workflow_id, actor=caller.username)


@router.get("/{workflow_id}/versions", response_model=list[VersionOut], summary="A workflow's versions")
async def list_versions(workflow_id: str, rt: RuntimeDep) -> list[VersionOut]:
    return [_version(v) for v in await service.versions(rt, workflow_id)]


@router.post(
    "/{workflow_id}/versions",
    response_model=WorkflowOut,
    status_code=status.HTTP_201_CREATED,
    summary="Deploy a version (the same as PUT /workflows/{id})",
    openapi_extra=DEFINITION_BODY,
    responses={404: {}, 415: {}, 422: {}},
)
async def deploy_version(
    workflow_id: str, request: Request, rt: RuntimeDep, caller: CallerDep
) -> WorkflowOut:
    record, _ = await service.update_workflow(rt, workflow_id, await _body(request), actor=caller.username)
    return workflow_out(record)


@router.get(
    "/{workflow_id}/versions/{version}", response_model=VersionDetail, summary="One version's sources"
)
async def get_version(
    workflow_id: str, version: Annotated[int, Path(ge=1, le=MAX_VERSION)], rt: RuntimeDep
) -> VersionDetail:
    found = await service.version(rt, workflow_id, version)
    return VersionDetail(**_version(found).model_dump(), sources=[s.to_json() for s in found.sources])


@router.get(
    "/{workflow_id}/compare",
    response_model=Comparison,
    summary="What changed between two versions",
)
async def compare(
    workflow_id: str,
    rt: RuntimeDep,
    base: VersionQuery,
    other: VersionQuery,
) -> Comparison:
    return Comparison(**await service.compare_versions(rt, workflow_id, base, other))


@router.post(
    "/{workflow_id}/execute",
    response_model=ExecutionOut,
    status_code=status.HTTP_201_CREATED,
    summary="Start an execution",
)
async def execute(
    workflow_id: str,
    body: ExecuteRequest,
    rt: RuntimeDep,
    response: Response,
    idempotency_key: Annotated[str | None, Header(max_length=255)] = None,
) -> ExecutionOut:
    started = await service.execute(
        rt,
        workflow_id,
        variables=body.variables,
        business_key=body.business_key,
        request_id=idempotency_key,
        version=body.version,
    )
    if not started.created:
        response.status_code = status.HTTP_200_OK
    return await execution_out(rt, started.execution_id)
