"""Token flow: tokens move along sequence flows, become element instances, complete or are
cancelled, and a (sub-)process scope ends when its last token is gone.

Every token is counted in the ``tokens`` field of the flow scope it runs in: a token on the agenda
(moving along a flow), an element instance, or a token waiting at a join. When the count drops to
zero the scope is finished: a sub-process instance completes, the process completes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from apg_workflow.engine import scopes
from apg_workflow.engine.context import Ctx, Fault
from apg_workflow.engine.effects import ExecutionCompleted, History, OpenIncident, ResolveIncident
from apg_workflow.engine.frozen import new_record
from apg_workflow.engine.state import ROOT_SCOPE
from apg_workflow.model import SequenceFlow

if TYPE_CHECKING:
    from apg_workflow.engine.program import NodeInfo

ACTIVATED = "element.activated"
COMPLETED = "element.completed"


def push(ctx: Ctx, scope: str, node_id: str, flow_id: str | None) -> None:
    """Send a token to ``node_id`` in ``scope`` (it arrives when the agenda reaches it)."""
    ctx.scope(scope)["tokens"] += 1
    ctx.agenda.append((scope, node_id, flow_id))


def activate(ctx: Ctx, scope: str, info: NodeInfo, **fields: Any) -> str:
    """Turn an arriving token into an instance of ``info``'s element."""
    record = {"element": info.id, "scope": scope}
    if fields:
        record.update(fields)
    inst_id = ctx.new_instance(record)
    ctx.effects.append(new_record(History, (ctx.now, ACTIVATED, info.id, inst_id, None)))
    return inst_id


def spawn(ctx: Ctx, scope: str, info: NodeInfo, **fields: Any) -> str:
    """An instance that did not arrive by a sequence flow (boundary event, event sub-process, …)."""
    ctx.scope(scope)["tokens"] += 1
    return activate(ctx, scope, info, **fields)


def complete(
    ctx: Ctx,
    inst_id: str,
    variables: Mapping[str, Any] | None = None,
    *,
    leave_only: bool = False,
    resumed: str | None = None,
) -> None:
    """The instance's work is done: write its results, run its outputs, leave by its outgoing flows.

    ``resumed`` is the wait the instance was resumed by (its user task, job, …), already removed
    from the waits: the instance record drops it only if it stays (with an incident), so that the
    usual completion does not copy a record it is about to remove."""
    inst = ctx.instances[inst_id]
    info = ctx.proc.nodes[inst["element"]]
    if info.plain and not variables and not info.conditional:  # nothing to write or decide: no fault
        ctx.effects.append(new_record(History, (ctx.now, COMPLETED, info.id, inst_id, None)))
        end(ctx, inst_id, info.outgoing, resumed)
        return
    body = inst.get("body")
    try:
        if not leave_only and (variables or info.node.outputs or info.post_script is not None):
            _write_results(ctx, inst_id, inst, info, variables)
        if body is not None:
            from apg_workflow.engine import loops

            contribution = loops.contribution(ctx, inst, info)
            flows: Sequence[SequenceFlow] = ()
        else:
            flows = outgoing(ctx, info, inst["scope"]) if info.conditional else info.outgoing
    except Fault as fault:
        if resumed is not None:
            ctx.instance(inst_id).pop("wait", None)
        open_incident(ctx, inst_id, str(fault), "leave" if leave_only else "complete")
        return
    ctx.effects.append(new_record(History, (ctx.now, COMPLETED, info.id, inst_id, None)))
    end(ctx, inst_id, flows, resumed)
    if body is not None:
        from apg_workflow.engine import loops

        loops.iteration_done(ctx, body, contribution)


def pass_through(ctx: Ctx, scope: str, info: NodeInfo, consumed: int = 1) -> None:
    """A token passes an element compiled as ``immediate`` (see ``NodeInfo``): its work is done at
    once and leaves nothing behind, so no instance record is written, only the history and the
    token's next moves. State and effects are those of :func:`activate`, ``begin`` and
    :func:`complete`; when the work fails, the instance stays with an incident, as there.

    ``consumed`` is 1 for a token counted in its scope on its way here, 0 for one that starts at
    the element (a start event). The hot path of every step: :func:`passing` and :func:`passed`
    written out."""
    state = ctx.state  # ctx.new_id(), written out
    number = state["next_id"]
    state["next_id"] = number + 1
    inst_id = str(number)
    effects = ctx.effects
    now = ctx.now
    effects.append(new_record(History, (now, ACTIVATED, info.id, inst_id, None)))
    action = "start"
    try:
        changed = info.behaviour.passing(ctx, scope, info, inst_id)
        action = "complete"
        if changed:
            scopes.write(ctx, scope, changed, info.id, inst_id)
        flows = outgoing(ctx, info, scope) if info.conditional else info.outgoing
    except Fault as fault:
        stuck(ctx, scope, info, inst_id, consumed, str(fault), action)
        return
    effects.append(new_record(History, (now, COMPLETED, info.id, inst_id, None)))
    leave(ctx, scope, flows, consumed)


def passing(ctx: Ctx, info: NodeInfo) -> str:
    """The id of an instance of ``info`` that passes at once, its activation recorded."""
    inst_id = ctx.new_id()
    ctx.effects.append(new_record(History, (ctx.now, ACTIVATED, info.id, inst_id, None)))
    return inst_id


def passed(
    ctx: Ctx, scope: str, info: NodeInfo, inst_id: str, flows: Sequence[SequenceFlow], consumed: int = 1
) -> None:
    """A passing instance completed: its history, then its ``consumed`` tokens leave by ``flows``."""
    ctx.effects.append(new_record(History, (ctx.now, COMPLETED, info.id, inst_id, None)))
    leave(ctx, scope, flows, consumed)


def stuck(
    ctx: Ctx, scope: str, info: NodeInfo, inst_id: str, consumed: int, message: str, action: str
) -> None:
    """A passing instance failed: it becomes a recorded instance, stopped with an incident."""
    if not consumed:
        ctx.scope(scope)["tokens"] += 1
    ctx.add_instance(inst_id, {"element": info.id, "scope": scope})
    open_incident(ctx, inst_id, message, action)


def leave(ctx: Ctx, scope: str, flows: Sequence[SequenceFlow], consumed: int = 1) -> None:
    """Send a token along each of ``flows`` in place of ``consumed`` tokens of ``scope``."""
    agenda = ctx.agenda
    for flow in flows:
        agenda.append((scope, flow.target, flow.id))
    moved = len(flows)
    if moved != consumed or not moved:
        token_done(ctx, scope, consumed - moved)


def _write_results(
    ctx: Ctx, inst_id: str, inst: Mapping[str, Any], info: NodeInfo, variables: Mapping[str, Any] | None
) -> None:
    """The results of a completing instance: ``variables`` (a job's, a person's, a called
    process's), then the post-script, then the output mappings. A loop body's post-script and
    outputs ran in each iteration."""
    node = info.node
    post_script = info.post_script if "loop" not in inst else None
    if node.outputs and "loop" not in inst:
        own = inst.get("own") or _local_scope(ctx, inst_id, inst)
        if variables:
            ctx.scope_variables(own).update({k: scopes.jsonable(v, k) for k, v in variables.items()})
        if post_script is not None:
            scopes.apply_script(ctx, post_script, own, f"post-script of {node.label}", info.id, inst_id)
        values = scopes.map_values(ctx, node.outputs, own, "output")
        scopes.write(ctx, inst["scope"], values, info.id, inst_id)
        return
    scope = inst.get("own") or inst["scope"]
    if variables:
        scopes.write(ctx, scope, variables, info.id, inst_id)
    if post_script is not None:
        scopes.apply_script(ctx, post_script, scope, f"post-script of {node.label}", info.id, inst_id)


def _local_scope(ctx: Ctx, inst_id: str, inst: Mapping[str, Any]) -> str:
    own = scopes.new_scope(ctx, inst["scope"], inst_id, inst["element"], {})
    ctx.record("instances", inst_id)["own"] = own
    return own


def outgoing(ctx: Ctx, info: NodeInfo, scope: str) -> tuple[SequenceFlow, ...] | list[SequenceFlow]:
    """The flows a token leaves an activity or event by: all unconditional ones and those whose
    condition holds; the default flow when no other is taken."""
    if not info.conditional:
        return info.outgoing
    taken = [
        flow
        for flow in info.outgoing
        if flow.id != info.default
        and (flow.condition is None or scopes.evaluate(ctx, flow.condition, scope, f"condition of {flow.id}"))
    ]
    if taken:
        return taken
    if info.default is not None:
        return [f for f in info.outgoing if f.id == info.default]
    raise Fault(f"no outgoing sequence flow of {info.node.label} can be taken: no condition holds")


def end(ctx: Ctx, inst_id: str, flows: Sequence[SequenceFlow] = (), resumed: str | None = None) -> None:
    """Remove a finished instance (its waits but ``resumed``, its own scope); its token leaves by
    ``flows``."""
    inst = ctx.instances.pop(inst_id)
    if "subs" in inst or inst.get("wait", resumed) != resumed:
        _release(ctx, inst, resumed)
    own = inst.get("own")
    if own is not None:
        ctx.remove("scopes", own)
    leave(ctx, inst["scope"], flows)


def cancel(ctx: Ctx, inst_id: str) -> None:
    """Cancel an instance and everything running inside it."""
    inst = ctx.remove("instances", inst_id)
    if inst is None:
        return
    own = inst.get("own")
    if own is not None:
        clear_scope(ctx, own)
        ctx.remove("scopes", own)
    _release(ctx, inst)
    incident = inst.get("incident")
    if incident is not None:
        ctx.remove("incidents", incident)
        ctx.emit(ResolveIncident(incident_id=incident))
    ctx.history("element.cancelled", inst["element"], inst_id)
    token_done(ctx, inst["scope"])


def clear_scope(ctx: Ctx, scope_id: str, keep: str | None = None) -> None:
    """Cancel every instance, join token and in-flight token of a scope (except the instance
    ``keep``) and drop its event sub-process subscriptions. The scope itself stays."""
    scope = ctx.record("scopes", scope_id)
    counted = scope.pop("tokens", None)  # no count while emptying: the scope must not finish now
    for wait_id in scope.pop("subs", ()):
        ctx.release_wait(wait_id)
    for inst_id in [
        i for i, inst in ctx.state["instances"].items() if inst["scope"] == scope_id and i != keep
    ]:
        cancel(ctx, inst_id)
    prefix = f"{scope_id}|"
    for key in [k for k in ctx.state["joins"] if k.startswith(prefix)]:
        ctx.remove("joins", key)
    if any(item[0] == scope_id for item in ctx.agenda):
        ctx.agenda = type(ctx.agenda)(item for item in ctx.agenda if item[0] != scope_id)
    if counted is not None:
        scope["tokens"] = 0 if keep is None else 1


def _release(ctx: Ctx, inst: Mapping[str, Any], resumed: str | None = None) -> None:
    wait = inst.get("wait")
    if wait is not None and wait != resumed:
        ctx.release_wait(wait)
    for sub in inst.get("subs", ()):
        ctx.release_wait(sub)


def token_done(ctx: Ctx, scope_id: str, count: int = 1) -> None:
    """A token of ``scope_id`` is gone; the last one finishes the scope."""
    scope = ctx.scopes.get(scope_id)
    if scope is None or "tokens" not in scope:
        return
    left = scope["tokens"] - count
    ctx.scope(scope_id)["tokens"] = left
    if left == 0:
        _scope_finished(ctx, scope_id, scope["owner"])


def _scope_finished(ctx: Ctx, scope_id: str, owner: str | None) -> None:
    for wait_id in ctx.state["scopes"][scope_id].get("subs", ()):
        ctx.release_wait(wait_id)
    if owner is not None:
        complete(ctx, owner)
    elif scope_id == ROOT_SCOPE and ctx.state["status"] == "running":
        ctx.state["status"] = "completed"
        variables = scopes.clone(ctx.state["scopes"][ROOT_SCOPE]["variables"])
        ctx.history("execution.completed", ctx.state["process_id"])
        ctx.emit(ExecutionCompleted(variables=variables))


def open_incident(
    ctx: Ctx, inst_id: str, message: str, action: str, variables: Mapping[str, Any] | None = None
) -> None:
    """Stop the instance where it is, waiting for an operator to fix data and retry ``action``."""
    incident_id = ctx.external_id()
    element = ctx.state["instances"][inst_id]["element"]
    record: dict[str, Any] = {"instance": inst_id, "element": element, "message": message, "action": action}
    if variables:
        record["variables"] = dict(variables)
    ctx.insert("incidents", incident_id, record)
    ctx.record("instances", inst_id)["incident"] = incident_id
    ctx.history("element.failed", element, inst_id, {"message": message, "incident": incident_id})
    ctx.emit(OpenIncident(incident_id=incident_id, element_id=element, message=message))
