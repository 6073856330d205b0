"""``/templates``: the library of ready-made workflows, and ``create-workflow`` to deploy one."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response, status
from pydantic import BaseModel, Field

from apg_workflow.api.deps import CallerDep, RuntimeDep
from apg_workflow.api.routes.workflows import WorkflowOut, workflow_out
from apg_workflow.services import templates as service

router = APIRouter(prefix="/templates", tags=["templates"])

KEY_PATTERN = r"^[A-Za-z_][A-Za-z0-9_.-]*$"


class TemplateSummary(BaseModel):
    id: str
    name: str
    description: str
    category: str
    tags: list[str]


class TemplateOut(TemplateSummary):
    variables: dict[str, Any] = Field(description="Start variables that make a first run work.")
    setup: str | None = Field(None, description="What to prepare before running it.")
    definition: dict[str, Any] = Field(description="The JSON workflow (`activities`, `flows`) it deploys.")


class TemplateList(BaseModel):
    items: list[TemplateSummary]
    next_cursor: str | None = Field(None, description="Always null: the library fits on one page.")


class CreateFromTemplate(BaseModel):
    name: str | None = Field(
        None, min_length=1, max_length=200, description="The workflow's name; the template's by default."
    )
    key: str | None = Field(
        None,
        min_length=1,
        max_length=200,
        pattern=KEY_PATTERN,
        description="The workflow key (process id). By default the template's, or made from `name`.",
    )


def _summary(template: service.Template) -> TemplateSummary:
    return TemplateSummary(
        id=template.id,
        name=template.name,
        description=template.description,
        category=template.category,
        tags=list(template.tags),
    )


@router.get("", response_model=TemplateList, summary="List the workflow templates")
async def list_templates(
    _: RuntimeDep,
    category: Annotated[str | None, Query(max_length=100, description="Only this category.")] = None,
) -> TemplateList:
    return TemplateList(items=[_summary(t) for t in service.list_templates(category=category)])


@router.get(
    "/{template_id}",
    response_model=TemplateOut,
    summary="Get a template with its definition",
    responses={404: {}},
)
async def get_template(template_id: str, _: RuntimeDep) -> TemplateOut:
    template = service.get_template(template_id)
    return TemplateOut(
        **_summary(template).model_dump(),
        variables=template.variables,
        setup=template.setup,
        definition=template.definition,
    )


@router.post(
    "/{template_id}/create-workflow",
    response_model=WorkflowOut,
    status_code=status.HTTP_201_CREATED,
    summary="Create a workflow from a template (409 when its key is in use: pass another key or name)",
    responses={404: {}, 409: {}, 422: {}},
)
async def create_workflow_from_template(
    template_id: str,
    rt: RuntimeDep,
    caller: CallerDep,
    request: Request,
    response: Response,
    body: CreateFromTemplate | None = None,
) -> WorkflowOut:
    wanted = body or CreateFromTemplate()
    record = await service.create_from_template(
        rt, template_id, name=wanted.name, key=wanted.key, actor=caller.username
    )
    response.headers["Location"] = str(request.url_for("get_workflow", workflow_id=record.key).path)
    return workflow_out(record)
