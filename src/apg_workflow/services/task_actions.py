"""What people do with the work waiting for them: claim, unclaim, assign and complete user tasks
(checking who holds a task, and the variables against the task's form schema), retry an
execution's incidents, or close an incident without retrying it. Each change is audited in the
transaction that makes it."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from jsonschema import SchemaError
from jsonschema.validators import validator_for
from sqlalchemy.ext.asyncio import AsyncConnection

from apg_workflow.runtime.context import Runtime
from apg_workflow.services import incidents, tasks
from apg_workflow.services.audit import audit
from apg_workflow.services.errors import Conflict, ServiceError
from apg_workflow.services.queries import find_incidents
from apg_workflow.store import IncidentRecord, TaskRecord, reads
from apg_workflow.store.incident_writes import resolve_by_hand
from apg_workflow.store.task_writes import lock_task, set_assignee


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acts: a login name, its groups, and whether it may act on tasks others hold
    (administrators and operators)."""

    username: str
    groups: tuple[str, ...] = ()
    override: bool = False


@dataclass(frozen=True, slots=True)
class FieldError:
    """A variable at fault: where (``loc``, from ``variables`` down) and what is wrong."""

    loc: tuple[str | int, ...]
    message: str


class NotPermitted(ServiceError):
    """The actor may not do this to the task (not a candidate, not the one holding it)."""


class InvalidVariables(ServiceError):
    """Variables that do not match the task's form schema."""

    def __init__(self, task_id: str, errors: Sequence[FieldError]) -> None:
        first = errors[0]
        where = ".".join(str(p) for p in first.loc) or "variables"
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        super().__init__(f"user task '{task_id}': {where}: {first.message}{more}")
        self.errors = tuple(errors)


def is_candidate(task: TaskRecord, actor: Actor) -> bool:
    """The actor may claim the task: it has no candidates, or the actor is one of them."""
    if not task.candidate_users and not task.candidate_groups:
        return True
    return actor.username in task.candidate_users or bool(set(actor.groups) & set(task.candidate_groups))


def form_errors(form: Mapping[str, Any] | None, variables: Mapping[str, Any]) -> tuple[FieldError, ...]:
    """What in ``variables`` breaks the form's JSON Schema (none without a schema), in path order."""
    schema = (form or {}).get("schema")
    if not isinstance(schema, Mapping):
        return ()
    cls = validator_for(schema)
    try:
        cls.check_schema(schema)
    except SchemaError as exc:
        raise Conflict(
            f"the task's form schema is not a valid JSON Schema ({exc.message}); fix the workflow"
        ) from None
    found = sorted(cls(schema).iter_errors(dict(variables)), key=lambda e: [str(p) for p in e.absolute_path])
    return tuple(FieldError(tuple(e.absolute_path), e.message) for e in found)


def _open(task: TaskRecord) -> None:
    if task.status != "open":
        raise Conflict(f"user task '{task.id}' is {task.status}")


def _held_by_other(task: TaskRecord, actor: Actor) -> bool:
    return task.assignee is not None and task.assignee != actor.username


async def _hand_over(
    rt: Runtime, task_id: str, actor: Actor, action: str, decide: Callable[[TaskRecord], str | None]
) -> TaskRecord:
    """Lock the task, let ``decide(task)`` say who holds it next (or refuse), write and audit it."""

    async def work(conn: AsyncConnection) -> TaskRecord:
        task = await lock_task(conn, rt.tenant, task_id)
        _open(task)
        assignee = decide(task)
        if assignee == task.assignee:
            return task
        await set_assignee(conn, rt.tenant, task_id, assignee)
        await audit(
            conn, rt, actor.username, action, "user_task", task_id, {"from": task.assignee, "to": assignee}
        )
        return await lock_task(conn, rt.tenant, task_id)

    return await rt.db.transaction(work)


async def claim_task(rt: Runtime, task_id: str, actor: Actor) -> TaskRecord:
    """Take the task: it becomes the actor's. Claiming one's own task again changes nothing."""

    def decide(task: TaskRecord) -> str:
        if task.assignee == actor.username:
            return actor.username
        if task.assignee is not None:
            raise Conflict(f"user task '{task.id}' is held by '{task.assignee}'")
        if not is_candidate(task, actor) and not actor.override:
            raise NotPermitted(f"'{actor.username}' is not a candidate for user task '{task.id}'")
        return actor.username

    return await _hand_over(rt, task_id, actor, "task.claimed", decide)


async def unclaim_task(rt: Runtime, task_id: str, actor: Actor) -> TaskRecord:
    """Give the task back to its candidates (the one holding it, or an administrator)."""

    def decide(task: TaskRecord) -> None:
        if _held_by_other(task, actor) and not actor.override:
            raise Conflict(f"user task '{task.id}' is held by '{task.assignee}'")
        return None

    return await _hand_over(rt, task_id, actor, "task.unclaimed", decide)


async def assign_task(rt: Runtime, task_id: str, assignee: str | None, actor: Actor) -> TaskRecord:
    """Give the task to ``assignee`` (``None``: to nobody). The one holding it may pass it on; an
    administrator may assign any task."""

    def decide(task: TaskRecord) -> str | None:
        if not actor.override and task.assignee != actor.username:
            raise NotPermitted(
                f"only the one holding user task '{task.id}' or an administrator may assign it"
            )
        return assignee

    return await _hand_over(rt, task_id, actor, "task.assigned", decide)


async def complete_task(rt: Runtime, task_id: str, variables: Mapping[str, Any], actor: Actor) -> TaskRecord:
    """Complete the task with ``variables``, once they match its form schema and nobody else holds
    it. Completing a completed task again returns it (a client retrying)."""
    task = await tasks.get_task(rt, task_id)
    if task.status == "open":
        if _held_by_other(task, actor) and not actor.override:
            raise Conflict(f"user task '{task.id}' is held by '{task.assignee}'")
        errors = form_errors(task.form, variables)
        if errors:
            raise InvalidVariables(task_id, errors)
    return await tasks.complete_task(rt, task_id, variables)


async def retry_incident(
    rt: Runtime, incident_id: str, actor: Actor, variables: Mapping[str, Any] | None = None
) -> IncidentRecord:
    """Retry an open incident (``incidents.retry_incident``) and audit it; retrying a resolved one
    changes nothing."""
    before = await rt.db.read(lambda conn: reads.get_incident(conn, rt.tenant, incident_id))
    after = await incidents.retry_incident(rt, incident_id, variables)
    if before.status == "open":
        details = {"variables": sorted(variables or {})}
        await rt.db.transaction(
            lambda conn: audit(conn, rt, actor.username, "incident.retried", "incident", incident_id, details)
        )
    return after


async def retry_execution(
    rt: Runtime, execution_id: str, actor: Actor, variables: Mapping[str, Any] | None = None
) -> list[IncidentRecord]:
    """Retry every open incident of the execution and of the executions it called; returns them as
    they are now (an execution without open incidents: an empty list, nothing changes)."""
    open_ids: list[str] = []
    cursor: str | None = None
    while True:
        page = await find_incidents(rt, execution_id=execution_id, limit=reads.MAX_PAGE, cursor=cursor)
        open_ids += [i.id for i in page.items]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    return [await retry_incident(rt, incident_id, actor, variables) for incident_id in open_ids]


async def resolve_incident(
    rt: Runtime, incident_id: str, actor: Actor, reason: str | None = None
) -> IncidentRecord:
    """Close an open incident without retrying it; the execution stays where it stopped (cancel it or
    retry another way). Resolving a resolved incident changes nothing."""

    async def work(conn: AsyncConnection) -> IncidentRecord:
        incident = await reads.get_incident(conn, rt.tenant, incident_id)
        details = {"by": actor.username, "reason": reason}
        if incident.status == "open" and await resolve_by_hand(conn, incident, rt.clock(), details):
            await audit(
                conn, rt, actor.username, "incident.resolved", "incident", incident_id, {"reason": reason}
            )
        return await reads.get_incident(conn, rt.tenant, incident_id)

    return await rt.db.transaction(work)


__all__ = [
    "Actor",
    "FieldError",
    "InvalidVariables",
    "NotPermitted",
    "assign_task",
    "claim_task",
    "complete_task",
    "form_errors",
    "is_candidate",
    "resolve_incident",
    "retry_execution",
    "retry_incident",
]
