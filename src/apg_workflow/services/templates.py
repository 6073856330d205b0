"""The template library: ready-made workflows shipped as JSON definitions in
``apg_workflow/templates/``, each with its catalogue details under the ``x-template`` key (which the
JSON reader ignores). Creating a workflow from a template deploys a copy under a key and name of
the caller's choosing."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from importlib.resources import files
from typing import Any

from apg_workflow.runtime.context import Runtime
from apg_workflow.services.workflows import DefinitionBody, create_workflow
from apg_workflow.store import NotFound, Source
from apg_workflow.store.workflows import WorkflowRecord

META_KEY = "x-template"


@dataclass(frozen=True, slots=True)
class Template:
    """A template: its catalogue details and the JSON definition it deploys."""

    id: str
    name: str
    description: str
    category: str
    tags: tuple[str, ...]
    variables: dict[str, Any]  # start variables that make a first run work
    setup: str | None  # what to prepare before running it (a connection, a group)
    definition: dict[str, Any]  # the JSON workflow, without the catalogue details


def _load(template_id: str, text: str) -> Template:
    data = json.loads(text)
    meta = data.pop(META_KEY, {})
    return Template(
        id=template_id,
        name=data.get("name") or template_id,
        description=data.get("description") or "",
        category=meta.get("category", "general"),
        tags=tuple(meta.get("tags", ())),
        variables=dict(meta.get("variables", {})),
        setup=meta.get("setup"),
        definition=data,
    )


@functools.cache
def _library() -> dict[str, Template]:
    """The shipped templates by id (the file name without ``.json``), read once per process."""
    folder = files("apg_workflow") / "templates"
    found = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".json"):
            template_id = entry.name.removesuffix(".json")
            found[template_id] = _load(template_id, entry.read_text(encoding="utf-8"))
    return found


def list_templates(*, category: str | None = None) -> list[Template]:
    """Every template (of ``category``, when given), by id."""
    return [t for t in _library().values() if category is None or t.category == category]


def get_template(template_id: str) -> Template:
    try:
        return _library()[template_id]
    except KeyError:
        raise NotFound("template", template_id) from None


def instantiate(template: Template, *, name: str | None = None, key: str | None = None) -> DefinitionBody:
    """The template's definition as a request body. A ``key`` becomes the process id (the workflow
    key); a ``name`` without a key drops the template's id, so the key is made from the name and two
    workflows made from one template under different names do not collide."""
    definition = dict(template.definition)
    if name is not None:
        definition["name"] = name
        if key is None:
            definition.pop("id", None)
    if key is not None:
        definition["id"] = key
    text = json.dumps(definition, ensure_ascii=False)
    return DefinitionBody(
        Source(f"{template.id}.json", "json", text), template.category, definition.get("description")
    )


async def create_from_template(
    rt: Runtime,
    template_id: str,
    *,
    name: str | None = None,
    key: str | None = None,
    actor: str | None = None,
) -> WorkflowRecord:
    """A new workflow from a template, deployed like ``POST /workflows`` (audited, with its
    ``workflow.created`` event); a key in use is a conflict."""
    body = instantiate(get_template(template_id), name=name, key=key)
    return await create_workflow(rt, body, actor=actor)


__all__ = ["Template", "create_from_template", "get_template", "instantiate", "list_templates"]
