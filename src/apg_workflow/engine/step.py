"""The pure step: ``step(program, state, command, now) -> (state', effects)``.

No I/O, no clock, no randomness: ids come from the state's counter, time from ``now`` and random
numbers from the command. The input state is never changed. A command that does not apply (an
unknown or stale id, a finished execution) gives the state back unchanged with a
:class:`~apg_workflow.engine.effects.Rejected` effect; bad user data met while running (a failing
expression or script) opens an incident; nothing escapes as an exception.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from apg_workflow.engine import commands as c
from apg_workflow.engine import gateways, jobs, propagation, scopes, subprocess, tokens, triggers
from apg_workflow.engine.context import Ctx, Fault
from apg_workflow.engine.effects import Effect, ExecutionCancelled, Rejected, ResolveIncident
from apg_workflow.engine.program import Program
from apg_workflow.engine.state import ROOT_SCOPE, new_state
from apg_workflow.model import ElementNotFound, StartEvent

# A step that moves more tokens than this is taken to loop forever; the execution fails.
MAX_MOVES = 100_000

Handler = Callable[[Ctx, Any], str | None]  # returns why the command is rejected, or None


def step(
    program: Program, state: Mapping[str, Any] | None, command: c.Command, now: datetime
) -> tuple[dict[str, Any] | None, list[Effect]]:
    """Apply one command to an execution state; return the new state and the effects."""
    if isinstance(command, c.Start):
        if state is not None:
            return dict(state), [Rejected("the execution has already started")]
        return _start(program, command, now)
    if state is None:
        return None, [Rejected("no such execution")]
    if state["status"] != "running":
        return dict(state), [Rejected(f"the execution is {state['status']}")]
    proc = program.processes.get(state["process_id"]) or program.process(state["process_id"])
    ctx = Ctx(program, proc, state, now)
    try:
        reason = _HANDLERS[type(command)](ctx, command)
        if reason is None:
            settle(ctx)
    except Fault as fault:  # the command's own data is unusable (variables that are not JSON, …)
        reason = str(fault)
    if reason is not None:
        return dict(state), [Rejected(reason)]
    return ctx.state, ctx.effects


def _start(program: Program, command: c.Start, now: datetime) -> tuple[dict[str, Any] | None, list[Effect]]:
    try:
        proc = program.process(command.process_id)
    except ElementNotFound:
        return None, [Rejected(f"no process '{command.process_id}'")]
    start_event = command.start_event_id
    if start_event is not None and not isinstance(proc.process.get(start_event), StartEvent):
        return None, [Rejected(f"'{start_event}' is not a start event of process '{proc.process.id}'")]
    process_id = proc.process.id
    try:
        given = command.variables
        variables = {k: scopes.jsonable(v, k) for k, v in given.items()} if given else {}
        state = new_state(command.execution_id, process_id, command.business_key, variables)
        ctx = Ctx(program, proc, state, now, new=True)
        ctx.history("execution.started", process_id, None, {"variables": scopes.clone(variables)})
        subprocess.start_scope(ctx, ROOT_SCOPE, process_id, start_event or proc.start)
        settle(ctx)
    except Fault as fault:
        return None, [Rejected(str(fault))]
    return ctx.state, ctx.effects


def settle(ctx: Ctx) -> None:
    """Move tokens until none can move: the agenda, then inclusive joins and conditional events
    that the moves made ready, until nothing more happens."""
    nodes = ctx.proc.nodes
    moves = 0
    while True:
        agenda = ctx.agenda
        while agenda:
            scope, target, flow = agenda.popleft()
            if scope is None:
                target(ctx, *flow)
            elif scope in ctx.scopes:
                info = nodes[target]
                if info.immediate:
                    tokens.pass_through(ctx, scope, info)
                else:
                    info.behaviour.arrive(ctx, scope, info, flow)
            moves += 1
            if moves > MAX_MOVES:
                propagation.fail_execution(
                    ctx, f"more than {MAX_MOVES} elements ran in one step: an endless loop?"
                )
                return
            agenda = ctx.agenda  # clear_scope may have replaced it
        if ctx.state["status"] != "running":
            return
        if ctx.state["joins"]:
            gateways.check_inclusive_joins(ctx)
        if ctx.state["conditions"] and ctx.vars_changed:
            ctx.vars_changed = False
            triggers.evaluate_conditions(ctx)
        if not ctx.agenda:
            return


def _wait(ctx: Ctx, wait_id: str, kind: str) -> Mapping[str, Any] | None:
    wait = ctx.waits.get(wait_id)
    return wait if wait is not None and wait["kind"] == kind else None


def _job(ctx: Ctx, command: c.CompleteJob | c.FailJob) -> tuple[Mapping[str, Any] | None, str | None]:
    wait = _wait(ctx, command.job_id, "job")
    if wait is None:
        return None, f"no open job '{command.job_id}'"
    if wait["attempt"] != command.attempt:
        return (
            None,
            f"job '{command.job_id}': attempt {command.attempt} is stale (current: {wait['attempt']})",
        )
    return wait, None


def _complete_job(ctx: Ctx, command: c.CompleteJob) -> str | None:
    wait, reason = _job(ctx, command)
    if wait is not None:
        ctx.info(wait["element"]).behaviour.resume(ctx, command.job_id, wait, command.variables)
    return reason


def _fail_job(ctx: Ctx, command: c.FailJob) -> str | None:
    wait, reason = _job(ctx, command)
    if wait is not None:
        jobs.job_failed(ctx, wait, command)
    return reason


def _resume(kind: str, id_field: str) -> Handler:
    def handle(ctx: Ctx, command: Any) -> str | None:
        wait_id = getattr(command, id_field)
        wait = ctx.waits.get(wait_id)
        if wait is None or wait["kind"] != kind:
            return f"no open {kind} '{wait_id}'"
        ctx.proc.nodes[wait["element"]].behaviour.resume(ctx, wait_id, wait, command.variables)
        return None

    return handle


def _trigger(kind: str, id_field: str) -> Handler:
    def handle(ctx: Ctx, command: Any) -> str | None:
        wait_id = getattr(command, id_field)
        if _wait(ctx, wait_id, kind) is None:
            return f"no open {kind} '{wait_id}'"
        triggers.fire(ctx, wait_id, getattr(command, "variables", {}))
        return None

    return handle


def _child_failed(ctx: Ctx, command: c.ChildFailed) -> str | None:
    wait = _wait(ctx, command.call_id, "call")
    if wait is None:
        return f"no open call '{command.call_id}'"
    inst_id = wait["instance"]
    ctx.remove("waits", command.call_id)
    ctx.record("instances", inst_id).pop("wait", None)
    if command.error_code is not None:
        propagation.throw_error(
            ctx, inst_id, command.error_code, own=True, message=command.message, sent=command.message
        )
    else:
        tokens.open_incident(ctx, inst_id, f"the called process failed: {command.message}", "start")
    return None


def _cancel(ctx: Ctx, command: c.Cancel) -> str | None:
    tokens.clear_scope(ctx, ROOT_SCOPE)
    ctx.state["status"] = "cancelled"
    ctx.history("execution.cancelled", ctx.state["process_id"], None, {"reason": command.reason})
    ctx.emit(ExecutionCancelled(reason=command.reason))
    return None


def _retry_incident(ctx: Ctx, command: c.RetryIncident) -> str | None:
    incident = ctx.state["incidents"].get(command.incident_id)
    if incident is None:
        return f"no open incident '{command.incident_id}'"
    inst_id = incident["instance"]
    ctx.remove("incidents", command.incident_id)
    ctx.record("instances", inst_id).pop("incident", None)
    ctx.emit(ResolveIncident(incident_id=command.incident_id))
    inst = ctx.state["instances"][inst_id]
    if command.variables:
        scopes.write(ctx, inst.get("own") or inst["scope"], command.variables, inst["element"], inst_id)
    info = ctx.info(inst["element"])
    action = incident["action"]
    if action == "start":
        info.behaviour.begin(ctx, inst_id, info)
    elif action == "job":
        jobs.retry_job(ctx, inst_id)
    else:
        tokens.complete(ctx, inst_id, incident.get("variables"), leave_only=action == "leave")
    return None


def _modify(ctx: Ctx, command: c.Modify) -> str | None:
    unknown = [e for e in (*command.cancel, *command.activate) if e not in ctx.proc.nodes]
    if unknown:
        return f"no element {', '.join(unknown)} in process '{ctx.proc.process.id}'"
    scopes.write(ctx, ROOT_SCOPE, command.variables, None, None)
    for element in command.activate:  # first, so that cancelling the last token ends nothing
        container = ctx.info(element).container
        scope = next(
            (sid for sid, s in ctx.state["scopes"].items() if s["element"] == container and "tokens" in s),
            None,
        )
        if scope is None:
            return f"'{container}' is not running: '{element}' cannot be activated"
        tokens.push(ctx, scope, element, None)
    for element in command.cancel:
        for inst_id in [i for i, inst in ctx.state["instances"].items() if inst["element"] == element]:
            tokens.cancel(ctx, inst_id)
        for key in [k for k in ctx.state["joins"] if k.endswith(f"|{element}")]:
            waiting = sum(ctx.remove("joins", key).values())
            tokens.token_done(ctx, key.partition("|")[0], waiting)
    return None


_HANDLERS: dict[type, Handler] = {
    c.CompleteJob: _complete_job,
    c.FailJob: _fail_job,
    c.CompleteUserTask: _resume("task", "task_id"),
    c.ChildCompleted: _resume("call", "call_id"),
    c.ChildFailed: _child_failed,
    c.FireTimer: _trigger("timer", "timer_id"),
    c.CorrelateMessage: _trigger("message", "subscription_id"),
    c.BroadcastSignal: _trigger("signal", "subscription_id"),
    c.Cancel: _cancel,
    c.RetryIncident: _retry_incident,
    c.Modify: _modify,
}
