"""What the durable runtime does with each effect of a step: rows in the same transaction as the new
state. The counterpart of :func:`apg_workflow.engine.memory_driver.effect_handlers`.

Keyed rows (jobs, timers, user tasks, incidents) are collected per id, last change wins, and
written once at :meth:`StepWriter.flush`, which writes the hot rows (the execution's state, jobs,
timers, history, outbox) in one batch (:mod:`.hotpath`). Subscriptions and routing act at once, so
that a later effect of the same step sees them.

A writer made ``hot_only`` has no connection: it collects the hot rows of a step whose every effect
is one of them, for the single-statement write of :mod:`.optimistic`, and raises :class:`ColdStep`
at the first effect that needs more.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from apg_workflow.engine import commands as c
from apg_workflow.engine import effects as e
from apg_workflow.engine.program import Program
from apg_workflow.engine.step import step
from apg_workflow.model import Activity
from apg_workflow.store import hotpath, routing
from apg_workflow.store import queries as q
from apg_workflow.store.codec import command_to_json
from apg_workflow.store.limits import Queueing
from apg_workflow.store.records import ExecutionRow, JobRecord, Outcome, Outgoing
from apg_workflow.store.tables import incidents, subscriptions, user_tasks

# History events that leave through the outbox, by the name subscribers know them by.
_EXECUTION_EVENTS = {"execution.started", "execution.completed", "execution.failed", "execution.cancelled"}
_ACTIVITY_EVENTS = {
    "element.activated": "task.created",
    "element.completed": "task.completed",
    "element.failed": "task.failed",
}


log = logging.getLogger("apg_workflow.store.transitions")

# Effects whose rows are all hot (the execution's state, jobs, timers, history, outbox). The end of a
# called execution is not: it tells its caller through the inbox.
_HOT_EFFECTS = (e.CreateJob, e.CancelJob, e.SetTimer, e.CancelTimer, e.History, e.ExecutionCancelled)
_ENDS = (e.ExecutionCompleted, e.ExecutionFailed)
_HOT_COMMANDS = (c.Start, c.CompleteJob, c.FailJob, c.FireTimer, c.Cancel, c.RetryIncident)


class ColdStep(Exception):
    """A step that a ``hot_only`` writer cannot write: it goes through a locked transaction."""


@dataclass(frozen=True, slots=True)
class Claimant:
    """A worker that takes the jobs a step makes ready, up to ``slots`` of them, for ``lease``."""

    worker: str
    slots: int
    lease: timedelta


class Inbox:
    """Writes commands for other executions to the command inbox, remembering them for delivery."""

    def __init__(self, conn: AsyncConnection, tenant_id: str, now: datetime, grace: timedelta) -> None:
        self.conn = conn
        self.tenant_id = tenant_id
        self.now = now
        self.grace = grace
        self.outgoing: list[Outgoing] = []

    async def send(self, execution_id: str, command: c.Command) -> None:
        command_id = await q.insert_command(
            self.conn,
            tenant_id=self.tenant_id,
            execution_id=execution_id,
            command=command_to_json(command),
            due_at=self.now + self.grace,
            now=self.now,
        )
        self.outgoing.append(Outgoing(command_id, execution_id))


class StepWriter:
    """Collects the rows of the steps applied to one locked execution in one transaction."""

    def __init__(
        self,
        conn: AsyncConnection | None,
        row: ExecutionRow,
        program: Program,
        now: datetime,
        *,
        message_ttl: timedelta,
        inbox_grace: timedelta,
        claimant: Claimant | None,
        everywhere: int | None = None,
    ) -> None:
        self._conn = conn
        self.row = row
        self.program = program
        self.now = now
        self.message_ttl = message_ttl
        self.claimant = claimant
        self.local: deque[c.Command] = deque()  # commands for this execution, applied in this transaction
        self.inbox = Inbox(conn, row.tenant_id, now, inbox_grace)  # type: ignore[arg-type]
        self.queueing = Queueing(everywhere, inbox_grace, self.inbox.outgoing.append)
        self.claimed: list[JobRecord] = []
        self._claiming = 0
        self.jobs_ready = False
        self.timer_set: datetime | None = None
        self._jobs: dict[str, dict[str, Any] | None] = {}
        self._timers: dict[str, dict[str, Any] | None] = {}
        self._tasks: dict[str, dict[str, Any]] = {}
        self._task_status: dict[str, tuple[str, Mapping[str, Any] | None]] = {}
        self._incidents: dict[str, dict[str, Any]] = {}
        self._resolved: list[str] = []
        self._history: list[dict[str, Any]] = []
        self._outbox: list[dict[str, Any]] = []

    async def run(
        self, state: dict[str, Any] | None, command: c.Command
    ) -> tuple[dict[str, Any] | None, str | None]:
        """Step ``command``, then the commands the steps send to this execution itself, applying
        the effects of each. Returns the last state, or the state given and why ``command`` was
        refused; a later command that is refused is skipped (logged)."""
        pending: deque[c.Command] = deque([command])
        first = True
        while pending:
            current = pending.popleft()
            new_state, effects = step(self.program, state, current, self.now)
            rejected = next((x.reason for x in effects if isinstance(x, e.Rejected)), None)
            if rejected is not None:
                if first:
                    return state, rejected
                log.info("execution %s: %s refused: %s", self.row.id, type(current).__name__, rejected)
                continue
            first = False
            state = new_state
            assert state is not None
            await self.forget(current, state["waits"])
            for effect in effects:
                await self.apply(effect)
            pending.extend(self.local)
            self.local.clear()
        return state, None

    def outcome(self, status: str) -> Outcome:
        """What the transition did, once written."""
        return Outcome(
            execution_id=self.row.id,
            status=status,
            claimed=self.claimed,
            outgoing=self.outgoing,
            jobs_ready=self.jobs_ready,
            timer_set=self.timer_set,
        )

    @property
    def hot_only(self) -> bool:
        return self._conn is None

    @property
    def conn(self) -> AsyncConnection:
        if self._conn is None:
            raise ColdStep()
        return self._conn

    async def apply(self, effect: e.Effect) -> None:
        if self._conn is None and not (
            isinstance(effect, _HOT_EFFECTS) or (isinstance(effect, _ENDS) and self.row.parent_id is None)
        ):
            raise ColdStep()
        result = _HANDLERS[type(effect)](self, effect)
        if result is not None:
            await result

    async def forget(self, command: c.Command, waits: Mapping[str, Any]) -> None:
        """Drop what the command consumed, once the execution no longer waits on it (a job done,
        a task completed, a one-off timer fired, a message received)."""
        if self._conn is None and not isinstance(command, _HOT_COMMANDS):
            raise ColdStep()
        if isinstance(command, c.CompleteJob | c.FailJob):
            if command.job_id not in waits:
                self._jobs[command.job_id] = None
        elif isinstance(command, c.CompleteUserTask):
            if command.task_id not in waits:
                self._set_task(command.task_id, "completed", dict(command.variables))
        elif isinstance(command, c.FireTimer):
            if command.timer_id not in waits:
                self._timers[command.timer_id] = None
        elif (
            isinstance(command, c.CorrelateMessage | c.BroadcastSignal)
            and command.subscription_id not in waits
        ):
            await q.delete_ids(self.conn, subscriptions, [command.subscription_id])

    async def send(self, execution_id: str, command: c.Command) -> None:
        if execution_id == self.row.id:
            self.local.append(command)
        else:
            await self.inbox.send(execution_id, command)

    @property
    def outgoing(self) -> list[Outgoing]:
        return self.inbox.outgoing

    def rows(self, state: Mapping[str, Any] | None, status: str, error: str | None) -> hotpath.StepRows:
        """The hot rows collected, with the execution's new ``state``."""
        return hotpath.StepRows(
            execution=self.row,
            now=self.now,
            state=state,
            status=status,
            error=error,
            job_deletes=[k for k, v in self._jobs.items() if v is None],
            jobs=[v for v in self._jobs.values() if v is not None],
            timer_deletes=[k for k, v in self._timers.items() if v is None],
            timers=[v for v in self._timers.values() if v is not None],
            history=self._history,
            outbox=self._outbox,
        )

    def written(self, rows: hotpath.StepRows, claims: Mapping[str, int]) -> None:
        """Note what the write of ``rows`` claimed: :attr:`claimed` holds those jobs."""
        self.claimed = [
            JobRecord.from_row(job | {"claims": claims[job["id"]]})
            for job in rows.jobs
            if job["id"] in claims
        ]

    async def flush(self, state: Mapping[str, Any] | None, status: str, error: str | None) -> None:
        """Write everything collected, with the execution's new ``state``; then :attr:`claimed` holds
        the jobs this step claimed, with their claim numbers."""
        conn = self.conn
        await q.insert_rows(conn, user_tasks, list(self._tasks.values()))
        for task_id, (task_status, result) in self._task_status.items():
            await q.set_task_status(conn, task_id, task_status, self.now, result)
        await q.upsert(conn, incidents, list(self._incidents.values()))
        for incident_id in self._resolved:
            await q.resolve_incident(conn, incident_id, self.now)
        rows = self.rows(state, status, error)
        self.written(rows, await hotpath.write(conn, rows))

    # Effects ----------------------------------------------------------------------------------

    def _cancel_job(self, x: e.CancelJob) -> None:
        self._jobs[x.job_id] = None

    def _cancel_task(self, x: e.CancelUserTask) -> None:
        self._set_task(x.task_id, "cancelled", None)

    def _cancel_timer(self, x: e.CancelTimer) -> None:
        self._timers[x.timer_id] = None

    async def _unsubscribe(self, x: e.Unsubscribe) -> None:
        await q.delete_ids(self.conn, subscriptions, [x.subscription_id])

    async def _cancel_child(self, x: e.CancelChild) -> None:
        await self.send(x.call_id, c.Cancel(reason="the calling activity was cancelled"))

    def _resolve_incident(self, x: e.ResolveIncident) -> None:
        self._resolved.append(x.incident_id)

    def _nothing(self, x: e.Effect) -> None:
        pass

    def _create_job(self, x: e.CreateJob) -> None:
        due = x.run_at if x.run_at is not None and x.run_at > self.now else self.now
        row: dict[str, Any] = {
            "id": x.job_id,
            "tenant_id": self.row.tenant_id,
            "execution_id": self.row.id,
            "element_id": x.element_id,
            "component_type": x.component_type,
            "implementation": x.implementation,
            "config": dict(x.config),
            "variables": x.variables,
            "retry": x.retry,
            "attempt": x.attempt,
            "run_at": x.run_at,
            "due_at": due,
            "claimed_by": None,
            "created_at": self.now,
        }
        claimant = self.claimant
        if claimant is not None and due <= self.now and self._claiming < claimant.slots:
            row |= {"due_at": self.now + claimant.lease, "claimed_by": claimant.worker, "claims": 1}
            self._claiming += 1
        elif due <= self.now:
            self.jobs_ready = True
        self._jobs[x.job_id] = row

    def _create_task(self, x: e.CreateUserTask) -> None:
        self._tasks[x.task_id] = {
            "id": x.task_id,
            "tenant_id": self.row.tenant_id,
            "execution_id": self.row.id,
            "element_id": x.element_id,
            "name": x.name,
            "assignee": x.assignee,
            "candidate_users": list(x.candidate_users),
            "candidate_groups": list(x.candidate_groups),
            "form": x.form,
            "due_at": x.due_at,
            "priority": x.priority,
            "variables": x.variables,
            "status": "open",
            "result": None,
            "created_at": self.now,
            "completed_at": None,
        }

    def _set_task(self, task_id: str, status: str, result: Mapping[str, Any] | None) -> None:
        created = self._tasks.get(task_id)
        if created is not None:
            created |= {"status": status, "result": result, "completed_at": self.now}
        else:
            self._task_status[task_id] = (status, result)

    def _set_timer(self, x: e.SetTimer) -> None:
        self._timers[x.timer_id] = {
            "id": x.timer_id,
            "tenant_id": self.row.tenant_id,
            "execution_id": self.row.id,
            "element_id": x.element_id,
            "fire_at": x.due_at,
            "due_at": x.due_at,
            "claimed_by": None,
            "created_at": self.now,
        }
        self.timer_set = x.due_at if self.timer_set is None else min(self.timer_set, x.due_at)

    async def _subscribe_message(self, x: e.SubscribeMessage) -> None:
        await routing.subscribe_message(
            self.conn,
            tenant_id=self.row.tenant_id,
            execution_id=self.row.id,
            subscription_id=x.subscription_id,
            element_id=x.element_id,
            name=x.message_name,
            correlation_key=x.correlation_key,
            now=self.now,
            send=self.send,
        )

    async def _subscribe_signal(self, x: e.SubscribeSignal) -> None:
        await q.insert_rows(
            self.conn,
            subscriptions,
            [
                routing.subscription_row(
                    self.row.tenant_id,
                    self.row.id,
                    x.subscription_id,
                    x.element_id,
                    "signal",
                    x.signal_name,
                    None,
                    self.now,
                )
            ],
        )

    async def _throw_message(self, x: e.ThrowMessage) -> None:
        await routing.route_message(
            self.conn,
            tenant_id=self.row.tenant_id,
            name=x.message_name,
            correlation_key=x.correlation_key,
            variables=x.variables,
            now=self.now,
            ttl=self.message_ttl,
            send=self.send,
            queueing=self.queueing,
        )

    async def _throw_signal(self, x: e.ThrowSignal) -> None:
        await routing.route_signal(
            self.conn,
            tenant_id=self.row.tenant_id,
            name=x.signal_name,
            variables=x.variables,
            now=self.now,
            send=self.send,
            thrower=self.row.id,
            queueing=self.queueing,
        )

    async def _start_child(self, x: e.StartChild) -> None:
        child = routing.pending_execution(
            x.call_id,
            self.row.tenant_id,
            self.row.workflow_id,
            self.row.version_id,
            x.called_element,
            x.business_key,
            self.now,
            parent_id=self.row.id,
            root_id=self.row.root_id,
        )
        await q.insert_execution(self.conn, child)
        await self.send(
            x.call_id,
            c.Start(
                execution_id=x.call_id,
                process_id=x.called_element,
                variables=x.variables,
                business_key=x.business_key,
            ),
        )

    def _open_incident(self, x: e.OpenIncident) -> None:
        self._incidents[x.incident_id] = {
            "id": x.incident_id,
            "tenant_id": self.row.tenant_id,
            "execution_id": self.row.id,
            "element_id": x.element_id,
            "message": x.message,
            "status": "open",
            "created_at": self.now,
            "resolved_at": None,
        }

    def _record(self, x: e.History) -> None:
        data = x.to_dict()
        self._history.append(
            {
                "tenant_id": self.row.tenant_id,
                "execution_id": self.row.id,
                "at": x.at,
                "event": x.event,
                "element_id": x.element_id,
                "instance_id": x.instance_id,
                "data": data["data"],
            }
        )
        event = x.event if x.event in _EXECUTION_EVENTS else _ACTIVITY_EVENTS.get(x.event)
        if event is None or (event.startswith("task.") and not self._is_activity(x.element_id)):
            return
        self._outbox.append(
            {
                "tenant_id": self.row.tenant_id,
                "execution_id": self.row.id,
                "event": event,
                "payload": {
                    "execution_id": self.row.id,
                    "element_id": x.element_id,
                    "at": data["at"],
                    "data": data["data"],
                },
                "created_at": self.now,
            }
        )

    def _is_activity(self, element_id: str | None) -> bool:
        if element_id is None:
            return False
        info = self.program.process(self.row.process_id).nodes.get(element_id)
        return info is not None and isinstance(info.node, Activity)

    async def _ended(self, x: e.ExecutionCompleted | e.ExecutionFailed) -> None:
        if self.row.parent_id is None:
            return
        if isinstance(x, e.ExecutionCompleted):
            await self.send(self.row.parent_id, c.ChildCompleted(call_id=self.row.id, variables=x.variables))
        else:
            await self.send(
                self.row.parent_id,
                c.ChildFailed(call_id=self.row.id, message=x.error, error_code=x.error_code),
            )


# What a writer does with each kind of effect (built once: a table per writer would be garbage with
# a cycle through the writer, left to the cyclic collector).
_HANDLERS: dict[type[e.Effect], Callable[[StepWriter, Any], Any]] = {
    e.CreateJob: StepWriter._create_job,
    e.CancelJob: StepWriter._cancel_job,
    e.CreateUserTask: StepWriter._create_task,
    e.CancelUserTask: StepWriter._cancel_task,
    e.SetTimer: StepWriter._set_timer,
    e.CancelTimer: StepWriter._cancel_timer,
    e.SubscribeMessage: StepWriter._subscribe_message,
    e.SubscribeSignal: StepWriter._subscribe_signal,
    e.Unsubscribe: StepWriter._unsubscribe,
    e.ThrowMessage: StepWriter._throw_message,
    e.ThrowSignal: StepWriter._throw_signal,
    e.StartChild: StepWriter._start_child,
    e.CancelChild: StepWriter._cancel_child,
    e.OpenIncident: StepWriter._open_incident,
    e.ResolveIncident: StepWriter._resolve_incident,
    e.History: StepWriter._record,
    e.ExecutionCompleted: StepWriter._ended,
    e.ExecutionFailed: StepWriter._ended,
    e.ExecutionCancelled: StepWriter._nothing,
}

__all__ = ["Claimant", "ColdStep", "Inbox", "Outgoing", "StepWriter"]
