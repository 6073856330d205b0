"""Work done outside the engine: service tasks (and send / business-rule tasks with a component)
emit a job; failures retry per the element's policy and end in an incident when exhausted.
Business-rule tasks without a component evaluate their DMN decision here, in the step."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from apg_workflow.engine import propagation, scopes, tokens
from apg_workflow.engine.activities import ActivityBehaviour, SendBehaviour, inputs_or_all, reading_scope
from apg_workflow.engine.behaviour import register
from apg_workflow.engine.commands import FailJob
from apg_workflow.engine.context import Ctx, Fault
from apg_workflow.engine.decisions import DecisionError, evaluate_decision
from apg_workflow.engine.effects import CreateJob
from apg_workflow.engine.retries import Exhausted, policy_dict, retry_decision
from apg_workflow.model import EMPTY, Activity, BusinessRuleTask, SendTask, ServiceTask

if TYPE_CHECKING:
    from apg_workflow.engine.program import NodeInfo


class JobBehaviour(ActivityBehaviour):
    """Emits a job for the element's component (or foreign implementation) and waits for it."""

    def run(self, ctx: Ctx, inst_id: str, info: NodeInfo) -> None:
        create_job(ctx, inst_id, info, None)

    def resume(self, ctx: Ctx, wait_id: str, wait: Mapping[str, Any], variables: Mapping[str, Any]) -> None:
        result_variable = getattr(ctx.info(wait["element"]).node, "result_variable", None)
        if result_variable:
            variables = {result_variable: dict(variables)}
        super().resume(ctx, wait_id, wait, variables)


def create_job(ctx: Ctx, inst_id: str, info: NodeInfo, run_at: datetime | None) -> None:
    """Emit (or re-emit, for a retry) the instance's job, with the next attempt number."""
    node = info.node
    assert isinstance(node, Activity)
    component = getattr(node, "component", None)
    inst = ctx.record("instances", inst_id)
    job_id = inst.get("wait") or ctx.external_id()
    attempt = inst.get("attempt", 0) + 1
    inst["wait"] = job_id
    inst["attempt"] = attempt
    ctx.add_wait(
        job_id, {"kind": "job", "role": "self", "element": info.id, "instance": inst_id, "attempt": attempt}
    )
    ctx.emit(
        CreateJob(
            job_id=job_id,
            element_id=info.id,
            component_type=component.type if component else None,
            config=component.config if component else EMPTY,
            implementation=getattr(node, "implementation", None),
            variables=inputs_or_all(ctx, inst_id, info),
            retry=policy_dict(node.retry),
            attempt=attempt,
            run_at=run_at,
        )
    )


def job_failed(ctx: Ctx, wait: Mapping[str, Any], command: FailJob) -> None:
    """A job attempt failed: rethrow its BPMN error, retry it later, or open an incident."""
    inst_id = wait["instance"]
    info = ctx.info(wait["element"])
    if command.error_code is not None:
        ctx.remove("waits", command.job_id)
        ctx.record("instances", inst_id).pop("wait", None)
        propagation.throw_error(
            ctx, inst_id, command.error_code, own=True, message=command.message, sent=command.message
        )
        return
    inst = ctx.record("instances", inst_id)
    inst["tries"] = tries = inst.get("tries", 0) + 1
    ctx.history("job.failed", info.id, inst_id, {"message": command.message, "attempt": command.attempt})
    node = info.node
    assert isinstance(node, Activity)
    decision = (
        retry_decision(node.retry, tries, ctx.now, command.jitter) if command.retryable else Exhausted(tries)
    )
    if isinstance(decision, Exhausted):
        ctx.remove("waits", command.job_id)
        tokens.open_incident(ctx, inst_id, command.message, "job")
        return
    create_job(ctx, inst_id, info, decision.at)


def retry_job(ctx: Ctx, inst_id: str) -> None:
    """An operator retries a job whose retries ran out: a fresh budget of attempts."""
    inst = ctx.record("instances", inst_id)
    inst["tries"] = 0
    create_job(ctx, inst_id, ctx.info(inst["element"]), None)


class SendJob(JobBehaviour):
    """A send task: a job when it names a component, else it throws its message."""

    _throw = SendBehaviour()

    def run(self, ctx: Ctx, inst_id: str, info: NodeInfo) -> None:
        node = info.node
        assert isinstance(node, SendTask)
        if node.component is not None:
            super().run(ctx, inst_id, info)
        else:
            self._throw.run(ctx, inst_id, info)


class BusinessRule(JobBehaviour):
    """A business-rule task: a job when it names a component, else it evaluates its DMN decision.

    The decision's value goes to ``result_variable`` when set; otherwise its outputs are merged
    into the variables by name (as SpiffWorkflow does). The rules that matched go to history.
    """

    def run(self, ctx: Ctx, inst_id: str, info: NodeInfo) -> None:
        node = info.node
        assert isinstance(node, BusinessRuleTask)
        if node.component is not None:
            super().run(ctx, inst_id, info)
            return
        if not node.decision_ref:
            raise Fault(f"{node.label} names no decision")
        decision = ctx.program.decisions.get(node.decision_ref)
        if decision is None:
            raise Fault(f"{node.label}: the decision '{node.decision_ref}' is not deployed")
        variables = scopes.visible(ctx, reading_scope(ctx, inst_id))
        try:
            result = evaluate_decision(decision, variables, sandbox=ctx.program.sandbox, now=ctx.now)
        except DecisionError as exc:
            raise Fault(f"decision '{node.decision_ref}' of {node.label} failed: {exc}") from None
        matched = [rule.to_dict() for rule in result.matched_rules]
        ctx.history(
            "decision.evaluated", info.id, inst_id, {"decision": result.decision_id, "matched": matched}
        )
        values = {node.result_variable: result.value} if node.result_variable else dict(result.variables)
        tokens.complete(ctx, inst_id, values)


register(ServiceTask, JobBehaviour())
register(SendTask, SendJob())
register(BusinessRuleTask, BusinessRule())
