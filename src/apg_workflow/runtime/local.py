"""Running definitions in this process, in memory: the engine of ``apg-workflow run``.

:class:`LocalRunner` drives :class:`~apg_workflow.engine.memory.MemoryEngine` with the installed
components: service-task jobs run their component right away, listed user tasks are completed as
soon as they are ready, and timers fire in real time, or at once under virtual time when nothing
else can move.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from apg_workflow.components import ComponentRegistry
from apg_workflow.components.connections import ConnectionLookup
from apg_workflow.engine import effects as e
from apg_workflow.engine.memory import MemoryEngine
from apg_workflow.engine.memory_driver import TaskView
from apg_workflow.model import Definitions
from apg_workflow.model.decisions import DecisionDefinitions
from apg_workflow.runtime.jobs import execute
from apg_workflow.runtime.registry import platform_registry

TERMINAL = frozenset({"completed", "failed", "cancelled"})
ANY_TASK = "*"
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
        self.registry = registry or platform_registry()
        self.virtual_time = virtual_time
        self.engine = _TracingEngine(self.definitions, decisions=list(decisions), start=datetime.now(UTC))
        self.engine.trace = trace
        self.logs: list[tuple[str, str, str]] = []  # (execution id, level, message) written by components
        self.job_timeout = job_timeout
        self.connections = connections
        self.storage_root = storage_root
        self._loop = asyncio.Runner()

    def close(self) -> None:
        self._loop.close()

    def __enter__(self) -> LocalRunner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # Jobs ------------------------------------------------------------------------------------

    def _settle_jobs(self) -> bool:
        """Run every job that is due with its component (the same way the durable worker does)."""
        moved = False
        for job in self.engine.jobs():
            if job.run_at is not None and job.run_at > self.engine.now:
                continue
            result = self._loop.run(
                execute(
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
            )
            if result.ok:
                self.engine.complete_job(job.job_id, result.variables)
            else:
                self.engine.fail_job(
                    job.job_id,
                    result.message or "failed",
                    error_code=result.error_code,
                    retryable=result.retryable,
                )
            moved = True
        return moved

    # User tasks ------------------------------------------------------------------------------

    def _settle_tasks(self, answers: Mapping[str, Mapping[str, Any]]) -> bool:
        moved = False
        for task in self.engine.tasks():
            variables = _answer_for(task, answers)
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
        answers = dict(tasks or {})
        execution_id = self.engine.start(process_id, variables, business_key=business_key)
        while True:
            if self._settle_jobs() or self._settle_tasks(answers):
                continue
            if self.engine.status(execution_id) in TERMINAL:
                return execution_id
            due = self.engine.next_due()
            if due is None:
                return execution_id
            if self.virtual_time:
                self.engine.advance_to_next_timer()
            else:
                time.sleep(max(0.0, (due - datetime.now(UTC)).total_seconds()))
                self.engine.advance(max(due, datetime.now(UTC)))

    def summary(self, execution_id: str) -> dict[str, Any]:
        """The ``run --json`` object. An execution stuck on incidents that nothing here can retry
        is reported as failed, with the incidents' messages as its error."""
        result = self.engine.summary(execution_id)
        stuck = [message for *_, message in self.engine.incidents.values()]
        if result["status"] == "waiting" and stuck and self.engine.next_due() is None:
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
