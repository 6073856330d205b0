"""Workflows as the API manages them: create from a request body in any format, update (a new
version when the definition changed), delete, list, versions and their comparison, validation
without saving, and execution. Definition events leave through the outbox."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from apg_workflow.formats import FormatError
from apg_workflow.model import Problem, Severity
from apg_workflow.runtime.context import Runtime
from apg_workflow.runtime.programs import parse_sources, source_format
from apg_workflow.services.audit import audit
from apg_workflow.services.definitions import check_definition, deploy_sources
from apg_workflow.services.errors import Conflict, InvalidDefinition, ServiceError
from apg_workflow.services.executions import start
from apg_workflow.store import Deployment, NotFound, Page, Source, Started
from apg_workflow.store.outbox_reads import EVENTS_CHANNEL
from apg_workflow.store.workflows import (
    VersionRecord,
    WorkflowRecord,
    get_version,
    get_workflow,
    list_versions,
    list_workflows,
    mark_deleted,
    outbox_event,
    set_workflow_details,
    workflow_stats,
)

FORMATS = ("bpmn", "json", "yaml", "dsl")
_CONTENT_TYPES = {
    "application/json": "json",
    "application/xml": "bpmn",
    "text/xml": "bpmn",
    "application/bpmn+xml": "bpmn",
    "application/yaml": "yaml",
    "application/x-yaml": "yaml",
    "text/yaml": "yaml",
    "text/x-yaml": "yaml",
    "text/vnd.apg-dsl": "dsl",
    "text/plain": None,  # detected from the text
}


@dataclass(frozen=True, slots=True)
class DefinitionBody:
    """A definition as a client sent it, with the details the API keeps beside it."""

    source: Source
    category: str | None = None
    description: str | None = None


def read_body(body: bytes, content_type: str | None, *, name: str = "workflow") -> DefinitionBody:
    """The definition in a request body: the JSON workflow shape itself, ``{"definition": "…",
    "format"?: …, "category"?: …}`` around text of any format, or BPMN / YAML / DSL text with the
    matching content type."""
    media = (content_type or "application/json").split(";", 1)[0].strip().lower()
    if media not in _CONTENT_TYPES:
        raise UnsupportedMediaType(
            f"content type '{media}' is not a definition format; use one of {', '.join(_CONTENT_TYPES)}"
        )
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidDefinition(f"the body is not UTF-8 text (byte {exc.start})") from None
    if not text.strip():
        raise InvalidDefinition("the body is empty: send a workflow definition")
    fmt = _CONTENT_TYPES[media]
    if fmt != "json":
        return DefinitionBody(Source(name, fmt or source_format(text, name), text))
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidDefinition(
            f"the body is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
        ) from None
    if not isinstance(data, dict):
        raise InvalidDefinition('the body must be a JSON object (the workflow, or {"definition": …})')
    category = _optional_text(data, "category")
    if "definition" in data:
        return _wrapped(data, name, category)
    data = {k: v for k, v in data.items() if k != "category"}
    return DefinitionBody(
        Source(name + ".json", "json", json.dumps(data, ensure_ascii=False)),
        category,
        data.get("description"),
    )


def _wrapped(data: dict[str, Any], name: str, category: str | None) -> DefinitionBody:
    definition = data["definition"]
    fmt = _optional_text(data, "format")
    if fmt is not None and fmt not in FORMATS:
        raise InvalidDefinition(f"'format' must be one of {', '.join(FORMATS)} (got '{fmt}')")
    if isinstance(definition, dict):
        if fmt not in (None, "json"):
            raise InvalidDefinition(f"'definition' is a JSON object but 'format' says '{fmt}'")
        return DefinitionBody(
            Source(name + ".json", "json", json.dumps(definition, ensure_ascii=False)),
            category,
            definition.get("description") if isinstance(definition.get("description"), str) else None,
        )
    if not isinstance(definition, str) or not definition.strip():
        raise InvalidDefinition("'definition' must be the definition's text or a JSON workflow object")
    return DefinitionBody(Source(name, fmt or source_format(definition, name), definition), category)


def _optional_text(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is not None and not isinstance(value, str):
        raise InvalidDefinition(f"'{key}' must be a string")
    return value


class UnsupportedMediaType(ServiceError):
    """The request's content type is not a definition format."""


def validate_definition(body: DefinitionBody) -> tuple[Problem, ...]:
    """Every problem of the definition (errors and warnings), without saving anything."""
    try:
        definitions, _ = parse_sources([body.source])
    except FormatError as exc:
        raise InvalidDefinition(exc.message, exc.problems) from None
    return tuple(p for d in definitions for p in check_definition(d))


async def create_workflow(rt: Runtime, body: DefinitionBody, *, actor: str | None = None) -> WorkflowRecord:
    """A new workflow from ``body``; its key is its main process id, which must not be in use."""

    async def refuse_existing(conn: AsyncConnection, key: str) -> None:
        try:
            found = await get_workflow(conn, rt.tenant, key, include_deleted=True)
        except NotFound:
            return
        if found.status != "deleted":
            raise Conflict(
                f"a workflow with key '{key}' exists (version {found.latest_version}); "
                f"PUT /workflows/{key} deploys a new version of it"
            )

    deployment = await deploy_sources(
        rt, [body.source], before=refuse_existing, after=_record(rt, body, actor, "workflow.created")
    )
    rt.db.notify(EVENTS_CHANNEL)
    return await get_workflow_record(rt, deployment.key)


async def update_workflow(
    rt: Runtime, key: str, body: DefinitionBody, *, actor: str | None = None
) -> tuple[WorkflowRecord, bool]:
    """Deploy ``body`` as the next version of ``key``; (the workflow, whether a version was made)."""
    await get_workflow_record(rt, key)

    async def same_key(conn: AsyncConnection, deployed_key: str) -> None:
        if deployed_key != key:
            raise InvalidDefinition(
                f"the definition's main process id is '{deployed_key}', not '{key}': the process id "
                "is the workflow key"
            )

    deployment = await deploy_sources(
        rt, [body.source], before=same_key, after=_record(rt, body, actor, "workflow.updated")
    )
    if deployment.created:
        rt.db.notify(EVENTS_CHANNEL)
    return await get_workflow_record(rt, key), deployment.created


def _record(
    rt: Runtime, body: DefinitionBody, actor: str | None, event: str
) -> Callable[[AsyncConnection, Deployment], Awaitable[None]]:
    """Keep the body's details and, for a new version, emit ``event`` and ``workflow.deployed``
    and audit it, in the deploy's transaction."""

    async def after(conn: AsyncConnection, deployment: Deployment) -> None:
        now = rt.clock()
        await set_workflow_details(
            conn, deployment.workflow_id, description=body.description, category=body.category, now=now
        )
        if not deployment.created and event == "workflow.updated":
            return
        payload = {"workflow_id": deployment.key, "version": deployment.version, "name": deployment.name}
        await outbox_event(conn, rt.tenant, event, payload, now)
        await outbox_event(conn, rt.tenant, "workflow.deployed", payload, now)
        await audit(conn, rt, actor, event, "workflow", deployment.key, {"version": deployment.version})

    return after


async def delete_workflow(rt: Runtime, key: str, *, actor: str | None = None) -> WorkflowRecord:
    """Hide ``key``: it cannot be started any more; its executions and versions stay readable."""
    now = rt.clock()

    async def work(conn: Any) -> WorkflowRecord:
        found = await mark_deleted(conn, rt.tenant, key, now)
        await outbox_event(conn, rt.tenant, "workflow.deleted", {"workflow_id": key}, now)
        await audit(conn, rt, actor, "workflow.deleted", "workflow", key)
        return found

    found = await rt.db.transaction(work)
    rt.db.notify(EVENTS_CHANNEL)
    return found


async def get_workflow_record(rt: Runtime, key: str) -> WorkflowRecord:
    return await rt.db.read(lambda conn: get_workflow(conn, rt.tenant, key))


async def list_workflow_records(
    rt: Runtime,
    *,
    category: str | None = None,
    search: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> Page[WorkflowRecord]:
    return await rt.db.read(
        lambda conn: list_workflows(
            conn, rt.tenant, category=category, name_contains=search, limit=limit, cursor=cursor
        )
    )


async def stats(rt: Runtime, workflow_ids: list[int]) -> dict[int, tuple[int, float | None]]:
    """(executions, success rate) per workflow id, in one query whatever the number of ids."""
    return await rt.db.read(lambda conn: workflow_stats(conn, rt.tenant, workflow_ids))


async def versions(rt: Runtime, key: str) -> list[VersionRecord]:
    found = await get_workflow_record(rt, key)
    return await rt.db.read(lambda conn: list_versions(conn, found.id))


async def version(rt: Runtime, key: str, number: int) -> VersionRecord:
    found = await get_workflow_record(rt, key)
    return await rt.db.read(lambda conn: get_version(conn, found, number))


async def compare_versions(rt: Runtime, key: str, base: int, other: int) -> dict[str, Any]:
    """What changed from version ``base`` to ``other``: elements added, removed and changed."""
    old, new = await version(rt, key, base), await version(rt, key, other)
    before, after = _elements(old), _elements(new)
    changed = sorted(i for i in before.keys() & after.keys() if before[i] != after[i])
    return {
        "workflow_id": key,
        "base": base,
        "other": other,
        "same": old.checksum == new.checksum,
        "added": sorted(after.keys() - before.keys()),
        "removed": sorted(before.keys() - after.keys()),
        "changed": changed,
    }


def _elements(record: VersionRecord) -> dict[str, Any]:
    definitions, _ = parse_sources(record.sources[:1])
    found: dict[str, Any] = {}
    for process in definitions[0].processes:
        for _, element in process.walk():
            element_id = getattr(element, "id", None)
            if element_id:
                found[element_id] = element
    return found


async def execute(
    rt: Runtime,
    key: str,
    *,
    variables: Mapping[str, Any] | None = None,
    business_key: str | None = None,
    request_id: str | None = None,
    version: int | None = None,
) -> Started:
    """Start ``key`` (refused when it was deleted)."""
    await get_workflow_record(rt, key)
    return await start(
        rt, key, variables=variables, business_key=business_key, request_id=request_id, version=version
    )


def errors_of(problems: tuple[Problem, ...]) -> tuple[Problem, ...]:
    return tuple(p for p in problems if p.severity is Severity.ERROR)


__all__ = [
    "FORMATS",
    "DefinitionBody",
    "UnsupportedMediaType",
    "compare_versions",
    "create_workflow",
    "delete_workflow",
    "errors_of",
    "execute",
    "get_workflow_record",
    "list_workflow_records",
    "read_body",
    "stats",
    "update_workflow",
    "validate_definition",
    "version",
    "versions",
]
