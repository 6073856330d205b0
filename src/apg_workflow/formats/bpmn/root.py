"""Root elements: processes, collaborations (pools and message flows), messages, signals,
errors and escalations."""

from __future__ import annotations

from apg_workflow.formats.bpmn import registry
from apg_workflow.formats.bpmn.containers import CONTAINER_CHILDREN, CONTAINER_FALLBACK, container_children
from apg_workflow.formats.bpmn.extensions.apg import apg_extensions
from apg_workflow.formats.bpmn.flows import ARTIFACT_READERS
from apg_workflow.formats.bpmn.namespaces import bpmn
from apg_workflow.formats.bpmn.reading import (
    NAMED,
    ElementSpec,
    boolean,
    collect,
    reader_for,
    reference,
    text,
)
from apg_workflow.formats.bpmn.writing import WriteContext, element, flag, write
from apg_workflow.formats.bpmn.xmlout import Node
from apg_workflow.model import (
    Collaboration,
    Error,
    Escalation,
    Message,
    MessageFlow,
    Participant,
    Process,
    Signal,
)

PROCESS = ElementSpec(
    Process,
    required=("id",),
    attributes={**NAMED, "isExecutable": ("is_executable", boolean)},
    children=CONTAINER_CHILDREN,
    fallback=CONTAINER_FALLBACK,
)
_PARTICIPANT = ElementSpec(
    Participant, required=("id",), attributes={**NAMED, "processRef": ("process_ref", reference)}
)
_MESSAGE_FLOW = ElementSpec(
    MessageFlow,
    required=("id", "sourceRef", "targetRef"),
    attributes={
        **NAMED,
        "sourceRef": ("source", reference),
        "targetRef": ("target", reference),
        "messageRef": ("message_ref", reference),
    },
)
COLLABORATION = ElementSpec(
    Collaboration,
    required=("id",),
    attributes=NAMED,
    children={
        bpmn("participant"): collect("participants", reader_for(_PARTICIPANT)),
        bpmn("messageFlow"): collect("message_flows", reader_for(_MESSAGE_FLOW)),
        **{tag: collect("artifacts", reader) for tag, reader in ARTIFACT_READERS.items()},
    },
)
MESSAGE = ElementSpec(Message, required=("id",), attributes={**NAMED, "itemRef": ("item_ref", reference)})
SIGNAL = ElementSpec(Signal, required=("id",), attributes=NAMED)
ERROR = ElementSpec(Error, required=("id",), attributes={**NAMED, "errorCode": ("error_code", text)})
ESCALATION = ElementSpec(
    Escalation, required=("id",), attributes={**NAMED, "escalationCode": ("escalation_code", text)}
)


@registry.writer(Process)
def _write_process(process: Process, context: WriteContext) -> Node:
    attributes = [("name", process.name), ("isExecutable", flag(process.is_executable))]
    return element(
        "process", process, attributes, container_children(process, context), apg_extensions(process)
    )


@registry.writer(Participant)
def _write_participant(participant: Participant, context: WriteContext) -> Node:
    return element(
        "participant", participant, [("name", participant.name), ("processRef", participant.process_ref)]
    )


@registry.writer(MessageFlow)
def _write_message_flow(flow: MessageFlow, context: WriteContext) -> Node:
    attributes = [
        ("name", flow.name),
        ("sourceRef", flow.source),
        ("targetRef", flow.target),
        ("messageRef", flow.message_ref),
    ]
    return element("messageFlow", flow, attributes)


@registry.writer(Collaboration)
def _write_collaboration(collaboration: Collaboration, context: WriteContext) -> Node:
    children = [
        write(item, context)
        for group in (collaboration.participants, collaboration.message_flows, collaboration.artifacts)
        for item in group
    ]
    return element("collaboration", collaboration, [("name", collaboration.name)], children)


@registry.writer(Message)
def _write_message(message: Message, context: WriteContext) -> Node:
    return element("message", message, [("name", message.name), ("itemRef", message.item_ref)])


@registry.writer(Signal)
def _write_signal(signal: Signal, context: WriteContext) -> Node:
    return element("signal", signal, [("name", signal.name)])


@registry.writer(Error)
def _write_error(error: Error, context: WriteContext) -> Node:
    attributes = [("name", error.name), ("errorCode", error.error_code)]
    return element("error", error, attributes, extensions=apg_extensions(error))


@registry.writer(Escalation)
def _write_escalation(escalation: Escalation, context: WriteContext) -> Node:
    attributes = [("name", escalation.name), ("escalationCode", escalation.escalation_code)]
    return element("escalation", escalation, attributes, extensions=apg_extensions(escalation))
