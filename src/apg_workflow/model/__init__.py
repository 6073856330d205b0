"""The process model: immutable, typed definitions with BPMN 2.0 semantics.

Everything here is a frozen dataclass; change a definition with :func:`dataclasses.replace`.
Readers in :mod:`apg_workflow.formats` build these objects, :func:`validate` checks them, and the
engine runs them.
"""

from apg_workflow.model._frozen import EMPTY, FrozenDict, freeze, thaw
from apg_workflow.model.activities import (
    Activity,
    AdHocSubProcess,
    BusinessRuleTask,
    CallActivity,
    ManualTask,
    ReceiveTask,
    ScriptTask,
    SendTask,
    ServiceTask,
    SubProcess,
    Task,
    Transaction,
    UserTask,
)
from apg_workflow.model.base import (
    NOTHING_PRESERVED,
    BaseElement,
    Element,
    ElementKind,
    Expression,
    Preserved,
)
from apg_workflow.model.container import FlowContainer, Lane, LaneSet
from apg_workflow.model.definitions import (
    Collaboration,
    Definitions,
    Error,
    Escalation,
    Message,
    MessageFlow,
    Participant,
    Process,
    Signal,
)
from apg_workflow.model.diagram import Bounds, Diagram, Edge, Label, Plane, Point, Shape
from apg_workflow.model.durations import (
    DurationError,
    format_duration,
    friendly_duration,
    is_iso_duration,
    normalize_duration,
    parse_duration,
)
from apg_workflow.model.errors import ElementNotFound, ModelError, Problem, Severity
from apg_workflow.model.events import (
    EVENT_DEFINITION_TYPES,
    BoundaryEvent,
    CancelDefinition,
    CompensateDefinition,
    ConditionalDefinition,
    EndEvent,
    ErrorDefinition,
    EscalationDefinition,
    Event,
    EventDefinition,
    IntermediateCatchEvent,
    IntermediateThrowEvent,
    LinkDefinition,
    MessageDefinition,
    SignalDefinition,
    StartEvent,
    TerminateDefinition,
    TimerDefinition,
    TimerKind,
)
from apg_workflow.model.nodes import (
    Association,
    ComplexGateway,
    DataObject,
    DataObjectReference,
    DataStoreReference,
    EventBasedGateway,
    ExclusiveGateway,
    FlowNode,
    Gateway,
    Group,
    InclusiveGateway,
    ParallelGateway,
    SequenceFlow,
    TextAnnotation,
    UnsupportedNode,
)
from apg_workflow.model.specs import (
    Assignment,
    ComponentRef,
    DataMapping,
    Form,
    LoopCharacteristics,
    MultiInstance,
    RetryPolicy,
    Script,
    StandardLoop,
)

__all__ = [
    "EMPTY", "EVENT_DEFINITION_TYPES", "NOTHING_PRESERVED",
    "Activity", "AdHocSubProcess", "Assignment", "Association", "BaseElement", "BoundaryEvent", "Bounds",
    "BusinessRuleTask", "CallActivity", "CancelDefinition", "Collaboration", "CompensateDefinition",
    "ComplexGateway", "ComponentRef", "ConditionalDefinition", "DataMapping", "DataObject",
    "DataObjectReference", "DataStoreReference", "Definitions", "Diagram", "DurationError", "Edge",
    "Element", "ElementKind", "ElementNotFound", "EndEvent", "Error", "ErrorDefinition", "Escalation",
    "EscalationDefinition", "Event", "EventBasedGateway", "EventDefinition", "ExclusiveGateway",
    "Expression", "FlowContainer", "FlowNode", "Form", "FrozenDict", "Gateway", "Group",
    "InclusiveGateway", "IntermediateCatchEvent", "IntermediateThrowEvent", "Label", "Lane", "LaneSet",
    "LinkDefinition", "LoopCharacteristics", "ManualTask", "Message", "MessageDefinition", "MessageFlow",
    "ModelError", "MultiInstance", "ParallelGateway", "Participant", "Plane", "Point", "Preserved",
    "Problem", "Process", "ReceiveTask", "RetryPolicy", "Script", "ScriptTask", "SendTask", "SequenceFlow",
    "ServiceTask", "Severity", "Shape", "Signal", "SignalDefinition", "StandardLoop", "StartEvent",
    "SubProcess", "Task", "TerminateDefinition", "TextAnnotation", "TimerDefinition", "TimerKind",
    "Transaction", "UnsupportedNode", "UserTask", "format_duration", "freeze", "friendly_duration",
    "is_iso_duration", "normalize_duration", "parse_duration", "thaw",
]
