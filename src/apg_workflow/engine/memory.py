"""An in-memory, synchronous and deterministic driver of the pure engine.

:class:`MemoryEngine` holds many executions, a virtual clock, job handlers, user tasks, message
correlation (with buffering), signal broadcast and call activities as child executions. Tests,
the CLI's ``run`` and embedding applications use it; the durable runtime does the same things
with a database. Everything happens inside the call that caused it: ``start`` returns once the
execution waits for something (a user task, an unhandled job, a timer, a message) or has ended.
"""

from __future__ import annotations

import json
import random
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from apg_workflow.engine import commands as c
from apg_workflow.engine import effects as e
from apg_workflow.engine.effects import History, Rejected
from apg_workflow.engine.memory_driver import Delivery, JobError, JobView, TaskView, effect_handlers
from apg_workflow.engine.migrations import load_state
from apg_workflow.engine.program import Program, Sandbox, compile_program
from apg_workflow.engine.state import ROOT_SCOPE
from apg_workflow.engine.step import step
from apg_workflow.engine.tokens import COMPLETED
from apg_workflow.model import EMPTY, Definitions
from apg_workflow.model.decisions import Decision, DecisionDefinitions

DEFAULT_START = datetime(2025, 1, 1, tzinfo=UTC)
_ENCODER = json.JSONEncoder(check_circular=False)  # states are trees: nothing to check
_DECODER = json.JSONDecoder()  # raw_decode: the text is ours, no surrounding whitespace to skip
JobHandler = Callable[[JobView], Mapping[str, Any] | None]


class CommandRejected(LookupError):
    """A command the engine refused: an unknown or stale id, a finished execution."""


class MemoryEngine(Delivery):
    """Runs executions of the given definitions in memory.

    ``definitions`` are compiled together: the first one's main process is the default, the others
    supply processes for call activities. ``serialize`` passes every state through JSON between
    steps, as a database would. ``seed`` fixes the random numbers (retry jitter).
    """

    def __init__(
        self,
        definitions: Definitions | Program | Iterable[Definitions],
        *,
        sandbox: Sandbox | None = None,
        decisions: Iterable[DecisionDefinitions] | Mapping[str, Decision] | None = None,
        start: datetime = DEFAULT_START,
        message_ttl: timedelta = timedelta(hours=1),
        serialize: bool = False,
        seed: int = 0,
    ) -> None:
        Delivery.__init__(self)
        if isinstance(definitions, Program):
            self.program = definitions
        else:
            self.program = compile_program(
                definitions, sandbox=sandbox or _default_sandbox(), decisions=decisions
            )
        self.now = start
        self.message_ttl = message_ttl
        self.serialize = serialize
        self._random = random.Random(seed)
        self._handlers: dict[str, JobHandler] = {}
        self._programs: dict[str, Program] = {}
        self._states: dict[str, dict[str, Any]] = {}
        self._history: dict[str, list[e.History]] = {}
        # Completed element ids, kept as they happen only for executions that call others or are
        # called (a parent's list interleaves its children's); the others derive them from history.
        self._completed: dict[str, list[str]] = {}
        self._parent: dict[str, tuple[str, str]] = {}  # child execution → (parent execution, call id)
        self._queue: deque[tuple[str, c.Command]] = deque()
        self._ready_jobs: deque[str] = deque()
        self._effect_handlers = effect_handlers(self)
        # The registry of what a command reports on: dropped once the state no longer waits on it.
        registries: dict[type, dict[str, Any]] = {
            c.CompleteJob: self.jobs_by_id,
            c.FailJob: self.jobs_by_id,
            c.CompleteUserTask: self.tasks_by_id,
            c.FireTimer: self.timers,
            c.CorrelateMessage: self._messages,
            c.BroadcastSignal: self._signals,
        }
        self._consumes = {kind: (registry, c.wait_getter(kind)) for kind, registry in registries.items()}
        # Unless a subclass watches history entries or steps, _apply does these itself (faster).
        self._keeps_history = type(self).record_history is MemoryEngine.record_history
        self._plain_step = type(self)._step is MemoryEngine._step
        self._count = 0

    # Running ---------------------------------------------------------------------------------

    def start(
        self,
        process_id: str | None = None,
        variables: Mapping[str, Any] | None = None,
        *,
        business_key: str | None = None,
        start_event_id: str | None = None,
        execution_id: str | None = None,
    ) -> str:
        """Start an execution and run it until it waits or ends; returns its id."""
        execution_id = execution_id or self._new_id()
        command = c.Start(
            execution_id=execution_id,
            process_id=process_id,
            variables=dict(variables or {}),
            business_key=business_key,
            start_event_id=start_event_id,
        )
        self._run(execution_id, command, self.program)
        return execution_id

    def register_job_handler(self, key: str, handler: JobHandler) -> None:
        """Run jobs of component type (or implementation / topic) ``key`` with ``handler(job)``, which
        returns the result variables or raises (:class:`JobError` for a BPMN error or no retry)."""
        self._handlers[key] = handler

    def complete_job(self, job_id: str, variables: Mapping[str, Any] | None = None) -> None:
        job = self._job(job_id)
        self._run(
            job.execution_id,
            c.CompleteJob(job_id=job_id, attempt=job.attempt, variables=dict(variables or {})),
        )

    def fail_job(
        self, job_id: str, message: str, *, error_code: str | None = None, retryable: bool = True
    ) -> None:
        job = self._job(job_id)
        command = c.FailJob(
            job_id=job_id,
            attempt=job.attempt,
            message=message,
            error_code=error_code,
            retryable=retryable,
            jitter=self._random.random(),
        )
        self._run(job.execution_id, command)

    def complete_task(self, task_id: str, variables: Mapping[str, Any] | None = None) -> None:
        task = self.tasks_by_id.get(task_id)
        if task is None:
            raise CommandRejected(f"no open user task '{task_id}'")
        command = c.CompleteUserTask(task_id=task_id, variables=dict(variables) if variables else EMPTY)
        self._run(task.execution_id, command)

    def cancel(self, execution_id: str, reason: str = "cancelled") -> None:
        self._run(execution_id, c.Cancel(reason=reason))

    def retry_incident(self, incident_id: str, variables: Mapping[str, Any] | None = None) -> None:
        execution_id = incident_id.rsplit("/", 1)[0]
        self._run(execution_id, c.RetryIncident(incident_id=incident_id, variables=variables))

    def modify(
        self,
        execution_id: str,
        *,
        cancel: Iterable[str] = (),
        activate: Iterable[str] = (),
        variables: Mapping[str, Any] | None = None,
    ) -> None:
        command = c.Modify(cancel=tuple(cancel), activate=tuple(activate), variables=dict(variables or {}))
        self._run(execution_id, command)

    def discard(self, execution_id: str) -> None:
        """Forget a finished execution (its state, history and completed elements), so that an
        engine that runs many executions keeps only what is still useful. A running execution
        cannot be discarded: cancel it first."""
        state = self._states.get(execution_id)
        if state is None:
            raise CommandRejected(f"no execution '{execution_id}'")
        if state["status"] == "running":
            raise CommandRejected(f"execution '{execution_id}' is running: cancel it before discarding it")
        for registry in (self._states, self._history, self._completed, self._programs, self._parent):
            registry.pop(execution_id, None)

    # Time ------------------------------------------------------------------------------------

    def advance(self, to: datetime | timedelta) -> None:
        """Move the virtual clock forward, firing due timers (and delayed jobs) in order."""
        target = self.now + to if isinstance(to, timedelta) else to
        while True:
            due = self.next_due()
            if due is None or due > target:
                break
            self.now = max(self.now, due)
            self._fire_due()
        self.now = max(self.now, target)
        self._fire_due()

    def advance_to_next_timer(self) -> bool:
        """Jump to the next due timer or delayed job and fire it; ``False`` when there is none."""
        due = self.next_due()
        if due is None:
            return False
        self.now = max(self.now, due)
        self._fire_due()
        return True

    def _fire_due(self) -> None:
        for timer_id, (due, execution_id) in sorted(
            self.timers.items(), key=lambda item: (item[1][0], item[0])
        ):
            if due <= self.now and timer_id in self.timers:
                del self.timers[timer_id]
                self._run(execution_id, c.FireTimer(timer_id=timer_id), strict=False)
        for job in sorted(self.jobs_by_id.values(), key=lambda j: (j.run_at or self.now, j.job_id)):
            if job.run_at is not None and job.run_at <= self.now and self._handler_for(job):
                self._ready_jobs.append(job.job_id)
        self._drain()

    # Inspecting ------------------------------------------------------------------------------

    def state(self, execution_id: str) -> dict[str, Any]:
        return self._states[execution_id]

    def status(self, execution_id: str) -> str:
        return self._states[execution_id]["status"]  # type: ignore[no-any-return]

    def variables(self, execution_id: str) -> dict[str, Any]:
        return dict(self._states[execution_id]["scopes"].get(ROOT_SCOPE, {}).get("variables", {}))

    def error(self, execution_id: str) -> str | None:
        return self._states[execution_id].get("error")

    def completed(self, execution_id: str) -> list[str]:
        """Ids of the elements completed, in order, including those of sub-processes and called processes."""
        kept = self._completed.get(execution_id)
        if kept is not None:
            return list(kept)
        history = self._history.get(execution_id, ())
        return [h[2] for h in history if h[1] == COMPLETED and h[2] is not None]  # event, element_id

    def active(self, execution_id: str) -> list[str]:
        """Ids of the elements active now, including those of called processes."""
        found: list[str] = []
        instances = self._states[execution_id]["instances"]
        for inst_id in sorted(instances, key=int):
            found.append(instances[inst_id]["element"])
        for child, (parent, _) in self._parent.items():
            if parent == execution_id and child in self._states:
                found.extend(self.active(child))
        return found

    def history(self, execution_id: str) -> list[dict[str, Any]]:
        return [entry.to_dict() for entry in self._history.get(execution_id, ())]

    def tasks(self, execution_id: str | None = None) -> list[TaskView]:
        if execution_id is None:
            return list(self.tasks_by_id.values())
        return [t for t in self.tasks_by_id.values() if t.execution_id == execution_id]

    def jobs(self, execution_id: str | None = None) -> list[JobView]:
        if execution_id is None:
            return list(self.jobs_by_id.values())
        return [j for j in self.jobs_by_id.values() if j.execution_id == execution_id]

    def summary(self, execution_id: str) -> dict[str, Any]:
        """What ``apg-workflow run --json`` prints for an execution."""
        status = self.status(execution_id)
        return {
            "status": "waiting" if status == "running" else status,
            "variables": self.variables(execution_id),
            "completed": self.completed(execution_id),
            "active": self.active(execution_id),
            "error": self.error(execution_id),
        }

    # Machinery -------------------------------------------------------------------------------

    def _new_id(self) -> str:
        self._count += 1
        return f"e{self._count}"

    def _job(self, job_id: str) -> JobView:
        job = self.jobs_by_id.get(job_id)
        if job is None:
            raise CommandRejected(f"no open job '{job_id}'")
        return job

    def _handler_for(self, job: JobView) -> JobHandler | None:
        for key in (job.component_type, job.implementation):
            if key is not None and key in self._handlers:
                return self._handlers[key]
        return None

    def _run(
        self, execution_id: str, command: c.Command, program: Program | None = None, *, strict: bool = True
    ) -> None:
        if program is not None:
            self._programs[execution_id] = program
        if execution_id not in self._programs:
            raise CommandRejected(f"no execution '{execution_id}'")
        reason = self._apply(execution_id, command)
        if self._queue or self._ready_jobs:
            self._drain()
        if reason is not None and strict:
            raise CommandRejected(reason)

    def _drain(self) -> None:
        while self._queue or self._ready_jobs:
            if self._queue:
                execution_id, command = self._queue.popleft()
                self._apply(execution_id, command)
            else:
                self._run_job(self._ready_jobs.popleft())

    def send(self, execution_id: str, command: c.Command) -> None:
        """Queue a command for an execution (used while applying effects)."""
        self._queue.append((execution_id, command))

    def _apply(self, execution_id: str, command: c.Command) -> str | None:
        program, state = self._programs[execution_id], self._states.get(execution_id)
        if self._plain_step:
            new_state, effects = step(program, state, command, self.now)
        else:
            new_state, effects = self._step(program, state, command)
        if new_state is not None:
            if self.serialize:
                new_state = load_state(_DECODER.raw_decode(_ENCODER.encode(new_state))[0])
            self._states[execution_id] = new_state
            consumes = self._consumes.get(type(command))
            if consumes is not None:  # consumed: a job done, a task completed, a one-off timer fired, …
                registry, wait_of = consumes
                wait_id = wait_of(command)
                if wait_id not in new_state["waits"]:
                    registry.pop(wait_id, None)
        if effects and type(effects[0]) is Rejected:  # then it is the only effect
            return effects[0].reason
        handlers = self._effect_handlers
        if not self._keeps_history:
            for effect in effects:
                handlers[type(effect)](execution_id, effect)
            return None
        history = self._history.get(execution_id)  # record_history, written out below
        if history is None:
            history = self._history[execution_id] = []
        keep = history.append
        follows = execution_id in self._completed  # completed ids kept as they happen
        for effect in effects:
            if type(effect) is History:
                keep(effect)
                if follows and effect[1] == COMPLETED:
                    self._element_completed(execution_id, effect)
            else:
                handlers[type(effect)](execution_id, effect)
                follows = execution_id in self._completed  # starting a child starts keeping them
        return None

    def _step(
        self, program: Program, state: dict[str, Any] | None, command: c.Command
    ) -> tuple[dict[str, Any] | None, list[e.Effect]]:
        return step(program, state, command, self.now)

    def _run_job(self, job_id: str) -> None:
        job = self.jobs_by_id.get(job_id)
        handler = self._handler_for(job) if job is not None else None
        if job is None or handler is None:
            return
        try:
            result = handler(job)
        except JobError as exc:
            self.send(job.execution_id, self._failure(job, exc.message, exc.error_code, exc.retryable))
        except Exception as exc:  # a handler's failure is the job's failure, retried by policy
            self.send(job.execution_id, self._failure(job, f"{type(exc).__name__}: {exc}", None, True))
        else:
            command = c.CompleteJob(job_id=job.job_id, attempt=job.attempt, variables=dict(result or {}))
            self.send(job.execution_id, command)

    def _failure(self, job: JobView, message: str, code: str | None, retryable: bool) -> c.FailJob:
        return c.FailJob(
            job_id=job.job_id,
            attempt=job.attempt,
            message=message,
            error_code=code,
            retryable=retryable,
            jitter=self._random.random(),
        )

    # Called by the effect handlers ------------------------------------------------------------

    def record_history(self, execution_id: str, entry: e.History) -> None:
        """Keep a history entry (a subclass may override this to watch them as they happen)."""
        self._history.setdefault(execution_id, []).append(entry)
        if entry.event == COMPLETED and execution_id in self._completed:
            self._element_completed(execution_id, entry)

    def _element_completed(self, execution_id: str, entry: e.History) -> None:
        if entry.element_id is None:
            return
        current: str | None = execution_id
        while current is not None:
            self._completed[current].append(entry.element_id)
            current = self._parent[current][0] if current in self._parent else None

    def _keep_completed(self, execution_id: str) -> None:
        """From now on keep the completed elements of ``execution_id`` (and of its callers) as they
        happen, so that its children's completions interleave with its own."""
        if execution_id not in self._completed:
            self._completed[execution_id] = self.completed(execution_id)

    def job_created(self, job: JobView) -> None:
        self.jobs_by_id[job.job_id] = job
        if (job.run_at is None or job.run_at <= self.now) and self._handler_for(job):
            self._ready_jobs.append(job.job_id)

    def start_child(self, parent: str, effect: e.StartChild) -> None:
        program = self._programs[parent]
        self._keep_completed(parent)
        self._completed[effect.call_id] = []
        self._parent[effect.call_id] = (parent, effect.call_id)
        self._programs[effect.call_id] = program
        command = c.Start(
            execution_id=effect.call_id,
            process_id=effect.called_element,
            variables=effect.variables,
            business_key=effect.business_key,
        )
        reason = self._apply(effect.call_id, command)
        if reason is not None:
            self.send(parent, c.ChildFailed(call_id=effect.call_id, message=reason))

    def child_ended(self, child: str, effect: e.Effect) -> None:
        link = self._parent.get(child)
        if link is None:
            return
        parent, call_id = link
        if isinstance(effect, e.ExecutionCompleted):
            self.send(parent, c.ChildCompleted(call_id=call_id, variables=effect.variables))
        elif isinstance(effect, e.ExecutionFailed):
            self.send(
                parent, c.ChildFailed(call_id=call_id, message=effect.error, error_code=effect.error_code)
            )


def _default_sandbox() -> Sandbox:
    from apg_workflow.expressions.sandbox import Sandbox as RealSandbox

    return RealSandbox()  # type: ignore[no-any-return]


__all__ = ["CommandRejected", "JobError", "JobView", "MemoryEngine", "TaskView"]
