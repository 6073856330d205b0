"""How each element kind runs: a table from (model class, event trigger) to a behaviour object.

Each element family module (events, activities, gateways, subprocess) registers its behaviours
here when imported; :func:`behaviour_for` picks one per node when a program is compiled, so the
step never dispatches on element kinds.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from apg_workflow.engine import tokens
from apg_workflow.engine.context import Ctx, Fault
from apg_workflow.model import Event, FlowNode

if TYPE_CHECKING:
    from apg_workflow.engine.program import NodeInfo


class Behaviour:
    """The default life of an element: a token arrives, an instance starts, work happens, and the
    instance completes (at once, or when what it waits for is done)."""

    immediate = False
    """Whether an instance's whole work is :meth:`passing` and it then completes at once, so that
    a token passes a node of this kind without inputs, outputs, loop or boundary events without
    an instance record (see :func:`~apg_workflow.engine.tokens.pass_through`)."""

    def prepare(self, node: FlowNode) -> Any:
        """What the behaviour works out once per node when a program is compiled (kept as
        ``NodeInfo.prepared``)."""
        return None

    def arrive(self, ctx: Ctx, scope: str, info: NodeInfo, flow_id: str | None) -> None:
        inst_id = tokens.activate(ctx, scope, info)
        self.begin(ctx, inst_id, info)

    def begin(self, ctx: Ctx, inst_id: str, info: NodeInfo) -> None:
        """Start the instance's work; bad user data opens an incident on it."""
        try:
            self.start(ctx, inst_id, info)
        except Fault as fault:
            tokens.open_incident(ctx, inst_id, str(fault), "start")

    def start(self, ctx: Ctx, inst_id: str, info: NodeInfo) -> None:
        tokens.complete(ctx, inst_id)

    def passing(self, ctx: Ctx, scope: str, info: NodeInfo, inst_id: str) -> Mapping[str, Any] | None:
        """The work of an ``immediate`` instance, reading variables in ``scope``: what :meth:`start`
        does before it completes the instance. Returns the variables the work changed."""
        return None

    def resume(self, ctx: Ctx, wait_id: str, wait: Mapping[str, Any], variables: Mapping[str, Any]) -> None:
        """What the instance waited on (its own job, task, timer, message, …) happened."""
        ctx.waits.pop(wait_id, None)
        tokens.complete(ctx, wait["instance"], variables, resumed=wait_id)


class Pass(Behaviour):
    """An element that does nothing but pass the token on (none events, link catch events)."""

    immediate = True


class Unsupported(Behaviour):
    """An element the engine does not execute: it stops with an incident naming the element."""

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def start(self, ctx: Ctx, inst_id: str, info: NodeInfo) -> None:
        raise Fault(f"{info.node.label}: {self.reason}")


BEHAVIOURS: dict[tuple[type[FlowNode], str | None], Behaviour] = {}


def register(cls: type[FlowNode], behaviour: Behaviour, *triggers: str) -> None:
    """Register ``behaviour`` for ``cls`` (events: for each of ``triggers``)."""
    for trigger in triggers or (None,):
        BEHAVIOURS[(cls, trigger)] = behaviour


def behaviour_for(node: FlowNode) -> Behaviour:
    trigger = node.trigger if isinstance(node, Event) else None
    found = BEHAVIOURS.get((type(node), trigger))
    if found is not None:
        return found
    what = f"{trigger} {type(node).__name__}" if trigger else type(node).__name__
    return Unsupported(f"{what} elements are not executed by the engine")
