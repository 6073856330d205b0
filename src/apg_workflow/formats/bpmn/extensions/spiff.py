"""SpiffWorkflow (``http://spiffworkflow.org/bpmn/schema/1.0/core``).

Spiff's Python scripts and conditions are plain BPMN (``script``, ``conditionExpression``) and
read as they are; its multi-instance data items are read by :mod:`..loops`. Of its extensions
``spiffworkflow:calledDecisionId`` becomes ``decision_ref`` and ``spiffworkflow:preScript`` /
``postScript`` become ``pre_script`` / ``post_script`` (written back as ``apg:preScript`` /
``apg:postScript``), and ``payloadExpression`` / ``variableName`` on errors and escalations become
their ``payload`` / ``payload_variable`` (``apg:payload`` / ``apg:payloadVariable``; on signals
they stay preserved). ``instructionsForEndUser``, ``properties``, ``serviceTaskOperator`` and the
rest stay preserved.
"""

from __future__ import annotations

from lxml import etree

from apg_workflow.formats.bpmn import registry
from apg_workflow.formats.bpmn.namespaces import SPIFF
from apg_workflow.formats.bpmn.reading import Draft, ReadContext, child_text
from apg_workflow.model import Expression


def _called_decision(element: etree._Element, draft: Draft, context: ReadContext) -> bool:
    decision = child_text(element).strip()
    return (
        bool(decision) and not element.attrib and not len(element) and draft.offer("decision_ref", decision)
    )


def _text(name: str) -> registry.ExtensionHandler:
    def read(element: etree._Element, draft: Draft, context: ReadContext) -> bool:
        return not element.attrib and not len(element) and draft.offer(name, child_text(element))

    return read


def _payload(element: etree._Element, draft: Draft, context: ReadContext) -> bool:
    text = child_text(element)
    return not element.attrib and not len(element) and draft.offer("payload", Expression(text))


registry.EXTENSION_HANDLERS.update(
    {
        f"{{{SPIFF}}}calledDecisionId": _called_decision,
        f"{{{SPIFF}}}preScript": _text("pre_script"),
        f"{{{SPIFF}}}postScript": _text("post_script"),
        f"{{{SPIFF}}}payloadExpression": _payload,
        f"{{{SPIFF}}}variableName": _text("payload_variable"),
    }
)
