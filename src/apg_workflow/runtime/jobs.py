"""Running one job: its component, with a timeout, turned into the engine command that reports it.

A job with neither component nor implementation is an abstract service task and completes as a
no-op. A component type that is not installed, an implementation no component handles, or an
invalid configuration fail without retry (the element opens an incident with the message). A
:class:`~apg_workflow.components.BpmnError` is thrown at the element; any other failure is retried
per the element's retry policy, which the engine decides.

The secrets of the connections a component used are scrubbed from everything the job writes: its
log lines, its error message and its output variables.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from apg_workflow.components import (
    BpmnError,
    Component,
    ComponentContext,
    ComponentRegistry,
    ConfigurationError,
    RetryableError,
    UnknownComponent,
)
from apg_workflow.components.connections import ConnectionLookup, JobConnections
from apg_workflow.components.redaction import ScrubbingLogger, SecretSet, scrub, scrub_data
from apg_workflow.engine.commands import CompleteJob, FailJob
from apg_workflow.store import JobRecord

log = logging.getLogger("apg_workflow.jobs")


@dataclass(frozen=True, slots=True)
class JobResult:
    """How a job went: its output variables, or a failure (a BPMN error when ``error_code`` is set)."""

    variables: dict[str, Any] | None = None
    message: str | None = None
    error_code: str | None = None
    retryable: bool = True

    @property
    def ok(self) -> bool:
        return self.message is None


async def execute(
    registry: ComponentRegistry,
    *,
    job_id: str,
    attempt: int,
    execution_id: str,
    element_id: str,
    component_type: str | None,
    implementation: str | None,
    config: Mapping[str, Any],
    variables: Mapping[str, Any],
    timeout: float,
    clock: Callable[[], datetime],
    logger: logging.Logger | logging.LoggerAdapter[logging.Logger] | None = None,
    sleeper: Callable[[float], Awaitable[None]] = asyncio.sleep,
    connections: ConnectionLookup | None = None,
    storage_root: Path | None = None,
) -> JobResult:
    """Run a job's component (never raises, except on cancellation). Shared by the durable worker
    and the in-memory runner, so a job behaves the same wherever it runs. ``connections`` resolves
    the connection names of the job's tenant; ``storage_root`` confines file components."""
    type_name = component_type
    if type_name is None:
        if implementation is None:
            return JobResult(variables={})
        if implementation not in registry:
            return JobResult(
                message=f"the implementation '{implementation}' cannot run here: give the task "
                "an apg:component, or run it with a worker that handles it",
                retryable=False,
            )
        type_name = implementation
    try:
        component = registry.create(type_name)
        parsed = component.parse_config(config)
    except (UnknownComponent, ConfigurationError) as exc:
        return JobResult(message=exc.message, retryable=False)
    used = JobConnections(connections) if connections is not None else None
    logger = logger or logging.LoggerAdapter(log, {"execution_id": execution_id, "element_id": element_id})
    context = ComponentContext(
        job_id=job_id,
        attempt=attempt,
        execution_id=execution_id,
        element_id=element_id,
        logger=logger if used is None else ScrubbingLogger(logger, used.secrets),
        deadline=clock() + timedelta(seconds=timeout),
        clock=clock,
        sleeper=sleeper,
        connections=used,
        storage_root=storage_root,
    )
    result = await _run(component, context, parsed, variables, timeout=timeout, type_name=type_name)
    return result if used is None or not used.secrets else _scrubbed(result, used.secrets)


async def _run(
    component: Component[Any],
    context: ComponentContext,
    config: Any,
    variables: Mapping[str, Any],
    *,
    timeout: float,
    type_name: str,
) -> JobResult:
    try:
        async with asyncio.timeout(timeout):
            result = await component.run(context, config, dict(variables))
    except BpmnError as exc:
        return JobResult(message=exc.message, error_code=exc.code)
    except RetryableError as exc:
        return JobResult(message=exc.message)
    except ConfigurationError as exc:
        return JobResult(message=exc.message, retryable=False)
    except TimeoutError:
        return JobResult(message=f"'{type_name}' timed out after {timeout:g}s")
    except Exception as exc:  # a component's failure is the job's failure, retried by policy
        return JobResult(message=f"{type(exc).__name__}: {exc}")
    return JobResult(variables=dict(result or {}))


def _scrubbed(result: JobResult, secrets: SecretSet) -> JobResult:
    """``result`` without the secrets of the connections the component used."""
    return JobResult(
        variables=scrub_data(result.variables, secrets),
        message=scrub(result.message, secrets) if result.message is not None else None,
        error_code=scrub(result.error_code, secrets) if result.error_code is not None else None,
        retryable=result.retryable,
    )


async def run_job(
    registry: ComponentRegistry,
    job: JobRecord,
    *,
    timeout: float,
    clock: Callable[[], datetime],
    jitter: Callable[[], float] = random.random,
    connections: ConnectionLookup | None = None,
    storage_root: Path | None = None,
) -> CompleteJob | FailJob:
    """Run a stored job's component and say how it went, as the engine command that reports it."""
    result = await execute(
        registry,
        job_id=job.id,
        attempt=job.attempt,
        execution_id=job.execution_id,
        element_id=job.element_id,
        component_type=job.component_type,
        implementation=job.implementation,
        config=job.config,
        variables=job.variables,
        timeout=timeout,
        clock=clock,
        connections=connections,
        storage_root=storage_root,
    )
    if result.ok:
        return CompleteJob(job_id=job.id, attempt=job.attempt, variables=result.variables or {})
    return FailJob(
        job_id=job.id,
        attempt=job.attempt,
        message=result.message or "failed",
        error_code=result.error_code,
        retryable=result.retryable,
        jitter=jitter(),
    )


__all__ = ["JobResult", "execute", "run_job"]
