"""Flow nodes (what sequence flows connect), sequence flows, gateways, and the non-executable
artifacts and data elements that a process may also hold."""

from __future__ import annotations

from dataclasses import dataclass

from apg_workflow.model.base import Element, ElementKind, Expression
from apg_workflow.model.specs import DataMapping


@dataclass(frozen=True, slots=True, kw_only=True)
class FlowNode(Element):
    """Events, activities and gateways. ``inputs``/``outputs`` map variables in and out of the node."""

    inputs: tuple[DataMapping, ...] = ()
    outputs: tuple[DataMapping, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class SequenceFlow(Element):
    KIND = ElementKind.SEQUENCE_FLOW
    source: str
    target: str
    condition: Expression | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Gateway(FlowNode):
    direction: str | None = None  # gatewayDirection as written: Unspecified, Converging, Diverging, Mixed


@dataclass(frozen=True, slots=True, kw_only=True)
class ExclusiveGateway(Gateway):
    KIND = ElementKind.EXCLUSIVE_GATEWAY
    default: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class InclusiveGateway(Gateway):
    KIND = ElementKind.INCLUSIVE_GATEWAY
    default: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ParallelGateway(Gateway):
    KIND = ElementKind.PARALLEL_GATEWAY


@dataclass(frozen=True, slots=True, kw_only=True)
class EventBasedGateway(Gateway):
    KIND = ElementKind.EVENT_BASED_GATEWAY
    instantiate: bool = False
    exclusive: bool = True  # eventGatewayType Exclusive (True) or Parallel


@dataclass(frozen=True, slots=True, kw_only=True)
class ComplexGateway(Gateway):
    KIND = ElementKind.COMPLEX_GATEWAY
    default: str | None = None
    activation_condition: Expression | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class UnsupportedNode(FlowNode):
    """A flow element of a kind the model does not know (``tag`` is its XML tag, Clark notation).

    Its whole XML is kept in ``preserved.children[0]`` so that export writes it back unchanged;
    the validator reports it, and the engine refuses to run through it.
    """

    KIND = ElementKind.UNSUPPORTED
    tag: str


# Data and artifacts: kept for the diagram and for round trips; the engine does not run them.


@dataclass(frozen=True, slots=True, kw_only=True)
class DataObject(Element):
    KIND = ElementKind.DATA_OBJECT
    is_collection: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class DataObjectReference(Element):
    KIND = ElementKind.DATA_OBJECT_REFERENCE
    data_object_ref: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class DataStoreReference(Element):
    KIND = ElementKind.DATA_STORE_REFERENCE
    data_store_ref: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class TextAnnotation(Element):
    KIND = ElementKind.TEXT_ANNOTATION
    text: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Association(Element):
    KIND = ElementKind.ASSOCIATION
    source: str
    target: str
    direction: str | None = None  # None, One, Both


@dataclass(frozen=True, slots=True, kw_only=True)
class Group(Element):
    KIND = ElementKind.GROUP
    category_value_ref: str | None = None
