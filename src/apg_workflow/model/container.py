"""What processes and sub-processes share: the nodes, flows, data and artifacts they contain,
with indexes built once on first use (the model is immutable, so they never go stale)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from apg_workflow.model.base import BaseElement, Element
from apg_workflow.model.errors import ElementNotFound
from apg_workflow.model.nodes import FlowNode, SequenceFlow

if TYPE_CHECKING:
    from apg_workflow.model.events import BoundaryEvent, StartEvent


@dataclass(frozen=True, slots=True, kw_only=True)
class Lane(BaseElement):
    id: str
    name: str | None = None
    flow_node_refs: tuple[str, ...] = ()
    child_lane_set: LaneSet | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class LaneSet(BaseElement):
    name: str | None = None
    lanes: tuple[Lane, ...] = ()


@dataclass(frozen=True, kw_only=True)
class FlowContainer:
    """Nodes (events, activities, gateways), sequence flows, data elements and artifacts."""

    nodes: tuple[FlowNode, ...] = ()
    flows: tuple[SequenceFlow, ...] = ()
    data: tuple[Element, ...] = ()
    artifacts: tuple[Element, ...] = ()
    lane_sets: tuple[LaneSet, ...] = ()

    # Indexes (not dataclass fields: they do not take part in equality or repr).

    @cached_property
    def _index(self) -> dict[str, Element]:
        index: dict[str, Element] = {}
        for group in (self.nodes, self.flows, self.data, self.artifacts):
            for element in group:
                index.setdefault(element.id, element)
        return index

    @cached_property
    def _outgoing(self) -> dict[str, tuple[SequenceFlow, ...]]:
        out: dict[str, list[SequenceFlow]] = {}
        for flow in self.flows:
            out.setdefault(flow.source, []).append(flow)
        return {k: tuple(v) for k, v in out.items()}

    @cached_property
    def _incoming(self) -> dict[str, tuple[SequenceFlow, ...]]:
        inc: dict[str, list[SequenceFlow]] = {}
        for flow in self.flows:
            inc.setdefault(flow.target, []).append(flow)
        return {k: tuple(v) for k, v in inc.items()}

    @cached_property
    def _boundaries(self) -> dict[str, tuple[BoundaryEvent, ...]]:
        from apg_workflow.model.events import BoundaryEvent

        found: dict[str, list[BoundaryEvent]] = {}
        for node in self.nodes:
            if isinstance(node, BoundaryEvent):
                found.setdefault(node.attached_to, []).append(node)
        return {k: tuple(v) for k, v in found.items()}

    def get(self, element_id: str) -> Element | None:
        """A direct child (node, flow, data element or artifact) by id, or ``None``."""
        return self._index.get(element_id)

    def __getitem__(self, element_id: str) -> Element:
        try:
            return self._index[element_id]
        except KeyError:
            raise ElementNotFound(element_id) from None

    def __contains__(self, element_id: object) -> bool:
        return element_id in self._index

    def node(self, element_id: str) -> FlowNode:
        element = self[element_id]
        if not isinstance(element, FlowNode):
            raise ElementNotFound(element_id)
        return element

    def outgoing(self, node_id: str) -> tuple[SequenceFlow, ...]:
        return self._outgoing.get(node_id, ())

    def incoming(self, node_id: str) -> tuple[SequenceFlow, ...]:
        return self._incoming.get(node_id, ())

    def boundary_events(self, activity_id: str) -> tuple[BoundaryEvent, ...]:
        return self._boundaries.get(activity_id, ())

    @property
    def start_events(self) -> tuple[StartEvent, ...]:
        from apg_workflow.model.events import StartEvent

        return tuple(n for n in self.nodes if isinstance(n, StartEvent))

    def walk(self) -> Iterator[tuple[FlowContainer, Element]]:
        """Every element of this container and of nested sub-processes, depth first, with its container."""
        for group in (self.nodes, self.flows, self.data, self.artifacts):
            for element in group:
                yield self, element
                if isinstance(element, FlowContainer):
                    yield from element.walk()

    def find(self, element_id: str) -> Element | None:
        """An element anywhere in this container, nested sub-processes included."""
        hit = self.get(element_id)
        if hit is not None:
            return hit
        for node in self.nodes:
            if isinstance(node, FlowContainer):
                hit = node.find(element_id)
                if hit is not None:
                    return hit
        return None

    def container_of(self, element_id: str) -> FlowContainer | None:
        """The (sub-)process that directly holds ``element_id``."""
        if element_id in self._index:
            return self
        for node in self.nodes:
            if isinstance(node, FlowContainer):
                found = node.container_of(element_id)
                if found is not None:
                    return found
        return None
