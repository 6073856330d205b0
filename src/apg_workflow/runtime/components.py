"""Components that need the engine, the formats or the store, which the ``components`` layer may
not import.

``decision.evaluate`` reads DMN with :mod:`apg_workflow.formats.dmn` and evaluates it with
:mod:`apg_workflow.engine.decisions`, the code that runs business-rule tasks. ``workflow.call``
starts another workflow through the :class:`WorkflowCalls` of its runner: the store's
(:class:`StoredWorkflowCalls`, for workers) or the in-memory engine's (``apg-workflow run``). They
join the catalogue through :func:`apg_workflow.runtime.registry.platform_registry`, which every
runner uses.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

from pydantic import Field, field_validator, model_validator
from sqlalchemy import select

from apg_workflow.components import (
    BpmnError,
    Component,
    ComponentConfig,
    ComponentContext,
    ConfigurationError,
    RetryableError,
)
from apg_workflow.components.builtins.helpers import VariableName, output_variable
from apg_workflow.components.builtins.integration.support import render
from apg_workflow.components.builtins.ml import storage_file
from apg_workflow.engine.decisions import DecisionError, evaluate_decision
from apg_workflow.expressions.sandbox import Sandbox
from apg_workflow.formats import FormatError
from apg_workflow.formats.dmn import read_dmn
from apg_workflow.model.decisions import Decision, DecisionDefinitions
from apg_workflow.runtime.context import Runtime
from apg_workflow.store import CommandRejected, NotFound, start_execution
from apg_workflow.store.reads import execution_summary, get_execution
from apg_workflow.store.tables import executions

_SANDBOX = Sandbox()


class DecisionConfig(ComponentConfig):
    file: str | None = Field(
        None, max_length=1000, description="A `.dmn` file, relative to the storage root."
    )
    xml: str | None = Field(None, max_length=5_000_000, description="Or the DMN XML itself (DMN 1.1 to 1.5).")
    decision: str | None = Field(
        None,
        max_length=500,
        description="The id or name of the decision to evaluate; by default the one no other decision "
        "requires, when there is exactly one.",
    )
    output_variable: VariableName = output_variable("result")
    matched_rules_variable: VariableName | None = Field(
        None,
        description="When set, the output variable that lists the rules that matched (id, row, "
        "annotations, outputs), for audit.",
    )

    @field_validator("file")
    @classmethod
    def _file(cls, value: str | None) -> str | None:
        if value is not None and not value.lower().endswith(".dmn"):
            raise ValueError(f"'{value}' must be a .dmn file")
        return value

    @model_validator(mode="after")
    def _source(self) -> DecisionConfig:
        if (self.file is None) == (self.xml is None):
            raise ValueError("give either file or xml")
        if self.xml is not None:
            try:  # a malformed document is refused with the configuration
                _parsed_text(self.xml)
            except ConfigurationError as exc:
                raise ValueError(exc.message) from None
        return self


def _read(data: bytes | str, source: str) -> DecisionDefinitions:
    try:
        return read_dmn(data, source=source)
    except FormatError as exc:
        details = "; ".join(p.message for p in exc.problems) or str(exc)
        raise ConfigurationError(f"{source} is not a usable DMN file: {details}") from None


@lru_cache(maxsize=64)
def _parsed_text(xml: str) -> DecisionDefinitions:
    return _read(xml.encode("utf-8"), f"inline DMN {hashlib.sha256(xml.encode()).hexdigest()[:8]}")


@lru_cache(maxsize=64)
def _parsed_file(path: Path, modified: int, size: int) -> DecisionDefinitions:
    """The file's decisions, read again when its modification time or size changes."""
    return _read(path.read_bytes(), path.name)


def _choose(definitions: DecisionDefinitions, ref: str | None) -> Decision:
    if ref is not None:
        found = definitions.find(ref)
        if found is None:
            known = ", ".join(d.id for d in definitions) or "none"
            raise ConfigurationError(f"there is no decision '{ref}' (decisions: {known})")
        return found
    required = {r.id for d in definitions for r in d.required_decisions}
    tops = [d for d in definitions if d.id not in required]
    if len(tops) != 1:
        names = ", ".join(d.id for d in tops) or "none"
        raise ConfigurationError(f"say which decision to evaluate: the file offers {names}")
    return tops[0]


class EvaluateDecision(Component[DecisionConfig]):
    type = "decision.evaluate"
    category = "advanced"
    title = "Evaluate a DMN decision"
    description = (
        "Evaluates a DMN decision table or literal expression (and the decisions it requires) over the "
        "inputs, from a `.dmn` file in the storage root or XML in the configuration: the same "
        "evaluation as a business-rule task, for definitions that keep their rules beside the process. "
        "FEEL and Python cells, every hit policy. A table that cannot decide (a UNIQUE table with two "
        "matches, a failing cell) opens an incident that names the rule."
    )
    Config = DecisionConfig
    outputs = {
        "type": "object",
        "properties": {
            "result": {"description": "the decision's value: one value, an object of outputs, or a list"}
        },
    }
    examples = (
        {
            "config": {"file": "rules/discount.dmn", "output_variable": "discount_percent"},
            "inputs": {"customerType": "Business", "years": 6},
            "outputs": {"discount_percent": 12.5},
        },
    )

    async def run(
        self, context: ComponentContext, config: DecisionConfig, inputs: Mapping[str, Any]
    ) -> Mapping[str, Any]:
        if config.xml is not None:
            definitions = _parsed_text(config.xml)
        else:
            path = storage_file(context, config.file or "", "file")
            stat = path.stat()
            definitions = _parsed_file(path, stat.st_mtime_ns, stat.st_size)
        decision = _choose(definitions, config.decision)
        try:
            result = evaluate_decision(decision, inputs, sandbox=_SANDBOX, now=context.now())
        except DecisionError as exc:
            raise ConfigurationError(f"the decision {decision.label} failed: {exc.message}") from None
        outputs: dict[str, Any] = {config.output_variable: result.value}
        if config.matched_rules_variable is not None:
            outputs[config.matched_rules_variable] = [rule.to_dict() for rule in result.matched_rules]
        return outputs


# workflow.call -----------------------------------------------------------------------------------

ENDED = frozenset({"completed", "failed", "cancelled"})
REQUEST_PREFIX = "workflow.call:"  # keeps job ids apart from the request ids API callers choose


@dataclass(frozen=True, slots=True)
class CallRequest:
    """One start of a called workflow. ``request_id`` comes from the job id, so a retried job finds
    the execution its first attempt started instead of starting a second one."""

    key: str
    version: int | None
    variables: Mapping[str, Any]
    request_id: str


@dataclass(frozen=True, slots=True)
class CalledExecution:
    """A called execution as the caller last saw it; ``status`` is completed, failed, cancelled or
    waiting (still running)."""

    execution_id: str
    status: str
    variables: Mapping[str, Any] = field(default_factory=dict)
    error: str | None = None
    active: tuple[str, ...] = ()


class WorkflowCalls(Protocol):
    """How ``workflow.call`` reaches the executions of the runner it runs in."""

    async def call(
        self, context: ComponentContext, request: CallRequest, until: datetime | None
    ) -> CalledExecution:
        """Start ``request`` in the caller's tenant (or find the execution an earlier attempt
        started); with ``until``, wait until it ends or the clock reaches ``until``."""
        ...


@dataclass(frozen=True, slots=True)
class StoredWorkflowCalls:
    """``workflow.call`` on the durable runtime: the called workflow starts in the store, in the
    calling execution's tenant, and runs on whichever worker claims its jobs; the caller polls its
    status (backing off up to the poll interval) while it waits."""

    runtime: Runtime

    async def call(
        self, context: ComponentContext, request: CallRequest, until: datetime | None
    ) -> CalledExecution:
        tenant = context.tenant_id or await self._tenant_of(context.execution_id)
        try:
            started = await start_execution(
                self.runtime.transitions,
                tenant_id=tenant,
                key=request.key,
                version=request.version,
                variables=request.variables,
                request_id=request.request_id,
            )
        except NotFound:
            raise ConfigurationError(f"there is no deployed workflow {_label(request)}") from None
        except CommandRejected as exc:
            raise ConfigurationError(
                f"the workflow {_label(request)} refused to start: {exc.reason}"
            ) from None
        if until is None:
            return CalledExecution(started.execution_id, started.status)
        return await self._wait(context, tenant, started.execution_id, until)

    async def _tenant_of(self, execution_id: str) -> str:
        """The calling execution's tenant, when the worker did not say it."""
        stmt = select(executions.c.tenant_id).where(executions.c.id == execution_id)
        tenant = await self.runtime.db.read(lambda conn: conn.scalar(stmt))
        if tenant is None:
            raise ConfigurationError(f"the calling execution '{execution_id}' is not in the store")
        return str(tenant)

    async def _wait(
        self, context: ComponentContext, tenant: str, execution_id: str, until: datetime
    ) -> CalledExecution:
        db = self.runtime.db
        until = _before_deadline(context, until)
        pause, longest = 0.01, self.runtime.settings.poll_interval_seconds
        while True:
            record = await db.read(lambda conn: get_execution(conn, tenant, execution_id))
            left = (until - context.now()).total_seconds()
            if record.status in ENDED or left <= 0:
                break
            await context.sleep(min(pause, left))
            pause = min(pause * 2, longest)
        summary = await db.read(lambda conn: execution_summary(conn, tenant, execution_id))
        return CalledExecution(
            execution_id, summary["status"], summary["variables"], summary["error"], tuple(summary["active"])
        )


def _label(request: CallRequest) -> str:
    return f"'{request.key}'" + (f" version {request.version}" if request.version is not None else "")


class CallConfig(ComponentConfig):
    workflow: str = Field(
        min_length=1,
        max_length=200,
        description="The key of the workflow to start (the id of its main process), in the caller's "
        "tenant. Under `apg-workflow run`: the id or name of a process in the files given.",
    )
    version: int | None = Field(
        None, ge=1, description="The deployed version to start; by default the latest. Ignored by `run`."
    )
    variables: dict[VariableName, Any] | None = Field(
        None,
        description="The called workflow's start variables; a text that is exactly `${name}` takes the "
        "input's value with its type, `${name}` inside a longer text inserts it as text. By default the "
        "task's inputs, all of them.",
    )
    wait: bool = Field(
        True,
        description="Wait for the called workflow to end and return its variables; `false` returns as "
        "soon as it has started.",
    )
    timeout: float = Field(
        60.0,
        gt=0,
        le=86_400,
        description="Seconds to wait (on a worker, at most its job timeout). Still running then: the "
        "job fails with a retryable error and its retry waits for the same execution.",
    )
    output_variable: VariableName | None = Field(
        None,
        description="When set, the called workflow's final variables go into this one variable (an "
        "object); by default each of them is an output of the task.",
    )
    execution_variable: VariableName | None = Field(
        "called_execution_id",
        description="The output variable that receives the called execution's id; `null` for none.",
    )


class CallWorkflow(Component[CallConfig]):
    type = "workflow.call"
    category = "advanced"
    title = "Call a workflow"
    description = (
        "Starts an execution of another workflow deployed in the same tenant and, by default, waits "
        "for it to end: its final variables are the task's outputs. A called workflow that fails "
        "raises the BPMN error `workflow-failed` (`workflow-cancelled` when it was cancelled), which an "
        "error boundary event can catch; one still running at the timeout is a retryable failure. The "
        "job id is the start's request id, so a retried job never starts a second execution. The "
        "called execution is independent of the caller (cancelling one leaves the other running) and, "
        "while waiting, the task holds a worker slot: give workers room for the called workflow's "
        "jobs. `apg-workflow run` runs the called workflow in memory from the files given."
    )
    Config = CallConfig
    inputs = {
        "type": "object",
        "description": "The called workflow's start variables (unless `variables` is set), and the "
        "values its `${name}` placeholders take.",
    }
    outputs = {
        "type": "object",
        "properties": {
            "called_execution_id": {
                "type": "string",
                "description": "the called execution (`execution_variable`)",
            },
        },
        "description": "the called workflow's final variables, one output each or in `output_variable`",
    }
    examples = (
        {
            "config": {"workflow": "credit-check", "variables": {"customer": "${customer_id}"}},
            "inputs": {"customer_id": "C-42"},
            "outputs": {
                "customer": "C-42",
                "score": 710,
                "called_execution_id": "3f9c2a71d04e4b7e9a51c6d8e2b0f417",
            },
        },
        {
            "config": {"workflow": "send-welcome-pack", "wait": False},
            "inputs": {"email": "ada@example.com"},
            "outputs": {"called_execution_id": "8b1e07c5a9d24f0c8e3b5a6d7c9f1e20"},
        },
        {
            "config": {"workflow": "credit-check", "output_variable": "check"},
            "inputs": {"customer": "C-7"},
            "error": {
                "code": "workflow-failed",
                "message": "the called workflow 'credit-check' (execution "
                "c41d9e2f6a8b4c07b5e3d1f0a9c8e76b) failed: no credit file for C-7",
            },
        },
    )

    def __init__(self, calls: WorkflowCalls | None = None) -> None:
        self.calls = calls

    async def run(
        self, context: ComponentContext, config: CallConfig, inputs: Mapping[str, Any]
    ) -> Mapping[str, Any]:
        if self.calls is None:
            raise ConfigurationError(
                "workflow.call cannot run here: this runner does not reach workflow executions "
                "(it runs under `apg-workflow worker`, `server` and `run`)"
            )
        variables = (
            dict(inputs) if config.variables is None else render(config.variables, inputs, "variables")
        )
        request = CallRequest(config.workflow, config.version, variables, f"{REQUEST_PREFIX}{context.job_id}")
        begun = context.now()
        until = begun + timedelta(seconds=config.timeout) if config.wait else None
        called = await self.calls.call(context, request, until)
        if until is None:
            outputs: dict[str, Any] = {}
        else:
            outputs = _result(config, request, called, (context.now() - begun).total_seconds())
        if config.execution_variable is not None:
            outputs[config.execution_variable] = called.execution_id
        return outputs


def _before_deadline(context: ComponentContext, until: datetime) -> datetime:
    """``until``, cut short so that a wait ends before the job's own deadline (its timeout) does."""
    if context.deadline is None:
        return until
    margin = min(timedelta(seconds=1), (context.deadline - context.now()) / 10)
    return min(until, context.deadline - margin)


def _result(
    config: CallConfig, request: CallRequest, called: CalledExecution, waited: float
) -> dict[str, Any]:
    """The outputs of a called execution that was waited for, or the error its end calls for."""
    label = f"the called workflow {_label(request)} (execution {called.execution_id})"
    if called.status == "failed":
        raise BpmnError("workflow-failed", f"{label} failed: {called.error or 'no reason given'}")
    if called.status == "cancelled":
        raise BpmnError("workflow-cancelled", f"{label} was cancelled: {called.error or 'no reason given'}")
    if called.status != "completed":
        where = f" (at {', '.join(called.active)})" if called.active else ""
        raise RetryableError(
            f"{label} is still running after {waited:.3g}s{where}; a retry waits for the same execution"
        )
    variables = dict(called.variables)
    return {config.output_variable: variables} if config.output_variable is not None else variables


def workflow_call(calls: WorkflowCalls) -> type[CallWorkflow]:
    """``workflow.call`` reaching executions through ``calls``: the class a runner registers (the
    registry makes components without arguments)."""

    class BoundCallWorkflow(CallWorkflow):
        def __init__(self) -> None:
            super().__init__(calls)

    BoundCallWorkflow.__name__ = BoundCallWorkflow.__qualname__ = CallWorkflow.__name__
    return BoundCallWorkflow


COMPONENTS: tuple[type[Component[Any]], ...] = (EvaluateDecision, CallWorkflow)


__all__ = [
    "COMPONENTS",
    "CallRequest",
    "CallWorkflow",
    "CalledExecution",
    "EvaluateDecision",
    "StoredWorkflowCalls",
    "WorkflowCalls",
    "workflow_call",
]
