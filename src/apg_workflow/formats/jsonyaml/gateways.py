"""Gateways: where paths split and join."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from apg_workflow.formats.jsonyaml.entry import DefaultFlow, NodeContext, NodeEntry
from apg_workflow.formats.jsonyaml.fields import ExpressionValue, expression, expression_value, unless
from apg_workflow.model import (
    ComplexGateway,
    EventBasedGateway,
    ExclusiveGateway,
    Gateway,
    InclusiveGateway,
    ParallelGateway,
)


class GatewayEntry(NodeEntry):
    """Common to gateways."""

    MODEL: ClassVar[type[Gateway]]

    direction: Literal["Unspecified", "Converging", "Diverging", "Mixed"] | None = None
    """Whether the gateway splits (``Diverging``), joins (``Converging``) or both (``Mixed``)."""

    def node_fields(self, ctx: NodeContext) -> dict[str, Any]:
        return super().node_fields(ctx) | {"direction": self.direction}

    @classmethod
    def entry(cls, node: Any) -> dict[str, Any]:  # a Gateway
        return super().entry(node) | {"direction": node.direction}


class _Branching(GatewayEntry, DefaultFlow):
    """A gateway that picks outgoing flows by their conditions, with a default flow."""

    def node_fields(self, ctx: NodeContext) -> dict[str, Any]:
        return super().node_fields(ctx) | {"default": ctx.default_flow(self.default)}

    @classmethod
    def entry(cls, node: Any) -> dict[str, Any]:  # an exclusive, inclusive or complex gateway
        return super().entry(node) | {"default": node.default}


class ExclusiveGatewayEntry(_Branching):
    """Takes the first outgoing flow whose condition holds (else the default flow)."""

    MODEL = ExclusiveGateway
    type: Literal["exclusiveGateway"]


class InclusiveGatewayEntry(_Branching):
    """Takes every outgoing flow whose condition holds (else the default flow); joins the paths taken."""

    MODEL = InclusiveGateway
    type: Literal["inclusiveGateway"]


class ComplexGatewayEntry(_Branching):
    """Joins when ``activation_condition`` holds."""

    MODEL = ComplexGateway
    type: Literal["complexGateway"]
    activation_condition: ExpressionValue | None = None
    """When the join goes on, e.g. ``_activeTokens >= 2``."""

    def node_fields(self, ctx: NodeContext) -> dict[str, Any]:
        return super().node_fields(ctx) | {"activation_condition": expression(self.activation_condition)}

    @classmethod
    def entry(cls, node: ComplexGateway) -> dict[str, Any]:
        return super().entry(node) | {"activation_condition": expression_value(node.activation_condition)}


class ParallelGatewayEntry(GatewayEntry):
    """Splits into all outgoing flows; joins by waiting for all incoming ones."""

    MODEL = ParallelGateway
    type: Literal["parallelGateway"]


class EventBasedGatewayEntry(GatewayEntry):
    """Waits for the first of the events that follow it."""

    MODEL = EventBasedGateway
    type: Literal["eventBasedGateway"]
    instantiate: bool = False
    """The first event starts a new execution."""
    exclusive: bool = True
    """``false``: a parallel event-based gateway (every event may fire)."""

    def node_fields(self, ctx: NodeContext) -> dict[str, Any]:
        return super().node_fields(ctx) | {"instantiate": self.instantiate, "exclusive": self.exclusive}

    @classmethod
    def entry(cls, node: EventBasedGateway) -> dict[str, Any]:
        return super().entry(node) | {
            "instantiate": unless(node.instantiate, False),
            "exclusive": unless(node.exclusive, True),
        }


GATEWAY_ENTRIES: tuple[type[GatewayEntry], ...] = (
    ExclusiveGatewayEntry,
    ParallelGatewayEntry,
    InclusiveGatewayEntry,
    EventBasedGatewayEntry,
    ComplexGatewayEntry,
)
