"""What the service API reads beyond :mod:`.executions` and :mod:`.tasks`: filtered listings of
executions, user tasks and incidents, an execution's detail with its progress, and its history
rendered as log lines, paged or followed live until the execution ends."""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from apg_workflow.engine.program import ProcessProgram
from apg_workflow.model import BoundaryEvent, ElementNotFound, SubProcess
from apg_workflow.runtime.context import Runtime
from apg_workflow.services import executions
from apg_workflow.services.errors import ServiceError
from apg_workflow.store import ExecutionRecord, IncidentRecord, Page, TaskRecord, reads
from apg_workflow.store import execution_queries as q
from apg_workflow.store.execution_queries import ExecutionFilter, TaskFilter

ENDED = frozenset({"completed", "failed", "cancelled"})
VARIABLE_NAME_MAX = 200


class InvalidQuery(ServiceError):
    """A query parameter that cannot be used; ``field`` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


def variable_filter(text: str) -> tuple[str, Any]:
    """``name:value`` as (name, JSON value): the value is read as JSON when it is JSON (``42``,
    ``true``, ``"42"``, ``{"a":1}``), otherwise taken as a string (``status:open``)."""
    name, sep, raw = text.partition(":")
    if not sep or not name:
        raise InvalidQuery("variables", f"'{text}' is not name:value")
    if len(name) > VARIABLE_NAME_MAX:
        raise InvalidQuery("variables", f"a variable name is at most {VARIABLE_NAME_MAX} characters")
    if '"' in name or "\\" in name:
        raise InvalidQuery("variables", f"the variable name in '{text}' holds a double quote or backslash")
    try:
        value = json.loads(raw, parse_constant=_not_json)
    except ValueError:
        return name, raw
    if not _in_range(value):
        raise InvalidQuery("variables", f"a number in '{text}' is out of range")
    return name, value


def _not_json(constant: str) -> Any:
    raise ValueError(f"{constant} is not JSON")


def _in_range(value: Any) -> bool:
    """Every number is finite and integers fit 64 bits (what both databases compare)."""
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, int):
        return abs(value) < 2**63
    if isinstance(value, list):
        return all(_in_range(v) for v in value)
    if isinstance(value, dict):
        return all(_in_range(v) for v in value.values())
    return True


async def find_executions(
    rt: Runtime, chosen: ExecutionFilter, *, limit: int = 50, cursor: str | None = None
) -> Page[ExecutionRecord]:
    return await rt.db.read(
        lambda conn: q.find_executions(conn, rt.tenant, chosen, limit=limit, cursor=cursor)
    )


async def find_tasks(
    rt: Runtime, chosen: TaskFilter, *, limit: int = 50, cursor: str | None = None
) -> Page[TaskRecord]:
    return await rt.db.read(lambda conn: q.find_tasks(conn, rt.tenant, chosen, limit=limit, cursor=cursor))


async def find_incidents(
    rt: Runtime,
    *,
    status: str | None = "open",
    execution_id: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> Page[IncidentRecord]:
    """Incidents in ``status`` (any with ``None``); with ``execution_id``, those of that execution
    and of the executions its call activities started."""

    async def work(conn: AsyncConnection) -> Page[IncidentRecord]:
        scope = None if execution_id is None else await q.execution_subtree(conn, rt.tenant, execution_id)
        return await q.find_incidents(
            conn, rt.tenant, status=status, execution_ids=scope, limit=limit, cursor=cursor
        )

    return await rt.db.read(work)


async def get_incident(rt: Runtime, incident_id: str) -> IncidentRecord:
    return await rt.db.read(lambda conn: reads.get_incident(conn, rt.tenant, incident_id))


# Detail and progress --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ExecutionDetail:
    """An execution with what ``show`` reports (variables, completed and active elements) and its
    progress: the share of its process's flow nodes completed, 1.0 once it ended."""

    record: ExecutionRecord
    variables: dict[str, Any]
    completed: tuple[str, ...]
    active: tuple[str, ...]
    progress: float


def _in_event_subprocess(process: ProcessProgram, element_id: str) -> bool:
    container = process.nodes[element_id].container
    while container in process.nodes:
        node = process.nodes[container].node
        if isinstance(node, SubProcess) and node.triggered_by_event:
            return True
        container = process.nodes[container].container
    return False


def countable_nodes(process: ProcessProgram) -> frozenset[str]:
    """The flow nodes every run is expected to pass: not boundary events, not event sub-processes
    nor what they hold (they run only when their event happens)."""
    return frozenset(
        node_id
        for node_id, info in process.nodes.items()
        if not isinstance(info.node, BoundaryEvent)
        and not (isinstance(info.node, SubProcess) and info.node.triggered_by_event)
        and not _in_event_subprocess(process, node_id)
    )


def progress_of(
    status: str, completed: Iterable[str], active: Iterable[str], nodes: frozenset[str] | None
) -> float:
    """1.0 once ended; else completed flow nodes of the process over all of them (below 1.0 while
    running), or, when the process is not known, completed over completed and active."""
    if status in ENDED:
        return 1.0
    done = set(completed)
    if nodes:
        return round(min(len(done & nodes) / len(nodes), 0.99), 4)
    waiting = set(active)
    return round(len(done) / (len(done) + len(waiting)), 4) if done else 0.0


async def _process_nodes(rt: Runtime, execution_id: str) -> frozenset[str] | None:
    async def work(conn: AsyncConnection) -> frozenset[str] | None:
        ref = await q.program_ref(conn, rt.tenant, execution_id)
        program = await rt.transitions.programs.get(conn, ref.version_id)
        try:
            return countable_nodes(program.process(ref.process_id))
        except ElementNotFound:
            return None

    return await rt.db.read(work)


async def execution_detail(rt: Runtime, execution_id: str) -> ExecutionDetail:
    record = await executions.get(rt, execution_id)
    shown = await executions.show(rt, execution_id)
    completed, active = tuple(shown["completed"]), tuple(shown["active"])
    nodes = None if record.status in ENDED else await _process_nodes(rt, execution_id)
    return ExecutionDetail(
        record=record,
        variables=dict(shown["variables"]),
        completed=completed,
        active=active,
        progress=progress_of(record.status, completed, active, nodes),
    )


# Logs -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LogLine:
    """One history entry as a log line; ``id`` orders them (and resumes a follow)."""

    id: int
    at: datetime
    level: str
    event: str
    element_id: str | None
    message: str


@dataclass(frozen=True, slots=True)
class LogEnd:
    """The end of a follow: the execution's status then, and whether the time limit ended it."""

    status: str
    timed_out: bool


_ERRORS = frozenset({"element.failed", "execution.failed", "error.thrown"})
_WARNINGS = frozenset({"job.failed", "escalation.thrown", "element.cancelled", "execution.cancelled"})
_TEXTS = {
    "execution.started": "execution started",
    "execution.completed": "execution completed",
    "execution.failed": "execution failed: {error}",
    "execution.cancelled": "execution cancelled: {reason}",
    "element.activated": "{element} activated",
    "element.completed": "{element} completed",
    "element.cancelled": "{element} cancelled",
    "element.failed": "{element} failed: {message}",
    "job.failed": "{element}: attempt {attempt} failed: {message}",
    "error.thrown": "{element} threw error {code}: {message}",
    "escalation.thrown": "{element} raised escalation {code}",
    "decision.evaluated": "{element} evaluated decision {decision}",
    "variables.changed": "{element}: variables changed",
    "incident.resolved": "{element}: incident resolved by {by}",
}


class _Blank(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "?"


def log_line(entry: Mapping[str, Any]) -> LogLine:
    """A history entry (``reads.execution_history``) as a log line."""
    event, element = str(entry["event"]), entry.get("element_id")
    data = entry.get("data") if isinstance(entry.get("data"), dict) else {}
    text = _TEXTS.get(event)
    message = (
        text.format_map(_Blank(data, element=element or "-")) if text else f"{event} {element or ''}".strip()
    )
    level = "error" if event in _ERRORS else "warning" if event in _WARNINGS else "info"
    return LogLine(int(entry["id"]), entry["at"], level, event, element, message)


async def execution_logs(
    rt: Runtime, execution_id: str, *, after: int = 0, limit: int = 100
) -> Page[LogLine]:
    """A page of the execution's log, oldest first; ``next_cursor`` is set when the page is full
    (pass it back, or the id of the last line, for the lines after)."""
    entries = await executions.history(rt, execution_id, after=after, limit=limit)
    lines = tuple(log_line(e) for e in entries)
    return Page(lines, str(lines[-1].id) if lines and len(lines) >= limit else None)


def log_cursor(cursor: str | None) -> int:
    if cursor is None:
        return 0
    if not cursor.isdigit():
        raise InvalidQuery("cursor", f"'{cursor}' is not a log cursor (the id of a line)")
    return int(cursor)


async def _log_tail(
    conn: AsyncConnection, tenant_id: str, execution_id: str, after: int
) -> tuple[str, list[dict[str, Any]]]:
    """The execution's status, then its history after ``after``. Read in this order, an ended
    status means every entry is among those read (the last entry commits with the status)."""
    status = await q.execution_status(conn, tenant_id, execution_id)
    entries = await reads.execution_history(conn, tenant_id, execution_id, after=after, limit=reads.MAX_PAGE)
    return status, entries


async def follow_logs(
    rt: Runtime, execution_id: str, *, after: int = 0, timeout: float = 30.0, poll: float | None = None
) -> AsyncIterator[LogLine | LogEnd]:
    """The execution's log lines after ``after`` as they are written, then a :class:`LogEnd` once
    it has ended and every line was given, or when ``timeout`` seconds have passed."""
    interval = poll if poll is not None else min(max(rt.settings.poll_interval_seconds, 0.05), 1.0)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        tail = partial(_log_tail, tenant_id=rt.tenant, execution_id=execution_id, after=after)
        status, entries = await rt.db.read(tail)
        for entry in entries:
            line = log_line(entry)
            after = line.id
            yield line
        if len(entries) >= reads.MAX_PAGE:
            continue
        if status in ENDED:
            yield LogEnd(status, timed_out=False)
            return
        if loop.time() >= deadline:
            yield LogEnd(status, timed_out=True)
            return
        await asyncio.sleep(min(interval, max(deadline - loop.time(), 0.0)))


__all__ = [
    "ENDED",
    "ExecutionDetail",
    "InvalidQuery",
    "LogEnd",
    "LogLine",
    "countable_nodes",
    "execution_detail",
    "execution_logs",
    "find_executions",
    "find_incidents",
    "find_tasks",
    "follow_logs",
    "get_incident",
    "log_cursor",
    "log_line",
    "progress_of",
    "variable_filter",
]
