"""Expression elements (``tFormalExpression``): ``conditionExpression``, ``timeDuration``, ``condition``, …"""

from __future__ import annotations

from lxml import etree

from apg_workflow.formats.bpmn import registry
from apg_workflow.formats.bpmn.namespaces import MODEL, XSI_TYPE
from apg_workflow.formats.bpmn.reading import Draft, ElementSpec, ReadContext, child_text, read_element, text
from apg_workflow.model import Expression

_SPEC = ElementSpec(Expression, attributes={"language": ("language", text)})


def read_expression(element: etree._Element, context: ReadContext) -> Expression:
    """The text and language of an expression element; its id and vendor attributes are preserved."""
    return read_element(element, _SPEC, context, text=child_text(element))


def _formal_type(value: str, draft: Draft, context: ReadContext, element: etree._Element) -> bool:
    """``xsi:type="bpmn:tFormalExpression"`` is what the writer always writes: nothing to keep."""
    if draft.cls is not Expression:
        return False
    prefix, _, local = value.strip().rpartition(":")
    return local == "tFormalExpression" and element.nsmap.get(prefix or None) == MODEL


registry.ATTRIBUTE_HANDLERS[XSI_TYPE] = _formal_type
