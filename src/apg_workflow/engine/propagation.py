"""BPMN errors and escalations travel outward through scopes to the nearest matching catcher.

From the thrower outward: the boundary events of each enclosing activity (of the thrower itself
when an activity's job or called process threw), then the event sub-processes of each enclosing
scope. An uncaught error fails the execution with a message naming the error and the element; an
uncaught escalation changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from apg_workflow.engine import subprocess, tokens, triggers
from apg_workflow.engine.context import Ctx
from apg_workflow.engine.effects import ExecutionFailed
from apg_workflow.engine.state import ROOT_SCOPE
from apg_workflow.model import ErrorDefinition, EscalationDefinition, EventDefinition, StartEvent

Catcher = tuple[
    str, str, str, str | None
]  # ("boundary", host, boundary id, None) | ("start", scope, esp, start)


def error_code(ctx: Ctx, error_ref: str | None) -> str | None:
    """The code an error end event throws: its error's ``errorCode``, else its name, else its id."""
    if error_ref is None:
        return None
    error = ctx.program.errors.get(error_ref)
    return (error.error_code or error.name or error_ref) if error else error_ref


def escalation_code(ctx: Ctx, escalation_ref: str | None) -> str | None:
    if escalation_ref is None:
        return None
    escalation = ctx.program.escalations.get(escalation_ref)
    return (escalation.escalation_code or escalation.name or escalation_ref) if escalation else escalation_ref


def _error_names(ctx: Ctx, ref: str) -> set[str | None]:
    error = ctx.program.errors.get(ref)
    return {ref, error.error_code, error.name} if error else {ref}


def _escalation_names(ctx: Ctx, ref: str) -> set[str | None]:
    escalation = ctx.program.escalations.get(ref)
    return {ref, escalation.escalation_code, escalation.name} if escalation else {ref}


def throw_error(ctx: Ctx, inst_id: str, code: str | None, *, own: bool, message: str | None = None) -> None:
    """Throw a BPMN error from an instance; ``own`` lets the thrower's own boundary events catch it."""
    element = ctx.state["instances"][inst_id]["element"]
    ctx.history("error.thrown", element, inst_id, {"code": code, "message": message})

    def matches(definition: EventDefinition) -> bool:
        ref = getattr(definition, "error_ref", None)
        return ref is None or code in _error_names(ctx, ref)

    catcher = _find(ctx, inst_id, own, ErrorDefinition, matches)
    if catcher is not None:
        _catch(ctx, catcher)
        return
    label = ctx.info(element).node.label
    what = f"BPMN error '{code}'" if code else "a BPMN error"
    detail = f": {message}" if message else ""
    fail_execution(ctx, f"{what} thrown by {label} was not caught{detail}", code, element)


def throw_escalation(ctx: Ctx, inst_id: str, code: str | None) -> None:
    element = ctx.state["instances"][inst_id]["element"]
    ctx.history("escalation.thrown", element, inst_id, {"code": code})

    def matches(definition: EventDefinition) -> bool:
        ref = getattr(definition, "escalation_ref", None)
        return ref is None or code in _escalation_names(ctx, ref)

    catcher = _find(ctx, inst_id, False, EscalationDefinition, matches)
    if catcher is not None:
        _catch(ctx, catcher)


def _find(
    ctx: Ctx, inst_id: str, own: bool, kind: type[EventDefinition], matches: Callable[[EventDefinition], bool]
) -> Catcher | None:
    instances = ctx.state["instances"]
    all_scopes = ctx.state["scopes"]
    current: str | None = inst_id
    check = own
    while current is not None:
        inst = instances[current]
        if check and "body" in inst:  # an iteration: the boundary events belong to the loop body
            current = inst["body"]
            continue
        if check:
            for boundary in ctx.info(inst["element"]).boundaries:
                definition = boundary.definition(kind)
                if definition is not None and matches(definition):
                    return ("boundary", current, boundary.id, None)
        scope_id = inst["scope"]
        scope = all_scopes[scope_id]
        if "tokens" in scope:
            for esp in ctx.proc.containers[scope["element"]].event_subprocesses:
                if esp.id == inst["element"]:
                    continue  # an event sub-process does not catch what it throws itself
                for start in esp.nodes:
                    definition = start.definition(kind) if isinstance(start, StartEvent) else None
                    if definition is not None and matches(definition):
                        return ("start", scope_id, esp.id, start.id)
        current = scope["owner"]
        check = True
    return None


def _catch(ctx: Ctx, catcher: Catcher, variables: Mapping[str, Any] | None = None) -> None:
    role, where, element, start = catcher
    if role == "boundary":
        triggers.fire_boundary(ctx, where, element, variables or {})
    else:
        assert start is not None
        subprocess.trigger_event_subprocess(ctx, where, element, start, variables or {})


def fail_execution(ctx: Ctx, message: str, code: str | None = None, element: str | None = None) -> None:
    """The execution cannot go on: cancel everything and report why."""
    tokens.clear_scope(ctx, ROOT_SCOPE)
    ctx.state["status"] = "failed"
    ctx.state["error"] = message
    ctx.history("execution.failed", element, None, {"error": message, "code": code})
    ctx.emit(ExecutionFailed(error=message, error_code=code, element_id=element))
