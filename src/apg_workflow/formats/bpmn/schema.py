"""The child order of the BPMN 2.0 XSD (Semantic.xsd, BPMNDI.xsd, DI.xsd) per element.

The writer sorts every element's children by :func:`slot` so that strict tools (Camunda's
engine validates against the XSD) open what we write; the reader sorts the children it preserves
by the same key, so that a file read, written and read again gives the same model.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache

from apg_workflow.formats.bpmn.namespaces import STANDARD_NAMESPACES, split

FLOW_ELEMENTS = (
    "adHocSubProcess", "boundaryEvent", "businessRuleTask", "callActivity", "callChoreography",
    "choreographyTask", "complexGateway", "dataObject", "dataObjectReference", "dataStoreReference",
    "endEvent", "eventBasedGateway", "exclusiveGateway", "implicitThrowEvent", "inclusiveGateway",
    "intermediateCatchEvent", "intermediateThrowEvent", "manualTask", "parallelGateway", "receiveTask",
    "scriptTask", "sendTask", "sequenceFlow", "serviceTask", "startEvent", "subChoreography", "subProcess",
    "task", "transaction", "userTask",
)  # fmt: skip
ARTIFACTS = ("association", "group", "textAnnotation")
EVENT_DEFINITIONS = (
    "cancelEventDefinition", "compensateEventDefinition", "conditionalEventDefinition",
    "errorEventDefinition", "escalationEventDefinition", "linkEventDefinition", "messageEventDefinition",
    "signalEventDefinition", "terminateEventDefinition", "timerEventDefinition",
)  # fmt: skip
RESOURCE_ROLES = ("resourceRole", "performer", "humanPerformer", "potentialOwner")
LOOPS = ("standardLoopCharacteristics", "multiInstanceLoopCharacteristics")
ROOT_ELEMENTS = (
    "category", "collaboration", "choreography", "globalConversation", "correlationProperty", "dataStore",
    "endPoint", "error", "escalation", "eventDefinition", *EVENT_DEFINITIONS, "globalBusinessRuleTask",
    "globalManualTask", "globalScriptTask", "globalTask", "globalUserTask", "interface", "itemDefinition",
    "message", "partnerEntity", "partnerRole", "process", "resource", "signal",
)  # fmt: skip

# One entry per position of a sequence; a tuple is a substitution group sharing one position.
_Sequence = tuple[str | tuple[str, ...], ...]

_BASE: _Sequence = ("documentation", "extensionElements")
_FLOW_ELEMENT: _Sequence = (*_BASE, "auditing", "monitoring", "categoryValueRef")
_FLOW_NODE: _Sequence = (*_FLOW_ELEMENT, "incoming", "outgoing")
_ACTIVITY: _Sequence = (
    *_FLOW_NODE, "ioSpecification", "property", "dataInputAssociation", "dataOutputAssociation",
    RESOURCE_ROLES, LOOPS,
)  # fmt: skip
_CONTAINER: _Sequence = ("laneSet", FLOW_ELEMENTS, ARTIFACTS)
_CATCH_EVENT: _Sequence = (
    *_FLOW_NODE, "property", "dataOutput", "dataOutputAssociation", "outputSet", EVENT_DEFINITIONS,
    "eventDefinitionRef",
)  # fmt: skip
_THROW_EVENT: _Sequence = (
    *_FLOW_NODE, "property", "dataInput", "dataInputAssociation", "inputSet", EVENT_DEFINITIONS,
    "eventDefinitionRef",
)  # fmt: skip
_DI_ELEMENT: _Sequence = ("extension",)

_SEQUENCES: dict[str, _Sequence] = {
    "definitions": (*_BASE, "import", "extension", ROOT_ELEMENTS, "BPMNDiagram", "relationship"),
    "process": (
        *_BASE, "supportedInterfaceRef", "ioSpecification", "ioBinding", "auditing", "monitoring",
        "property", *_CONTAINER, RESOURCE_ROLES, "correlationSubscription", "supports",
    ),
    "collaboration": (
        *_BASE, "participant", "messageFlow", ARTIFACTS, "conversationNode", "conversation",
        "subConversation", "callConversation", "conversationAssociation", "participantAssociation",
        "messageFlowAssociation", "correlationKey", "choreographyRef", "conversationLink",
    ),
    "participant": (*_BASE, "interfaceRef", "endPointRef", "participantMultiplicity"),
    "laneSet": (*_BASE, "lane"),
    "lane": (*_BASE, "partitionElement", "flowNodeRef", "childLaneSet"),
    "task": _ACTIVITY,
    "manualTask": _ACTIVITY,
    "serviceTask": _ACTIVITY,
    "sendTask": _ACTIVITY,
    "receiveTask": _ACTIVITY,
    "businessRuleTask": _ACTIVITY,
    "callActivity": _ACTIVITY,
    "scriptTask": (*_ACTIVITY, "script"),
    "userTask": (*_ACTIVITY, "rendering"),
    "subProcess": (*_ACTIVITY, *_CONTAINER),
    "transaction": (*_ACTIVITY, *_CONTAINER),
    "adHocSubProcess": (*_ACTIVITY, *_CONTAINER, "completionCondition"),
    "startEvent": _CATCH_EVENT,
    "intermediateCatchEvent": _CATCH_EVENT,
    "boundaryEvent": _CATCH_EVENT,
    "endEvent": _THROW_EVENT,
    "intermediateThrowEvent": _THROW_EVENT,
    "exclusiveGateway": _FLOW_NODE,
    "inclusiveGateway": _FLOW_NODE,
    "parallelGateway": _FLOW_NODE,
    "eventBasedGateway": _FLOW_NODE,
    "complexGateway": (*_FLOW_NODE, "activationCondition"),
    "sequenceFlow": (*_FLOW_ELEMENT, "conditionExpression"),
    "dataObject": (*_FLOW_ELEMENT, "dataState"),
    "dataObjectReference": (*_FLOW_ELEMENT, "dataState"),
    "dataStoreReference": (*_FLOW_ELEMENT, "dataState"),
    "textAnnotation": (*_BASE, "text"),
    "timerEventDefinition": (*_BASE, ("timeDate", "timeDuration", "timeCycle")),
    "messageEventDefinition": (*_BASE, "operationRef"),
    "conditionalEventDefinition": (*_BASE, "condition"),
    "linkEventDefinition": (*_BASE, "source", "target"),
    "standardLoopCharacteristics": (*_BASE, "loopCondition"),
    "multiInstanceLoopCharacteristics": (
        *_BASE, "loopCardinality", "loopDataInputRef", "loopDataOutputRef", "inputDataItem",
        "outputDataItem", "complexBehaviorDefinition", "completionCondition",
    ),
    "BPMNDiagram": ("BPMNPlane", "BPMNLabelStyle"),
    "BPMNPlane": (*_DI_ELEMENT, ("BPMNShape", "BPMNEdge")),
    "BPMNShape": (*_DI_ELEMENT, "Bounds", "BPMNLabel"),
    "BPMNEdge": (*_DI_ELEMENT, "waypoint", "BPMNLabel"),
    "BPMNLabel": (*_DI_ELEMENT, "Bounds"),
}  # fmt: skip


def _positions(sequence: Iterable[str | tuple[str, ...]]) -> dict[str, int]:
    positions: dict[str, int] = {}
    for index, entry in enumerate(sequence):
        for name in (entry,) if isinstance(entry, str) else entry:
            positions.setdefault(name, index)
    return positions


_POSITIONS = {parent: _positions(sequence) for parent, sequence in _SEQUENCES.items()}
UNKNOWN = 1_000  # children the schema does not place (vendor elements outside extensionElements) go last


@cache
def slot(parent: str, child: str) -> int:
    """The position of child ``child`` (Clark name) in element ``parent`` (local name)."""
    uri, local = split(child)
    if uri not in STANDARD_NAMESPACES:
        return UNKNOWN
    return _POSITIONS.get(parent, {}).get(local, UNKNOWN)
