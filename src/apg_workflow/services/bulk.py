"""Many workflow operations in one call (REST v2): create, update, delete or deploy definitions,
one by one or all-or-nothing, and start up to a thousand executions with a result per item.

All-or-nothing runs the very use cases of :mod:`.workflows` (validation, key checks, audit,
outbox events) inside one database transaction: they are given a runtime whose database hands
every unit of work the one open connection, and each operation runs in a savepoint so that a
failed one is reported without hiding the problems of the others. Any failure rolls them all back.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal, TypeVar, cast

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from apg_workflow.formats import FormatError
from apg_workflow.runtime.context import Runtime
from apg_workflow.runtime.programs import parse_sources
from apg_workflow.services import workflows
from apg_workflow.services.errors import Conflict, InvalidDefinition, ServiceError
from apg_workflow.store import Database, NotFound, Started, StoreError, start_execution
from apg_workflow.store.workflows import WorkflowRecord

log = logging.getLogger(__name__)
T = TypeVar("T")

Op = Literal["create", "update", "delete", "deploy"]
MAX_OPERATIONS = 1000
MAX_EXECUTIONS = 1000
ITEM_ERRORS = (ServiceError, StoreError)  # what an item answers with; anything else is a fault


@dataclass(frozen=True, slots=True)
class Operation:
    """One item of a bulk request. ``definition`` is the JSON workflow or the text of a definition
    in ``format`` (detected when absent); ``workflow_id`` names the workflow to update or delete
    (for ``deploy``, optionally the key the definition must have)."""

    op: Op
    workflow_id: str | None = None
    definition: dict[str, Any] | str | None = None
    format: str | None = None
    category: str | None = None


@dataclass(frozen=True, slots=True)
class Done:
    """What a successful operation did: the workflow as it is now (before deletion, for
    ``delete``), and whether a new version was deployed."""

    workflow: WorkflowRecord
    new_version: bool


@dataclass(frozen=True, slots=True)
class ItemResult:
    """``succeeded`` (with ``done``), ``failed`` (with ``error``), or ``rolled_back``: it worked but
    another item of an all-or-nothing request failed."""

    index: int
    status: Literal["succeeded", "failed", "rolled_back"]
    done: Any = None
    error: Exception | None = None


@dataclass(frozen=True, slots=True)
class BulkOutcome:
    committed: bool
    results: tuple[ItemResult, ...] = field(default_factory=tuple)


class _RollBack(Exception):
    def __init__(self, results: list[ItemResult]) -> None:
        super().__init__("an operation failed")
        self.results = results


class _OneConnection:
    """Stands in for :class:`~apg_workflow.store.Database` inside an open transaction: every
    ``transaction`` and ``read`` of a use case runs on that transaction's connection, so that what
    one operation wrote the next one sees, and all of it commits or rolls back together."""

    def __init__(self, conn: AsyncConnection, db: Database) -> None:
        self.conn = conn
        self.db = db
        self.is_postgres = db.is_postgres
        self.dialect = db.dialect

    def notify(self, channel: str) -> None:
        """Listeners poll as well; an early wake-up before the commit only makes them look sooner."""
        self.db.notify(channel)

    async def transaction(self, work: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        return await work(self.conn)

    async def read(self, work: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        return await work(self.conn)


def _body(operation: Operation) -> workflows.DefinitionBody:
    if operation.definition is None:
        raise InvalidDefinition(f"'{operation.op}' needs a 'definition'")
    wrapped = {"definition": operation.definition, "format": operation.format, "category": operation.category}
    return workflows.read_body(json.dumps({k: v for k, v in wrapped.items() if v is not None}).encode(), None)


def _key_of(body: workflows.DefinitionBody) -> str:
    """The workflow key a definition deploys under: its main process id."""
    try:
        definitions, _ = parse_sources([body.source])
    except FormatError as exc:
        raise InvalidDefinition(exc.message, exc.problems) from None
    return definitions[0].main_process.id


def _named(operation: Operation) -> str:
    if not operation.workflow_id:
        raise InvalidDefinition(f"'{operation.op}' needs a 'workflow_id'")
    return operation.workflow_id


async def apply(rt: Runtime, operation: Operation, *, actor: str | None) -> Done:
    """Run one operation with the use cases of :mod:`.workflows`."""
    if operation.op == "create":
        return Done(await workflows.create_workflow(rt, _body(operation), actor=actor), True)
    if operation.op == "update":
        key = _named(operation)
        record, created = await workflows.update_workflow(rt, key, _body(operation), actor=actor)
        return Done(record, created)
    if operation.op == "delete":
        return Done(await workflows.delete_workflow(rt, _named(operation), actor=actor), False)
    body = _body(operation)
    key = _key_of(body)
    if operation.workflow_id is not None and operation.workflow_id != key:
        raise InvalidDefinition(
            f"the definition's main process id is '{key}', not '{operation.workflow_id}': "
            "the process id is the workflow key"
        )
    try:
        await workflows.get_workflow_record(rt, key)
    except NotFound:
        return Done(await workflows.create_workflow(rt, body, actor=actor), True)
    record, created = await workflows.update_workflow(rt, key, body, actor=actor)
    return Done(record, created)


async def run_bulk(
    rt: Runtime, operations: Sequence[Operation], *, atomic: bool, actor: str | None = None
) -> BulkOutcome:
    """Run ``operations`` in order. Without ``atomic`` each commits on its own and a failure does not
    stop the others; with it they commit together or, when any fails, not at all."""
    if not atomic:
        return BulkOutcome(True, tuple([await _one(rt, i, op, actor) for i, op in enumerate(operations)]))

    async def work(conn: AsyncConnection) -> list[ItemResult]:
        bound = replace(rt, db=cast(Database, _OneConnection(conn, rt.db)))
        results = []
        for index, operation in enumerate(operations):
            try:
                async with conn.begin_nested():
                    results.append(ItemResult(index, "succeeded", await apply(bound, operation, actor=actor)))
            except (*ITEM_ERRORS, IntegrityError) as exc:
                results.append(ItemResult(index, "failed", error=_item_error(exc)))
        if any(r.status == "failed" for r in results):
            raise _RollBack(results)
        return results

    try:
        return BulkOutcome(True, tuple(await rt.db.transaction(work)))
    except _RollBack as rolled:
        undone = (r if r.status == "failed" else replace(r, status="rolled_back") for r in rolled.results)
        return BulkOutcome(False, tuple(undone))


async def _one(rt: Runtime, index: int, operation: Operation, actor: str | None) -> ItemResult:
    try:
        return ItemResult(index, "succeeded", await apply(rt, operation, actor=actor))
    except Exception as exc:  # one item's fault must not hide the results of the others
        if not isinstance(exc, (*ITEM_ERRORS, IntegrityError)):
            log.exception("bulk operation %d (%s) failed unexpectedly", index, operation.op)
        return ItemResult(index, "failed", error=_item_error(exc))


def _item_error(exc: Exception) -> Exception:
    """A lost race on a unique key (two creations of one key) is a conflict like any other."""
    if isinstance(exc, IntegrityError):
        return Conflict("a concurrent request changed the same workflow; try again")
    return exc


@dataclass(frozen=True, slots=True)
class BatchStart:
    workflow_id: str
    variables: Mapping[str, Any] | None = None
    business_key: str | None = None


async def execute_batch(rt: Runtime, starts: Sequence[BatchStart]) -> list[ItemResult]:
    """Start every item (``done`` is a :class:`~apg_workflow.store.Started`), a few at a time (no
    more than the connection pool holds); a business key seen before answers with the execution it
    started then (``created`` false). Each start is its own transaction: a refused item does not
    undo the others."""
    if len(starts) > MAX_EXECUTIONS:
        raise ServiceError(f"at most {MAX_EXECUTIONS} executions per batch (got {len(starts)})")
    known: dict[str, Exception | None] = {}
    for key in dict.fromkeys(s.workflow_id for s in starts):
        try:
            await workflows.get_workflow_record(rt, key)
            known[key] = None
        except NotFound as exc:  # unknown, or deleted: it cannot be started
            known[key] = exc
    gate = asyncio.Semaphore(max(1, min(8, rt.settings.database_pool_size)))

    async def start(index: int, item: BatchStart) -> ItemResult:
        refused = known[item.workflow_id]
        if refused is not None:
            return ItemResult(index, "failed", error=refused)
        async with gate:
            try:
                started: Started = await start_execution(
                    rt.transitions,
                    tenant_id=rt.tenant,
                    key=item.workflow_id,
                    variables=item.variables,
                    business_key=item.business_key,
                )
            except ITEM_ERRORS as exc:
                return ItemResult(index, "failed", error=exc)
        return ItemResult(index, "succeeded", started)

    async with asyncio.TaskGroup() as group:
        tasks = [group.create_task(start(i, s)) for i, s in enumerate(starts)]
    return [t.result() for t in tasks]


__all__ = [
    "MAX_EXECUTIONS",
    "MAX_OPERATIONS",
    "BatchStart",
    "BulkOutcome",
    "Done",
    "ItemResult",
    "Operation",
    "apply",
    "execute_batch",
    "run_bulk",
]
