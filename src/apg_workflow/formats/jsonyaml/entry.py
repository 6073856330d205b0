"""The base of the entries of ``activities``: every entry knows how to become a model node
(:meth:`NodeEntry.to_node`) and how a node is written back (:meth:`NodeEntry.entry`)."""

from __future__ import annotations

from typing import Any, ClassVar, Protocol

from apg_workflow.formats.jsonyaml.diagnostics import PathPart
from apg_workflow.formats.jsonyaml.fields import MappingsValue, Strict, mappings, mappings_value
from apg_workflow.model import FlowNode


class NodeContext(Protocol):
    """What an entry needs from the reader while it becomes a model node."""

    node_id: str

    def report(self, key: PathPart | tuple[PathPart, ...], message: str) -> None:
        """Record a problem at ``key``, relative to the entry."""

    def duration(
        self, value: str | None, key: PathPart | tuple[PathPart, ...], *, strict: bool = True
    ) -> str | None:
        """``value`` as ISO 8601 (``"4h"`` → ``"PT4H"``; ISO text is kept as written). Text that is no
        duration is a problem when ``strict``, else kept as written (a date, an expression)."""

    def resolve(self, ref: str, key: str) -> str:
        """The id of the node of the same (sub-)process that ``ref`` names, by id or by name."""

    def default_flow(self, written: str | None) -> str | None:
        """The default flow: ``written`` on the entry, or the flow marked ``default: true``."""

    def content(self, activities: list[Any], flows: list[Any]) -> dict[str, Any]:
        """The ``nodes`` and ``flows`` of a nested sub-process."""


class NodeEntry(Strict):
    """Common to every entry of ``activities``: events, tasks, sub-processes and gateways."""

    MODEL: ClassVar[type[FlowNode]]

    id: str | None = None
    """Unique id of the element. When absent it is made from the name (``Review Order`` →
    ``Review_Order``) or, without a name, from the type (``userTask_1``)."""
    type: str
    """The BPMN element type: ``startEvent``, ``userTask``, ``exclusiveGateway``, …"""
    name: str | None = None
    """The label shown in the diagram and in task lists."""
    description: str | None = None
    """Documentation of the element (BPMN ``documentation``)."""
    inputs: MappingsValue | None = None
    """Variables set when the element starts: ``{target: source expression}`` in order, or a list of
    ``{target, source, language}``."""
    outputs: MappingsValue | None = None
    """Variables written back when the element completes, like ``inputs``."""

    def to_node(self, ctx: NodeContext) -> FlowNode:
        return self.MODEL(**self.node_fields(ctx))

    def node_fields(self, ctx: NodeContext) -> dict[str, Any]:
        """The keyword arguments of :attr:`MODEL`; subclasses add theirs."""
        return {
            "id": ctx.node_id,
            "name": self.name,
            "documentation": self.description,
            "inputs": mappings(self.inputs),
            "outputs": mappings(self.outputs),
        }

    @classmethod
    def entry(cls, node: Any) -> dict[str, Any]:
        """What is written for ``node``; ``None`` values are left out by the writer."""
        return {
            "id": node.id,
            "type": node.kind.value,
            "name": node.name,
            "description": node.documentation,
            "inputs": mappings_value(node.inputs),
            "outputs": mappings_value(node.outputs),
        }


class DefaultFlow(Strict):
    """Elements that may name a default outgoing flow (activities and branching gateways)."""

    default: str | None = None
    """The id of the default outgoing flow, taken when no other flow's condition holds. A flow may
    instead say ``default: true``."""
