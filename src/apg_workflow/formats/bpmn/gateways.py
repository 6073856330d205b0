"""Gateways: exclusive, inclusive, parallel, event-based and complex."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lxml import etree

from apg_workflow.formats.bpmn import registry
from apg_workflow.formats.bpmn.extensions.apg import apg_extensions
from apg_workflow.formats.bpmn.formal_expressions import read_expression
from apg_workflow.formats.bpmn.namespaces import bpmn
from apg_workflow.formats.bpmn.reading import (
    NAMED,
    Draft,
    ElementSpec,
    ReadContext,
    boolean,
    reader_for,
    text,
)
from apg_workflow.formats.bpmn.registry import Category
from apg_workflow.formats.bpmn.writing import WriteContext, connections, element, expression, optional_flag
from apg_workflow.formats.bpmn.xmlout import Node
from apg_workflow.model import (
    ComplexGateway,
    EventBasedGateway,
    ExclusiveGateway,
    Gateway,
    InclusiveGateway,
    ParallelGateway,
)

_GATEWAY = {**NAMED, "gatewayDirection": ("direction", text)}
_WITH_DEFAULT = {**_GATEWAY, "default": ("default", text)}


def _event_gateway_type(value: str, element: etree._Element, context: ReadContext) -> bool:
    if value not in ("Exclusive", "Parallel"):
        raise ValueError("expected Exclusive or Parallel")
    return value == "Exclusive"


def _activation_condition(child: etree._Element, draft: Draft, context: ReadContext) -> bool:
    return draft.offer("activation_condition", read_expression(child, context))


_GATEWAYS: dict[str, ElementSpec] = {
    "exclusiveGateway": ElementSpec(ExclusiveGateway, required=("id",), attributes=_WITH_DEFAULT),
    "inclusiveGateway": ElementSpec(InclusiveGateway, required=("id",), attributes=_WITH_DEFAULT),
    "parallelGateway": ElementSpec(ParallelGateway, required=("id",), attributes=_GATEWAY),
    "eventBasedGateway": ElementSpec(
        EventBasedGateway,
        required=("id",),
        attributes={
            **_GATEWAY,
            "instantiate": ("instantiate", boolean),
            "eventGatewayType": ("exclusive", _event_gateway_type),
        },
    ),
    "complexGateway": ElementSpec(
        ComplexGateway,
        required=("id",),
        attributes=_WITH_DEFAULT,
        children={bpmn("activationCondition"): _activation_condition},
    ),
}

for _local, _spec in _GATEWAYS.items():
    registry.flow_reader(Category.NODE, bpmn(_local))(reader_for(_spec))

_Attributes = list[tuple[str, str | None]]
_SPECIFIC: dict[type, Callable[[Any], _Attributes]] = {
    ExclusiveGateway: lambda gateway: [("default", gateway.default)],
    InclusiveGateway: lambda gateway: [("default", gateway.default)],
    ComplexGateway: lambda gateway: [("default", gateway.default)],
    EventBasedGateway: lambda gateway: [
        ("instantiate", optional_flag(gateway.instantiate, False)),
        ("eventGatewayType", None if gateway.exclusive else "Parallel"),
    ],
}


@registry.writer(ExclusiveGateway, InclusiveGateway, ParallelGateway, EventBasedGateway, ComplexGateway)
def _write_gateway(gateway: Gateway, context: WriteContext) -> Node:
    specific = _SPECIFIC.get(type(gateway))
    attributes = [("name", gateway.name), ("gatewayDirection", gateway.direction)]
    attributes += specific(gateway) if specific else []
    children = connections(gateway.id, context)
    if isinstance(gateway, ComplexGateway) and gateway.activation_condition is not None:
        children.append(expression("activationCondition", gateway.activation_condition))
    return element(gateway.KIND.value, gateway, attributes, children, apg_extensions(gateway))
