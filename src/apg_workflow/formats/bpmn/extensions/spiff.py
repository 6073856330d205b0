"""SpiffWorkflow (``http://spiffworkflow.org/bpmn/schema/1.0/core``).

Spiff's Python scripts and conditions are plain BPMN (``script``, ``conditionExpression``) and
read as they are; its multi-instance data items are read by :mod:`..loops`. Of its extensions only
``spiffworkflow:calledDecisionId`` has a model field (``decision_ref``); ``preScript``,
``postScript``, ``instructionsForEndUser``, ``properties``, ``serviceTaskOperator`` and the rest
stay preserved.
"""

from __future__ import annotations

from lxml import etree

from apg_workflow.formats.bpmn import registry
from apg_workflow.formats.bpmn.namespaces import SPIFF
from apg_workflow.formats.bpmn.reading import Draft, ReadContext, child_text


def _called_decision(element: etree._Element, draft: Draft, context: ReadContext) -> bool:
    decision = child_text(element).strip()
    return (
        bool(decision) and not element.attrib and not len(element) and draft.offer("decision_ref", decision)
    )


registry.EXTENSION_HANDLERS[f"{{{SPIFF}}}calledDecisionId"] = _called_decision
