"""The shared roots of every model object: kinds, expressions, preserved foreign XML."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import ClassVar

from apg_workflow.model._frozen import EMPTY, FrozenDict


class ElementKind(StrEnum):
    """Every element kind the model knows. Values are the BPMN 2.0 XML tag names.

    The JSON/YAML format uses these values as its ``type`` field.
    """

    START_EVENT = "startEvent"
    END_EVENT = "endEvent"
    INTERMEDIATE_CATCH_EVENT = "intermediateCatchEvent"
    INTERMEDIATE_THROW_EVENT = "intermediateThrowEvent"
    BOUNDARY_EVENT = "boundaryEvent"

    TASK = "task"
    SERVICE_TASK = "serviceTask"
    SCRIPT_TASK = "scriptTask"
    USER_TASK = "userTask"
    MANUAL_TASK = "manualTask"
    BUSINESS_RULE_TASK = "businessRuleTask"
    SEND_TASK = "sendTask"
    RECEIVE_TASK = "receiveTask"
    SUB_PROCESS = "subProcess"
    TRANSACTION = "transaction"
    AD_HOC_SUB_PROCESS = "adHocSubProcess"
    CALL_ACTIVITY = "callActivity"

    EXCLUSIVE_GATEWAY = "exclusiveGateway"
    PARALLEL_GATEWAY = "parallelGateway"
    INCLUSIVE_GATEWAY = "inclusiveGateway"
    EVENT_BASED_GATEWAY = "eventBasedGateway"
    COMPLEX_GATEWAY = "complexGateway"

    SEQUENCE_FLOW = "sequenceFlow"

    DATA_OBJECT = "dataObject"
    DATA_OBJECT_REFERENCE = "dataObjectReference"
    DATA_STORE_REFERENCE = "dataStoreReference"
    TEXT_ANNOTATION = "textAnnotation"
    ASSOCIATION = "association"
    GROUP = "group"

    UNSUPPORTED = "unsupported"


@dataclass(frozen=True, slots=True)
class Expression:
    """An expression as written in the source. ``language`` ``None`` means the platform default.

    The model does not interpret it: ``apg_workflow.expressions`` parses and evaluates it.
    Camunda 7 style ``${...}`` and Camunda 8 style ``=...`` are kept verbatim.
    """

    text: str
    language: str | None = None
    # Foreign XML attributes / children of the element the expression was read from (a BPMN id,
    # vendor attributes), kept so that export loses nothing. Not part of what the expression means.
    preserved: Preserved = field(default_factory=lambda: NOTHING_PRESERVED)

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        extra = f", preserved={self.preserved!r}" if self.preserved else ""
        return f"Expression(text={self.text!r}, language={self.language!r}{extra})"


@dataclass(frozen=True, slots=True, kw_only=True)
class Preserved:
    """What a reader found but the model does not interpret, kept so that export loses nothing.

    ``attributes`` are unknown XML attributes by Clark name (``{ns}local``); ``extensions`` the
    canonical XML of unknown children of ``extensionElements``; ``children`` the canonical XML of
    other child elements the model has no field for (``ioSpecification``, data associations, …).
    """

    attributes: FrozenDict = EMPTY
    extensions: tuple[str, ...] = ()
    children: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.attributes or self.extensions or self.children)


NOTHING_PRESERVED = Preserved()


@dataclass(frozen=True, slots=True, kw_only=True)
class BaseElement:
    """Anything with an id: elements, flows, event definitions, messages, lanes, …"""

    id: str | None = None
    documentation: str | None = None
    preserved: Preserved = field(default=NOTHING_PRESERVED, compare=True)


@dataclass(frozen=True, slots=True, kw_only=True)
class Element(BaseElement):
    """A named element that lives in a process or sub-process."""

    KIND: ClassVar[ElementKind]

    id: str
    name: str | None = None

    @property
    def kind(self) -> ElementKind:
        return self.KIND

    @property
    def label(self) -> str:
        """What a designer reads in a message: the name when there is one, else the id."""
        return f"'{self.name}' ({self.id})" if self.name else f"'{self.id}'"
