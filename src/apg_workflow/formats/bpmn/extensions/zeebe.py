"""Camunda 8 / Zeebe (``http://camunda.org/schema/zeebe/1.0``) mapped onto model fields.

FEEL values (``source="=order.total"``) are kept as written, as ``Expression(text, "feel")``.
Attributes a model field cannot hold stay on the preserved remainder of their element.

| Zeebe | model |
|---|---|
| ``taskDefinition type`` (+ sibling ``taskHeaders``) | ``component`` type (+ config) |
| ``taskDefinition retries`` | ``retry.max_attempts`` |
| ``ioMapping`` ``input`` / ``output`` | ``inputs`` / ``outputs`` |
| ``assignmentDefinition`` | ``UserTask.assignment`` |
| ``formDefinition`` ``formKey`` / ``formId`` / ``externalReference`` | ``UserTask.form.key`` |
| ``taskSchedule dueDate``, ``priorityDefinition priority`` | ``UserTask.due``, ``priority`` |
| ``calledElement processId`` / ``propagateAllChildVariables`` | ``called_element`` / ``propagate_all`` |
| ``calledDecision decisionId`` / ``resultVariable`` | ``decision_ref`` / ``result_variable`` |
| ``loopCharacteristics`` | multi-instance collection, element, output |
| ``script expression`` / ``resultVariable`` | ``ScriptTask.script`` (FEEL) / ``result_variable`` |
| ``versionTag value`` | ``Process.version_tag`` |
"""

from __future__ import annotations

from collections.abc import Callable

from lxml import etree

from apg_workflow.formats.bpmn import registry
from apg_workflow.formats.bpmn.extensions.common import mappings, offer_to, spent, take
from apg_workflow.formats.bpmn.extensions.values import name_list, whole_number
from apg_workflow.formats.bpmn.namespaces import ZEEBE
from apg_workflow.formats.bpmn.reading import Draft, ReadContext
from apg_workflow.model import DataMapping, Expression, Script, freeze

OWNER = "zeebe"
FEEL = "feel"


def _z(local: str) -> str:
    return f"{{{ZEEBE}}}{local}"


def _feel(text: str) -> Expression:
    return Expression(text, FEEL)


def _headers(element: etree._Element) -> etree._Element | None:
    """The ``taskHeaders`` beside a ``taskDefinition``, when every child is a plain header."""
    headers = element.getparent().find(_z("taskHeaders"))
    if headers is None or headers.attrib:
        return None
    plain = all(h.tag == _z("header") and set(h.attrib) == {"key", "value"} and not len(h) for h in headers)
    return headers if plain else None


def _task_definition(element: etree._Element, draft: Draft, context: ReadContext) -> bool:
    kind = element.get("type")
    headers = _headers(element)
    if kind is not None:
        parts: dict[str, object] = {"type": kind}
        if headers is not None:
            parts["config"] = freeze({h.get("key", ""): h.get("value", "") for h in headers})
        if draft.offer_parts("component", **parts):
            del element.attrib["type"]
            if headers is not None:
                draft.consumed.add(id(headers))
    take(element, "retries", lambda value: _retries(draft, value))
    return spent(element)


def _retries(draft: Draft, value: str) -> bool:
    attempts = whole_number(value)
    return attempts is not None and draft.offer_parts("retry", max_attempts=attempts)


def _io_mapping(element: etree._Element, draft: Draft, context: ReadContext) -> bool:
    return mappings(element, draft, OWNER, {_z("input"): "inputs", _z("output"): "outputs"}, _mapping)


def _mapping(element: etree._Element) -> DataMapping | None:
    source, target = element.get("source"), element.get("target")
    if source is None or target is None or set(element.attrib) != {"source", "target"} or len(element):
        return None
    return DataMapping(target, _feel(source))


def _assignment_part(draft: Draft, part: str, convert: Callable[[str], object]) -> Callable[[str], bool]:
    return lambda value: draft.offer_parts("assignment", **{part: convert(value)})


def _assignment_definition(element: etree._Element, draft: Draft, context: ReadContext) -> bool:
    take(element, "assignee", _assignment_part(draft, "assignee", str))
    take(element, "candidateUsers", _assignment_part(draft, "candidate_users", name_list))
    take(element, "candidateGroups", _assignment_part(draft, "candidate_groups", name_list))
    return spent(element)


def _form_definition(element: etree._Element, draft: Draft, context: ReadContext) -> bool:
    for name in ("formKey", "formId", "externalReference"):
        take(element, name, lambda value: draft.offer_parts("form", key=value))
    return spent(element)


def _attributes(mapping: dict[str, tuple[str, Callable[[str], object]]]) -> registry.ExtensionHandler:
    """A handler mapping attributes of an element one by one: attribute → (field, conversion)."""

    def handle(element: etree._Element, draft: Draft, context: ReadContext) -> bool:
        for attribute, (field, convert) in mapping.items():
            take(element, attribute, offer_to(draft, field, convert))
        return spent(element)

    return handle


def _propagate(value: str) -> bool:
    if value not in ("true", "false"):
        raise ValueError(value)
    return value == "true"


def _script(element: etree._Element, draft: Draft, context: ReadContext) -> bool:
    take(element, "expression", offer_to(draft, "script", lambda text: Script(text, FEEL)))
    take(element, "resultVariable", offer_to(draft, "result_variable"))
    return spent(element)


def _priority(value: str) -> int:
    number = whole_number(value)
    if number is None:
        raise ValueError(value)
    return number


registry.EXTENSION_HANDLERS.update(
    {
        _z("taskDefinition"): _task_definition,
        _z("ioMapping"): _io_mapping,
        _z("assignmentDefinition"): _assignment_definition,
        _z("formDefinition"): _form_definition,
        _z("taskSchedule"): _attributes({"dueDate": ("due", str)}),
        _z("priorityDefinition"): _attributes({"priority": ("priority", _priority)}),
        _z("calledElement"): _attributes(
            {
                "processId": ("called_element", str),
                "propagateAllChildVariables": ("propagate_all", _propagate),
            }
        ),
        _z("calledDecision"): _attributes(
            {"decisionId": ("decision_ref", str), "resultVariable": ("result_variable", str)}
        ),
        _z("loopCharacteristics"): _attributes(
            {
                "inputCollection": ("input_collection", _feel),
                "inputElement": ("input_element", str),
                "outputCollection": ("output_collection", str),
                "outputElement": ("output_element", _feel),
            }
        ),
        _z("script"): _script,
        _z("versionTag"): _attributes({"value": ("version_tag", str)}),
    }
)
