"""Gateways: exclusive (with default flow), parallel, inclusive and event-based.

Joins count waiting tokens per incoming flow (``joins[f"{scope}|{gateway}"][flow] = n``), so a
join inside a loop fires once per round. An inclusive join fires when every incoming flow either
has a token or can no longer get one: no token of its scope sits on a node upstream of that flow.
Complex gateways are not executed: they open an incident naming the element.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from apg_workflow.engine import scopes, tokens, triggers
from apg_workflow.engine.behaviour import Behaviour, Unsupported, register
from apg_workflow.engine.context import Ctx, Fault
from apg_workflow.model import (
    ComplexGateway,
    EventBasedGateway,
    ExclusiveGateway,
    InclusiveGateway,
    MessageDefinition,
    ParallelGateway,
    ReceiveTask,
    SequenceFlow,
)

if TYPE_CHECKING:
    from apg_workflow.engine.program import NodeInfo


def _pass(ctx: Ctx, inst_id: str, scope: str, info: NodeInfo, flows: Sequence[SequenceFlow]) -> None:
    ctx.history("element.completed", info.id, inst_id)
    tokens.end(ctx, inst_id, flows)


class Exclusive(Behaviour):
    """Takes the first outgoing flow whose condition holds (in model order), else the default.

    It decides as the token arrives, so it passes without an instance record (see
    :func:`~apg_workflow.engine.tokens.pass_through`) unless no flow can be taken."""

    def arrive(self, ctx: Ctx, scope: str, info: NodeInfo, flow_id: str | None) -> None:
        inst_id = tokens.passing(ctx, info)
        try:
            flows = self._choose(ctx, scope, info)
        except Fault as fault:
            tokens.stuck(ctx, scope, info, inst_id, 1, str(fault), "start")
            return
        tokens.passed(ctx, scope, info, inst_id, flows)

    def start(self, ctx: Ctx, inst_id: str, info: NodeInfo) -> None:
        scope = ctx.state["instances"][inst_id]["scope"]
        _pass(ctx, inst_id, scope, info, self._choose(ctx, scope, info))

    @staticmethod
    def _choose(ctx: Ctx, scope: str, info: NodeInfo) -> Sequence[SequenceFlow]:
        if not info.outgoing:
            return ()
        for flow in info.outgoing:
            if flow.id == info.default:
                continue
            if flow.condition is None or scopes.evaluate(
                ctx, flow.condition, scope, f"condition of {flow.id}"
            ):
                return (flow,)
        default = [f for f in info.outgoing if f.id == info.default]
        if not default:
            raise Fault(f"no outgoing sequence flow of {info.node.label} can be taken: no condition holds")
        return default


def _wait_at_join(ctx: Ctx, key: str, flow_id: str) -> dict[str, int]:
    counts = dict(ctx.state["joins"].get(key, {}))
    counts[flow_id] = counts.get(flow_id, 0) + 1
    ctx.table("joins")[key] = counts
    return counts


def _take_tokens(ctx: Ctx, key: str, counts: dict[str, int]) -> int:
    """Take one token from each incoming flow of a firing join that has one; how many were taken."""
    left = {flow: n - 1 for flow, n in counts.items() if n > 1}
    if left:
        ctx.table("joins")[key] = left
    else:
        ctx.remove("joins", key)
    return sum(1 for n in counts.values() if n > 0)


def _fire_join(ctx: Ctx, key: str, scope: str, info: NodeInfo, counts: dict[str, int]) -> str:
    """The tokens taken from the incoming flows become one instance."""
    consumed = _take_tokens(ctx, key, counts)
    inst_id = tokens.activate(ctx, scope, info)
    tokens.token_done(ctx, scope, consumed - 1)
    return inst_id


class Parallel(Behaviour):
    """Splits into every outgoing flow; joins by waiting for a token on every incoming flow. It
    never waits once it has fired, so it passes without an instance record."""

    def arrive(self, ctx: Ctx, scope: str, info: NodeInfo, flow_id: str | None) -> None:
        consumed = 1
        if len(info.incoming) > 1 and flow_id is not None:
            key = f"{scope}|{info.id}"
            counts = _wait_at_join(ctx, key, flow_id)
            if len(counts) < len(info.incoming):
                return
            consumed = _take_tokens(ctx, key, counts)
        tokens.passed(ctx, scope, info, tokens.passing(ctx, info), info.outgoing, consumed)


class Inclusive(Behaviour):
    """Splits into every flow whose condition holds (else the default); joins the tokens that came
    once no other token of the scope can still arrive."""

    def arrive(self, ctx: Ctx, scope: str, info: NodeInfo, flow_id: str | None) -> None:
        if len(info.incoming) > 1 and flow_id is not None:
            key = f"{scope}|{info.id}"
            counts = _wait_at_join(ctx, key, flow_id)
            if not join_ready(ctx, scope, info, counts):
                return
            inst_id = _fire_join(ctx, key, scope, info, counts)
        else:
            inst_id = tokens.activate(ctx, scope, info)
        self.begin(ctx, inst_id, info)

    def start(self, ctx: Ctx, inst_id: str, info: NodeInfo) -> None:
        scope = ctx.state["instances"][inst_id]["scope"]
        taken = [
            flow
            for flow in info.outgoing
            if flow.id != info.default
            and (
                flow.condition is None
                or scopes.evaluate(ctx, flow.condition, scope, f"condition of {flow.id}")
            )
        ]
        if not taken:
            taken = [f for f in info.outgoing if f.id == info.default]
        if not taken and info.outgoing:
            raise Fault(f"no outgoing sequence flow of {info.node.label} can be taken: no condition holds")
        _pass(ctx, inst_id, scope, info, taken)


def join_ready(ctx: Ctx, scope: str, info: NodeInfo, counts: dict[str, int]) -> bool:
    """Whether no token of ``scope`` can still reach an incoming flow of the join that has none.

    A token on the agenda heading for the join along such a flow is arriving: the join waits for
    it (two branches finishing in one step make one firing, not two)."""
    missing = [flow for flow in info.incoming if not counts.get(flow)]
    if not missing:
        return True
    positions = {inst["element"] for inst in ctx.state["instances"].values() if inst["scope"] == scope}
    prefix = f"{scope}|"
    positions.update(key[len(prefix) :] for key in ctx.state["joins"] if key.startswith(prefix))
    positions.discard(info.id)
    for item_scope, target, flow in ctx.agenda:
        if item_scope != scope:
            continue
        if target != info.id:
            positions.add(target)
        elif flow in missing:
            return False
    return not any(positions & info.upstream[flow] for flow in missing)


def check_inclusive_joins(ctx: Ctx) -> None:
    """Fire the inclusive joins whose missing tokens can no longer come (run when a step settles)."""
    for key, counts in list(ctx.state["joins"].items()):
        scope, _, gateway = key.partition("|")
        info = ctx.info(gateway)
        if info.upstream and key in ctx.state["joins"] and join_ready(ctx, scope, info, counts):
            inst_id = _fire_join(ctx, key, scope, info, counts)
            info.behaviour.begin(ctx, inst_id, info)


class EventBased(Behaviour):
    """Waits for the events after it; the first to occur wins and the others are dropped."""

    def start(self, ctx: Ctx, inst_id: str, info: NodeInfo) -> None:
        scope = ctx.state["instances"][inst_id]["scope"]
        subs = []
        for flow in info.outgoing:
            target = ctx.info(flow.target).node
            if isinstance(target, ReceiveTask):
                definition = MessageDefinition(
                    message_ref=target.message_ref, correlation_key=target.correlation_key
                )
            elif getattr(target, "definitions", ()):
                definition = target.definitions[0]  # type: ignore[attr-defined]
            else:
                raise Fault(f"{info.node.label} must be followed by catch events or receive tasks")
            subs.append(
                triggers.subscribe(ctx, definition, target.id, scope, role="gateway", instance=inst_id)
            )
        ctx.record("instances", inst_id)["subs"] = subs


register(ExclusiveGateway, Exclusive())
register(ParallelGateway, Parallel())
register(InclusiveGateway, Inclusive())
register(EventBasedGateway, EventBased())
register(
    ComplexGateway,
    Unsupported("complex gateways are not executed; model the join with inclusive or parallel gateways"),
)
