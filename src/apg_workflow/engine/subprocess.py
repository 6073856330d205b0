"""Embedded sub-processes, event sub-processes and call activities.

A sub-process instance owns a flow scope: its start event runs there, its event sub-processes
subscribe there, and it completes when the scope's last token is gone. A call activity starts a
child execution (:class:`~apg_workflow.engine.effects.StartChild`) and waits for
``ChildCompleted`` / ``ChildFailed``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from apg_workflow.engine import scopes, tokens, triggers
from apg_workflow.engine.activities import ActivityBehaviour, reading_scope
from apg_workflow.engine.behaviour import Behaviour, register
from apg_workflow.engine.context import Ctx, Fault
from apg_workflow.engine.effects import StartChild
from apg_workflow.model import CallActivity, StartEvent, SubProcess

if TYPE_CHECKING:
    from apg_workflow.engine.program import NodeInfo

_START_TRIGGERS = ("timer", "message", "signal", "conditional")


def start_scope(ctx: Ctx, scope_id: str, container_id: str, start_event: str | None = None) -> None:
    """Run a (sub-)process body in ``scope_id``: subscribe its event sub-processes, then send a
    token through ``start_event`` (default: its none start event)."""
    container = ctx.proc.containers[container_id]
    if container.event_subprocesses:
        subs = [
            triggers.subscribe(
                ctx, start.definitions[0], start.id, scope_id, role="start", instance=None, scope=scope_id
            )
            for esp in container.event_subprocesses
            for start in esp.nodes
            if isinstance(start, StartEvent) and start.trigger in _START_TRIGGERS
        ]
        if subs:
            ctx.record("scopes", scope_id)["subs"] = subs
    start = start_event or container.start
    if start is None:
        raise Fault(f"'{container_id}' has no start event without a trigger to begin with")
    info = ctx.info(start)
    if info.immediate:
        tokens.pass_through(ctx, scope_id, info, consumed=0)
    else:
        info.behaviour.begin(ctx, tokens.spawn(ctx, scope_id, info), info)


class SubProcessBehaviour(ActivityBehaviour):
    def run(self, ctx: Ctx, inst_id: str, info: NodeInfo) -> None:
        inst = ctx.state["instances"][inst_id]
        own = inst.get("own")
        if own is None:
            own = scopes.new_scope(ctx, inst["scope"], inst_id, info.id, {}, flow=True)
            ctx.record("instances", inst_id)["own"] = own
        else:
            ctx.record("scopes", own)["tokens"] = 0
        start_scope(ctx, own, info.id, inst.get("start"))


class EventSubProcessBehaviour(Behaviour):
    """Started by its start event's trigger (see :func:`trigger_event_subprocess`), never by a flow."""

    def start(self, ctx: Ctx, inst_id: str, info: NodeInfo) -> None:
        inst = ctx.state["instances"][inst_id]
        own = scopes.new_scope(ctx, inst["scope"], inst_id, info.id, {}, flow=True)
        ctx.record("instances", inst_id)["own"] = own
        start_scope(ctx, own, info.id, inst["start"])


class SubProcessKinds(Behaviour):
    """Embedded and event sub-processes share a model class; pick by ``triggered_by_event``."""

    embedded = SubProcessBehaviour()
    by_event = EventSubProcessBehaviour()

    def _pick(self, info: NodeInfo) -> Behaviour:
        node = info.node
        return self.by_event if isinstance(node, SubProcess) and node.triggered_by_event else self.embedded

    def arrive(self, ctx: Ctx, scope: str, info: NodeInfo, flow_id: str | None) -> None:
        self._pick(info).arrive(ctx, scope, info, flow_id)

    def begin(self, ctx: Ctx, inst_id: str, info: NodeInfo) -> None:
        self._pick(info).begin(ctx, inst_id, info)

    def start(self, ctx: Ctx, inst_id: str, info: NodeInfo) -> None:
        self._pick(info).start(ctx, inst_id, info)


def trigger_event_subprocess(
    ctx: Ctx, scope_id: str, esp_id: str, start_id: str, variables: Mapping[str, Any]
) -> None:
    """Start the event sub-process ``esp_id`` in ``scope_id`` through ``start_id``; an interrupting
    start first cancels everything else running in the scope."""
    start = ctx.info(start_id).node
    info = ctx.info(esp_id)
    inst_id = tokens.spawn(ctx, scope_id, info, start=start_id)
    if isinstance(start, StartEvent) and start.is_interrupting:
        tokens.clear_scope(ctx, scope_id, keep=inst_id)
    scopes.write(ctx, scope_id, variables, start_id, inst_id)
    info.behaviour.begin(ctx, inst_id, info)


def _start_role(ctx: Ctx, wait_id: str, wait: Mapping[str, Any], variables: Mapping[str, Any]) -> None:
    scope_id = wait["scope"]
    start = ctx.info(wait["element"])
    if triggers.is_interrupting(start.node) or not triggers.keeps_waiting(ctx, wait_id, wait):
        ctx.remove("waits", wait_id)
        ctx.remove("conditions", wait_id)
        scope = ctx.record("scopes", scope_id)
        scope["subs"] = [s for s in scope.get("subs", ()) if s != wait_id]
    trigger_event_subprocess(ctx, scope_id, start.container, start.id, variables)


class CallBehaviour(ActivityBehaviour):
    """Starts the called process with its inputs (every variable with ``propagate_all``) and waits.

    With ``propagate_all`` and no output mappings every variable of the called process comes back,
    and a variable it was given and deleted is deleted here too (as SpiffWorkflow does)."""

    def run(self, ctx: Ctx, inst_id: str, info: NodeInfo) -> None:
        node = info.node
        assert isinstance(node, CallActivity)
        if not node.called_element:
            raise Fault(f"{node.label} names no process to call")
        scope = reading_scope(ctx, inst_id)
        variables: dict[str, Any] = {}
        if node.propagate_all:
            variables.update(scopes.snapshot(ctx, scope))
        if node.inputs:
            variables.update(scopes.clone(ctx.state["scopes"][scope]["variables"]))
        call_id = ctx.external_id()
        wait: dict[str, Any] = {"kind": "call", "role": "self", "element": info.id, "instance": inst_id}
        if node.propagate_all and not node.outputs:
            wait["passed"] = sorted(variables)
        ctx.add_wait(call_id, wait)
        ctx.record("instances", inst_id)["wait"] = call_id
        ctx.emit(
            StartChild(
                call_id=call_id,
                element_id=info.id,
                called_element=node.called_element,
                variables=variables,
                business_key=ctx.state["business_key"],
            )
        )

    def resume(self, ctx: Ctx, wait_id: str, wait: Mapping[str, Any], variables: Mapping[str, Any]) -> None:
        node = ctx.info(wait["element"]).node
        assert isinstance(node, CallActivity)
        kept = variables if node.propagate_all or node.outputs else {}
        passed = wait.get("passed")
        if passed:  # what the called process was given and deleted is deleted here
            scope = reading_scope(ctx, wait["instance"])
            visible = scopes.visible(ctx, scope)
            gone = [name for name in passed if name not in variables and name in visible]
            if gone:
                scopes.delete(ctx, scope, gone, node.id, wait["instance"])
        super().resume(ctx, wait_id, wait, kept)


register(SubProcess, SubProcessKinds())
register(CallActivity, CallBehaviour())
triggers.ROLES["start"] = _start_role
