"""BPMN errors and escalations travel outward through scopes to the nearest matching catcher.

From the thrower outward: the boundary events of each enclosing activity (of the thrower itself
when an activity's job or called process threw), then the event sub-processes of each enclosing
scope. At each of these levels a catcher naming the error (or escalation) wins over a catch-all
one, whatever their order in the file, as in Camunda and Flowable. An uncaught error fails the
execution with a message naming the error and the element; an uncaught escalation changes nothing.

An error or escalation may carry a payload (SpiffWorkflow's ``payloadExpression``), evaluated where
it is thrown; a catcher whose error (escalation) names a ``payload_variable`` stores it there.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from apg_workflow.engine import scopes, subprocess, tokens, triggers
from apg_workflow.engine.context import Ctx
from apg_workflow.engine.effects import ExecutionFailed
from apg_workflow.engine.state import ROOT_SCOPE
from apg_workflow.model import (
    Error,
    ErrorDefinition,
    Escalation,
    EscalationDefinition,
    Event,
    EventDefinition,
    StartEvent,
)

T = TypeVar("T")

Catcher = tuple[
    str, str, str, str | None
]  # ("boundary", host, boundary id, None) | ("start", scope, esp, start)

# How well a catcher's definition matches what was thrown: not at all, as a catch-all, by name.
NO_MATCH, CATCH_ALL, NAMED = 0, 1, 2
Matcher = Callable[[EventDefinition], int]


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


def raised(ctx: Ctx, definition: EventDefinition | None) -> Error | Escalation | None:
    """The error or escalation an event definition names, when the definitions declare it."""
    if isinstance(definition, ErrorDefinition) and definition.error_ref is not None:
        return ctx.program.errors.get(definition.error_ref)
    if isinstance(definition, EscalationDefinition) and definition.escalation_ref is not None:
        return ctx.program.escalations.get(definition.escalation_ref)
    return None


def payload_of(ctx: Ctx, definition: EventDefinition, scope: str) -> Any:
    """What a thrower of ``definition`` sends along: the payload of its error (or escalation),
    evaluated in ``scope``; ``None`` without one."""
    item = raised(ctx, definition)
    if item is None or item.payload is None:
        return None
    value = scopes.evaluate(ctx, item.payload, scope, f"the payload of '{item.id}'")
    return scopes.jsonable(value, "payload")


def throw_error(
    ctx: Ctx, inst_id: str, code: str | None, *, own: bool, message: str | None = None, sent: Any = None
) -> None:
    """Throw a BPMN error from an instance; ``own`` lets the thrower's own boundary events catch it.
    The catcher stores ``sent`` (the payload; a failed job's or called process's message) in its
    error's ``payload_variable``."""
    element = ctx.state["instances"][inst_id]["element"]
    ctx.history("error.thrown", element, inst_id, {"code": code, "message": message})

    def matches(definition: EventDefinition) -> int:
        ref = getattr(definition, "error_ref", None)
        if ref is None:
            return CATCH_ALL
        return NAMED if code in _error_names(ctx, ref) else NO_MATCH

    catcher = _find(ctx, inst_id, own, ErrorDefinition, matches)
    if catcher is not None:
        _catch(ctx, catcher, ErrorDefinition, sent)
        return
    label = ctx.info(element).node.label
    what = f"BPMN error '{code}'" if code else "a BPMN error"
    detail = f": {message}" if message else ""
    fail_execution(ctx, f"{what} thrown by {label} was not caught{detail}", code, element)


def throw_escalation(ctx: Ctx, inst_id: str, code: str | None, sent: Any = None) -> None:
    element = ctx.state["instances"][inst_id]["element"]
    ctx.history("escalation.thrown", element, inst_id, {"code": code})

    def matches(definition: EventDefinition) -> int:
        ref = getattr(definition, "escalation_ref", None)
        if ref is None:
            return CATCH_ALL
        return NAMED if code in _escalation_names(ctx, ref) else NO_MATCH

    catcher = _find(ctx, inst_id, False, EscalationDefinition, matches)
    if catcher is not None:
        _catch(ctx, catcher, EscalationDefinition, sent)


def _find(ctx: Ctx, inst_id: str, own: bool, kind: type[EventDefinition], matches: Matcher) -> Catcher | None:
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
            boundaries = ctx.info(inst["element"]).boundaries
            boundary_id = _best(((b.id, b) for b in boundaries), kind, matches)
            if boundary_id is not None:
                return ("boundary", current, boundary_id, None)
        scope_id = inst["scope"]
        scope = all_scopes[scope_id]
        if "tokens" in scope:
            starts = (
                ((esp.id, start.id), start)
                for esp in ctx.proc.containers[scope["element"]].event_subprocesses
                if esp.id != inst["element"]  # an event sub-process does not catch what it throws itself
                for start in esp.nodes
                if isinstance(start, StartEvent)
            )
            found = _best(starts, kind, matches)
            if found is not None:
                return ("start", scope_id, found[0], found[1])
        current = scope["owner"]
        check = True
    return None


def _best(candidates: Iterable[tuple[T, Event]], kind: type[EventDefinition], matches: Matcher) -> T | None:
    """Of ``(key, event)`` pairs, the key of the event whose ``kind`` definition matches best (the
    first in model order among equals)."""
    best: T | None = None
    best_rank = NO_MATCH
    for key, event in candidates:
        definition = event.definition(kind)
        rank = NO_MATCH if definition is None else matches(definition)
        if rank > best_rank:
            best, best_rank = key, rank
            if rank == NAMED:
                break
    return best


def _catch(ctx: Ctx, catcher: Catcher, kind: type[EventDefinition], sent: Any) -> None:
    """Fire the catcher, storing the payload in the variable its error (escalation) names."""
    role, where, element, start = catcher
    node = ctx.info(start or element).node
    item = raised(ctx, node.definition(kind) if isinstance(node, Event) else None)
    variables = {item.payload_variable: sent} if item is not None and item.payload_variable else {}
    if role == "boundary":
        triggers.fire_boundary(ctx, where, element, variables)
    else:
        assert start is not None
        subprocess.trigger_event_subprocess(ctx, where, element, start, variables)


def fail_execution(ctx: Ctx, message: str, code: str | None = None, element: str | None = None) -> None:
    """The execution cannot go on: cancel everything and report why."""
    tokens.clear_scope(ctx, ROOT_SCOPE)
    ctx.state["status"] = "failed"
    ctx.state["error"] = message
    ctx.history("execution.failed", element, None, {"error": message, "code": code})
    ctx.emit(ExecutionFailed(error=message, error_code=code, element_id=element))
