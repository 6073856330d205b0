"""Camunda 7 (``http://camunda.org/schema/1.0/bpmn``, and the same attributes in the namespaces of
Activiti and Flowable, which share its heritage) mapped onto model fields. Everything else of
Camunda's stays preserved.

| Camunda 7 | model |
|---|---|
| ``assignee``, ``candidateUsers``, ``candidateGroups`` | ``UserTask.assignment`` |
| ``formKey``, ``camunda:formData`` | ``UserTask.form`` (key, JSON Schema) |
| ``dueDate``, ``priority`` | ``UserTask.due``, ``priority`` |
| ``type="external" topic="t"`` | ``component`` of type ``t`` |
| ``class``, ``delegateExpression``, ``expression`` | ``ServiceTask.implementation`` |
| ``resultVariable``, ``decisionRef`` | ``result_variable``, ``decision_ref`` |
| ``camunda:inputOutput`` | ``inputs`` / ``outputs`` |
| ``camunda:in`` / ``camunda:out`` | call activity ``inputs`` / ``outputs`` |
| ``camunda:in`` and ``camunda:out`` with ``variables="all"`` | ``CallActivity.propagate_all`` |
| ``camunda:failedJobRetryTimeCycle`` ``R5/PT10M`` | ``retry`` (5 attempts, PT10M apart) |
| ``collection``, ``elementVariable`` | multi-instance ``input_collection``, ``input_element`` |
| ``versionTag`` | ``Process.version_tag`` |
"""

from __future__ import annotations

import re
from collections.abc import Callable

from lxml import etree

from apg_workflow.formats.bpmn import registry
from apg_workflow.formats.bpmn.extensions.camunda_forms import form_schema
from apg_workflow.formats.bpmn.extensions.common import mappings, simple_parameter, spent
from apg_workflow.formats.bpmn.extensions.values import name_list, whole_number
from apg_workflow.formats.bpmn.namespaces import ACTIVITI, CAMUNDA, FLOWABLE
from apg_workflow.formats.bpmn.reading import Draft, ReadContext, child_text
from apg_workflow.model import DataMapping, Expression, freeze

OWNER = "camunda"
_NAMESPACES = (CAMUNDA, ACTIVITI, FLOWABLE)
ALL = {"variables": "all"}
_RETRY_CYCLE = re.compile(r"^R(\d+)/(P[0-9A-Z.]+)$")


def _field(name: str, convert: Callable[[str], object] = str) -> registry.AttributeHandler:
    def handle(value: str, draft: Draft, context: ReadContext, element: etree._Element) -> bool:
        try:
            converted = convert(value)
        except ValueError:
            return False
        return converted is not None and draft.offer(name, converted)

    return handle


def _assignment(part: str, convert: Callable[[str], object] = str) -> registry.AttributeHandler:
    def handle(value: str, draft: Draft, context: ReadContext, element: etree._Element) -> bool:
        try:
            converted = convert(value)
        except ValueError:
            return False
        return draft.offer_parts("assignment", **{part: converted})

    return handle


def _form_key(value: str, draft: Draft, context: ReadContext, element: etree._Element) -> bool:
    return draft.offer_parts("form", key=value)


def _external_task(namespace: str) -> registry.AttributeHandler:
    """``type="external"`` with ``topic``: both attributes map to one component, whichever comes first."""

    def handle(value: str, draft: Draft, context: ReadContext, element: etree._Element) -> bool:
        if draft.owners.get("component") == OWNER:
            return True
        topic, kind = element.get(f"{{{namespace}}}topic"), element.get(f"{{{namespace}}}type")
        if kind != "external" or not topic or not draft.offer_parts("component", type=topic):
            return False
        draft.owners["component"] = OWNER
        return True

    return handle


def _expression(value: str) -> Expression:
    return Expression(value)


_ATTRIBUTES: dict[str, registry.AttributeHandler] = {
    "assignee": _assignment("assignee"),
    "candidateUsers": _assignment("candidate_users", name_list),
    "candidateGroups": _assignment("candidate_groups", name_list),
    "formKey": _form_key,
    "dueDate": _field("due"),
    "priority": _field("priority", whole_number),
    "class": _field("implementation"),
    "delegateExpression": _field("implementation"),
    "expression": _field("implementation"),
    "resultVariable": _field("result_variable"),
    "decisionRef": _field("decision_ref"),
    "collection": _field("input_collection", _expression),
    "elementVariable": _field("input_element"),
    "versionTag": _field("version_tag"),
}
for _namespace in _NAMESPACES:
    registry.ATTRIBUTE_HANDLERS.update(
        {f"{{{_namespace}}}{local}": handler for local, handler in _ATTRIBUTES.items()}
    )
    registry.ATTRIBUTE_HANDLERS[f"{{{_namespace}}}type"] = _external_task(_namespace)
    registry.ATTRIBUTE_HANDLERS[f"{{{_namespace}}}topic"] = _external_task(_namespace)


# Extension elements --------------------------------------------------------------------------


def _input_output(element: etree._Element, draft: Draft, context: ReadContext) -> bool:
    namespace = etree.QName(element).namespace
    tags = {f"{{{namespace}}}inputParameter": "inputs", f"{{{namespace}}}outputParameter": "outputs"}
    return mappings(element, draft, OWNER, tags, lambda child: simple_parameter(child, "name", None))


def _variable_mapping(element: etree._Element) -> DataMapping | None:
    """``<camunda:in source="a" target="b"/>`` or ``sourceExpression="${…}"``."""
    source = element.get("source", element.get("sourceExpression"))
    allowed = {"target", "source"} if "source" in element.attrib else {"target", "sourceExpression"}
    if source is None or element.get("target") is None or set(element.attrib) != allowed or len(element):
        return None
    return DataMapping(element.get("target", ""), Expression(source))


def _call_variables(element: etree._Element, draft: Draft, context: ReadContext) -> bool:
    """``camunda:in`` / ``camunda:out``: one variable mapping, or ``variables="all"`` on both."""
    namespace, local = etree.QName(element).namespace, etree.QName(element).localname
    if dict(element.attrib) == ALL and not len(element):
        other = f"{{{namespace}}}{'out' if local == 'in' else 'in'}"
        parent = element.getparent()
        partner = next((e for e in parent if e.tag == other and dict(e.attrib) == ALL and not len(e)), None)
        if partner is None or not draft.offer("propagate_all", True):
            return False
        draft.consumed.add(id(partner))
        return True
    mapping = _variable_mapping(element)
    field = "inputs" if local == "in" else "outputs"
    return mapping is not None and draft.extend(field, [mapping], OWNER)


def _retry_cycle(element: etree._Element, draft: Draft, context: ReadContext) -> bool:
    match = _RETRY_CYCLE.match(child_text(element).strip())
    if match is None or element.attrib or len(element):
        return False
    interval = match.group(2)
    return draft.offer_parts(
        "retry",
        max_attempts=int(match.group(1)),
        initial_backoff=interval,
        multiplier=1.0,
        max_backoff=interval,
        jitter=False,
    )


def _form_data(element: etree._Element, draft: Draft, context: ReadContext) -> bool:
    schema, fields = form_schema(element, etree.QName(element).namespace or CAMUNDA)
    if schema is None or not draft.offer_parts("form", schema=freeze(schema)):
        return False
    for field in fields:
        element.remove(field)
    return spent(element)


for _namespace in _NAMESPACES:
    registry.EXTENSION_HANDLERS.update(
        {
            f"{{{_namespace}}}inputOutput": _input_output,
            f"{{{_namespace}}}in": _call_variables,
            f"{{{_namespace}}}out": _call_variables,
            f"{{{_namespace}}}failedJobRetryTimeCycle": _retry_cycle,
            f"{{{_namespace}}}formData": _form_data,
        }
    )
