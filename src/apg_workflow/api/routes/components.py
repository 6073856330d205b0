"""``/components``: the catalogue of what service tasks can run, with each component's configuration
JSON Schema, inputs, outputs and examples (the same entries as ``apg-workflow components show
--json``)."""

from __future__ import annotations

import functools
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from apg_workflow.api.deps import RuntimeDep
from apg_workflow.components import Component, ComponentRegistry, UnknownComponent
from apg_workflow.components.docs import is_builtin, shipped
from apg_workflow.runtime.registry import platform_registry
from apg_workflow.store import NotFound

router = APIRouter(prefix="/components", tags=["components"])


class ComponentOut(BaseModel):
    type: str = Field(description="What a service task names, e.g. `http.request`.")
    category: str
    title: str
    description: str
    schema_: dict[str, Any] = Field(
        alias="schema", serialization_alias="schema", description="The configuration's JSON Schema."
    )
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    idempotent: bool
    examples: list[dict[str, Any]]
    builtin: bool = Field(description="Shipped with the platform (false: from a plugin).")


class ComponentList(BaseModel):
    items: list[ComponentOut]
    next_cursor: str | None = Field(None, description="Always null: the catalogue fits on one page.")
    problems: list[str] = Field(description="Component plugins that could not be loaded.")


@functools.cache
def _registry() -> ComponentRegistry:
    """The platform's catalogue, built once per process (plugins are found at start-up)."""
    return platform_registry()


def _ordered(registry: ComponentRegistry) -> list[type[Component]]:
    builtins = shipped(registry)
    return builtins + [c for c in registry if c not in builtins]


def _out(component: type[Component]) -> ComponentOut:
    return ComponentOut.model_validate({**component.describe(), "builtin": is_builtin(component)})


@router.get("", response_model=ComponentList, response_model_by_alias=True, summary="The component catalogue")
async def list_components(
    _: RuntimeDep,
    category: Annotated[
        str | None, Query(max_length=100, description="Only this category (flow, data, integration, …).")
    ] = None,
) -> ComponentList:
    registry = _registry()
    found = [c for c in _ordered(registry) if category is None or c.category == category]
    return ComponentList(items=[_out(c) for c in found], problems=list(registry.problems))


@router.get(
    "/{component_type}",
    response_model=ComponentOut,
    response_model_by_alias=True,
    summary="One component",
    responses={404: {}},
)
async def get_component(component_type: str, _: RuntimeDep) -> ComponentOut:
    try:
        return _out(_registry().get(component_type))
    except UnknownComponent:
        raise NotFound("component", component_type) from None
