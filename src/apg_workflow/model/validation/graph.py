"""Graph walks over one scope, each linear in its nodes and flows."""

from __future__ import annotations

from collections import defaultdict

from apg_workflow.model.activities import Activity, ReceiveTask, SubProcess
from apg_workflow.model.container import FlowContainer
from apg_workflow.model.events import (
    Event,
    IntermediateCatchEvent,
    IntermediateThrowEvent,
    LinkDefinition,
    StartEvent,
)
from apg_workflow.model.nodes import EventBasedGateway, FlowNode, Gateway


def link_name(event: Event) -> str | None:
    """The name a link event is matched on: its link definition's, else the event's own."""
    link = event.definition(LinkDefinition)
    if not isinstance(link, LinkDefinition):
        return None
    return link.link_name or event.name


def link_catches(container: FlowContainer) -> dict[str, list[IntermediateCatchEvent]]:
    """Link catch events by link name."""
    found: dict[str, list[IntermediateCatchEvent]] = defaultdict(list)
    for node in container.nodes:
        if isinstance(node, IntermediateCatchEvent):
            name = link_name(node)
            if name is not None:
                found[name].append(node)
    return found


def is_entry(node: FlowNode, container: FlowContainer) -> bool:
    """A node a token can appear at without a sequence flow leading to it."""
    if isinstance(node, StartEvent):
        return True
    if isinstance(node, SubProcess) and node.triggered_by_event:
        return True
    if isinstance(node, Activity) and node.is_for_compensation:
        return True
    instantiating = isinstance(node, EventBasedGateway | ReceiveTask) and node.instantiate
    return instantiating and not container.incoming(node.id)


def reachable(container: FlowContainer) -> set[str]:
    """Ids of the nodes a token can reach from an entry: along sequence flows, from an activity to
    the boundary events attached to it, and from a link throw to the link catches of its name."""
    catches = link_catches(container)
    pending = [node for node in container.nodes if is_entry(node, container)]
    reached: set[str] = set()
    while pending:
        node = pending.pop()
        if node.id in reached:
            continue
        reached.add(node.id)
        for flow in container.outgoing(node.id):
            target = container.get(flow.target)
            if isinstance(target, FlowNode):
                pending.append(target)
        if isinstance(node, Activity):
            pending.extend(container.boundary_events(node.id))
        if isinstance(node, IntermediateThrowEvent):
            name = link_name(node)
            if name is not None:
                pending.extend(catches.get(name, ()))
    return reached


class BranchEnds:
    """Where a branch leads: follow nodes with exactly one outgoing flow until a gateway.

    Results are remembered, so asking for every branch of every gateway stays linear.
    """

    def __init__(self, container: FlowContainer) -> None:
        self._container = container
        self._ends: dict[str, str | None] = {}

    def gateway_after(self, node_id: str) -> str | None:
        """The id of the gateway the branch starting at ``node_id`` runs into, or ``None``."""
        container, path, on_path = self._container, [], set()
        current: str | None = node_id
        while current is not None and current not in self._ends:
            node = container.get(current)
            if isinstance(node, Gateway):
                self._ends[current] = current
                break
            outgoing = container.outgoing(current)
            if not isinstance(node, FlowNode) or len(outgoing) != 1:
                current = None
                break
            if current in on_path:  # a loop without a gateway
                current = None
                break
            path.append(current)
            on_path.add(current)
            current = outgoing[0].target
        end = self._ends.get(current) if current is not None else None
        for step in path:
            self._ends[step] = end
        return end
