"""Running definitions in this process, in memory: the engine of ``apg-workflow run``.

:class:`LocalRunner` drives :class:`~apg_workflow.engine.memory.MemoryEngine` with the installed
components: service-task jobs run their component right away, listed user tasks are completed as
soon as they are ready, and timers fire in real time, or at once under virtual time when nothing
else can move. ``workflow.call`` starts its workflow in the same engine, from the processes of the
files given, and drives it while the calling job waits (:class:`LocalWorkflowCalls`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from apg_workflow.components import ComponentContext, ComponentRegistry, ConfigurationError
from apg_workflow.components.connections import ConnectionLookup
from apg_workflow.engine import effects as e
from apg_workflow.engine.memory import CommandRejected, MemoryEngine
from apg_workflow.engine.memory_driver import JobView, TaskView
from apg_workflow.model import Definitions
from apg_workflow.model.decisions import DecisionDefinitions
from apg_workflow.model.errors import ElementNotFound
from apg_workflow.runtime.components import CalledExecution, CallRequest
from apg_workflow.runtime.jobs import JobResult, execute
from apg_workflow.runtime.registry import platform_registry, with_workflow_calls

TERMINAL = frozenset({"completed", "failed", "cancelled"})
ANY_TASK = "*"
MAX_CALL_DEPTH = 32  # workflow.call inside workflow.call: deeper is a workflow calling itself
Trace = Callable[[str, e.History], None]
log = logging.getLogger("apg_workflow.run")


class _TracingEngine(MemoryEngine):
    """A MemoryEngine that also hands every history entry to a trace callback as it happens."""

    trace: Trace | None = None

    def record_history(self, execution_id: str, entry: e.History) -> None:
        super().record_history(execution_id, entry)
        if self.trace is not None:
            self.trace(execution_id, entry)


async def _no_wait(seconds: float) -> None:
    """Under virtual time a component's wait takes no real time."""


class LocalRunner:
    """Runs one or more definitions in memory with components executing in this process."""

    def __init__(
        self,
        definitions: Iterable[Definitions],
        decisions: Iterable[DecisionDefinitions] = (),
        *,
        registry: ComponentRegistry | None = None,
        virtual_time: bool = False,
        trace: Trace | None = None,
        job_timeout: float = 300.0,
        connections: ConnectionLookup | None = None,
        storage_root: Path | None = None,
    ) -> None:
        self.definitions = list(definitions)
        self.registry = registry or with_workflow_calls(platform_registry(), LocalWorkflowCalls(self))
        self.virtual_time = virtual_time
        self.engine = _TracingEngine(self.definitions, decisions=list(decisions), start=datetime.now(UTC))
        self.engine.trace = trace
        self.logs: list[tuple[str, str, str]] = []  # (execution id, level, message) written by components
        self.job_timeout = job_timeout
        self.connections = connections
        self.storage_root = storage_root
        self._answers: dict[str, Mapping[str, Any]] = {}
        self._in_flight: set[str] = set()  # jobs whose component runs (workflow.call waits in one)
        self._loop = asyncio.Runner()

    def close(self) -> None:
        self._loop.close()

    def __enter__(self) -> LocalRunner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # Jobs ------------------------------------------------------------------------------------

    async def _settle_jobs(self) -> bool:
        """Run every job that is due with its component (the same way the durable worker does),
        except those already running further up: a job whose component waits for a called workflow."""
        moved = False
        for seen in self.engine.jobs():
            job = self.engine.jobs_by_id.get(seen.job_id)
            if job is None or job.attempt != seen.attempt or job.job_id in self._in_flight:
                continue  # done meanwhile (by a called workflow's drive), or running
            if job.run_at is not None and job.run_at > self.engine.now:
                continue
            self._in_flight.add(job.job_id)
            try:
                result = await self._execute(job)
            finally:
                self._in_flight.discard(job.job_id)
            moved = True
            if job.job_id not in self.engine.jobs_by_id:
                continue  # cancelled while it ran (an interrupting boundary event): its result is moot
            if result.ok:
                self.engine.complete_job(job.job_id, result.variables)
            else:
                self.engine.fail_job(
                    job.job_id,
                    result.message or "failed",
                    error_code=result.error_code,
                    retryable=result.retryable,
                )
        return moved

    async def _execute(self, job: JobView) -> JobResult:
        return await execute(
            self.registry,
            job_id=job.job_id,
            attempt=job.attempt,
            execution_id=job.execution_id,
            element_id=job.element_id,
            component_type=job.component_type,
            implementation=job.implementation,
            config=job.config,
            variables=job.variables,
            timeout=self.job_timeout,
            clock=lambda: self.engine.now,
            logger=_ExecutionLog(self.logs, job.execution_id, job.element_id),
            sleeper=_no_wait if self.virtual_time else asyncio.sleep,
            connections=self.connections,
            storage_root=self.storage_root,
        )

    # User tasks ------------------------------------------------------------------------------

    def _settle_tasks(self) -> bool:
        moved = False
        for task in self.engine.tasks():
            variables = _answer_for(task, self._answers)
            if variables is not None:
                self.engine.complete_task(task.task_id, variables)
                moved = True
        return moved

    # Running ---------------------------------------------------------------------------------

    def run(
        self,
        process_id: str | None = None,
        variables: Mapping[str, Any] | None = None,
        *,
        tasks: Mapping[str, Mapping[str, Any]] | None = None,
        business_key: str | None = None,
    ) -> str:
        """Start an execution and drive it until it ends or nothing more can happen; its id."""
        self._answers = dict(tasks or {})
        execution_id = self.engine.start(process_id, variables, business_key=business_key)
        self._loop.run(self.drive(execution_id))
        return execution_id

    async def drive(self, execution_id: str, until: datetime | None = None) -> None:
        """Run due jobs, complete the listed user tasks and fire timers until ``execution_id`` ends,
        nothing more can happen, or the engine's clock reaches ``until``."""
        while True:
            if await self._settle_jobs() or self._settle_tasks():
                continue
            if self.engine.status(execution_id) in TERMINAL:
                return
            due = self.engine.next_due()
            if due is None and (until is None or not self.virtual_time):
                return  # nothing can happen any more: waiting in real time would change nothing
            if until is not None and (due is None or due > until):
                await self._wait_until(until)
                return
            assert due is not None
            await self._wait_until(due)

    async def _wait_until(self, moment: datetime) -> None:
        """Move the clock to ``moment`` (firing what falls due): at once under virtual time."""
        if not self.virtual_time:
            await asyncio.sleep(max(0.0, (moment - datetime.now(UTC)).total_seconds()))
            moment = max(moment, datetime.now(UTC))
        self.engine.advance(moment)

    def summary(self, execution_id: str) -> dict[str, Any]:
        """The ``run --json`` object. An execution stuck on incidents that nothing here can retry
        is reported as failed, with the incidents' messages as its error."""
        result = self.engine.summary(execution_id)
        if self.engine.next_due() is not None:
            return result
        return _failed_if_stuck(result, self.engine.incidents.values())


class LocalWorkflowCalls:
    """``workflow.call`` under ``apg-workflow run``: the called workflow is a process of the files
    given (by id or name; versions do not exist here), started in the runner's engine and driven —
    its jobs, the listed user tasks, its timers — while the calling job waits. A retried job finds
    the execution its first attempt started. A called execution stuck on an incident counts as
    failed, since nothing here can retry it."""

    def __init__(self, runner: LocalRunner) -> None:
        self._runner = runner
        self._started: dict[str, str] = {}  # request id → execution id
        self._depth = 0

    async def call(
        self, context: ComponentContext, request: CallRequest, until: datetime | None
    ) -> CalledExecution:
        engine = self._runner.engine
        if self._depth >= MAX_CALL_DEPTH:
            raise ConfigurationError(
                f"workflow.call is nested more than {MAX_CALL_DEPTH} deep: does '{request.key}' call itself?"
            )
        execution_id = self._started.get(request.request_id)
        if execution_id is None:
            execution_id = self._start(request)
            self._started[request.request_id] = execution_id
        if until is not None:
            self._depth += 1
            try:
                await self._runner.drive(execution_id, until)
            finally:
                self._depth -= 1
        incidents = [i for i in engine.incidents.values() if i[0] == execution_id]
        summary = _failed_if_stuck(engine.summary(execution_id), incidents)
        return CalledExecution(
            execution_id, summary["status"], summary["variables"], summary["error"], tuple(summary["active"])
        )

    def _start(self, request: CallRequest) -> str:
        engine = self._runner.engine
        try:
            process = engine.program.process(request.key)
        except ElementNotFound:
            known = ", ".join(sorted(engine.program.processes)) or "none"
            raise ConfigurationError(
                f"there is no workflow '{request.key}' in the files given to run (processes: {known})"
            ) from None
        try:
            return engine.start(process.process.id, request.variables)
        except CommandRejected as exc:
            raise ConfigurationError(f"the workflow '{request.key}' refused to start: {exc}") from None


def _failed_if_stuck(result: dict[str, Any], incidents: Iterable[tuple[str, str, str]]) -> dict[str, Any]:
    """``result`` (a summary), failed when the execution waits on incidents: nobody here retries them."""
    stuck = [message for *_, message in incidents]
    if result["status"] == "waiting" and stuck:
        result["status"] = "failed"
        result["error"] = "; ".join(stuck)
    return result


def _answer_for(task: TaskView, answers: Mapping[str, Mapping[str, Any]]) -> Mapping[str, Any] | None:
    for key in (task.element_id, task.name):
        if key is not None and key in answers:
            return answers[key]
    return answers.get(ANY_TASK)


class _ExecutionLog(logging.LoggerAdapter):  # type: ignore[type-arg]
    """The logger a component gets: lines go to the execution's log (and to Python logging)."""

    def __init__(self, sink: list[tuple[str, str, str]], execution_id: str, element_id: str) -> None:
        super().__init__(log, {"execution_id": execution_id, "element_id": element_id})
        self._sink = sink
        self._execution_id = execution_id

    def log(self, level: int, msg: object, *args: object, **kwargs: Any) -> None:
        text = str(msg) % args if args else str(msg)
        self._sink.append((self._execution_id, logging.getLevelName(level).lower(), text))
        super().log(level, msg, *args, **kwargs)
