"""Our own extensions, namespace ``urn:apg-workflow:bpmn:1.0`` (prefix ``apg``), inside
``bpmn:extensionElements``: the fields BPMN 2.0 has no element or attribute for.

Every field has exactly one form here, which the writer always uses (see docs/formats.md)::

    <apg:component type="http.request"><apg:config>{"url": "…"}</apg:config></apg:component>
    <apg:input target="amount" source="order.total" language="python"/>   (any number, in order)
    <apg:output target="status" source="response.status"/>
    <apg:retry maxAttempts="5" initialBackoff="PT10S" multiplier="2.0" maxBackoff="PT5M" jitter="true"/>
    <apg:sla>PT4H</apg:sla>            <apg:due>P2D</apg:due>          <apg:priority>50</apg:priority>
    <apg:assignee>${initiator}</apg:assignee>
    <apg:candidateUsers>alice, bob</apg:candidateUsers>
    <apg:candidateGroups>accounting</apg:candidateGroups>
    <apg:form key="invoice-approval">{"type": "object", …}</apg:form>
    <apg:correlationKey language="feel">order.id</apg:correlationKey>
    <apg:resultVariable>result</apg:resultVariable>   <apg:decisionRef>approve-invoice</apg:decisionRef>
    <apg:propagateAll/>                <apg:versionTag>2024.1</apg:versionTag>
    <apg:preScript>x = a * 2</apg:preScript>   <apg:postScript>del x</apg:postScript>   (Python)
    <apg:payload language="python">details</apg:payload>  <apg:payloadVariable>why</apg:payloadVariable>
                                       (on errors and escalations)
    <apg:multiInstance inputCollection="items" inputElement="item" outputCollection="results"
                       outputElement="result"/>   (on multiInstanceLoopCharacteristics)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lxml import etree

from apg_workflow.formats.bpmn import registry
from apg_workflow.formats.bpmn.extensions.values import json_object, json_text, name_list, name_list_text
from apg_workflow.formats.bpmn.namespaces import apg
from apg_workflow.formats.bpmn.reading import Draft, ReadContext, child_text
from apg_workflow.formats.bpmn.writing import flag
from apg_workflow.formats.bpmn.xmlout import Node
from apg_workflow.model import (
    Assignment,
    ComponentRef,
    DataMapping,
    Expression,
    Form,
    MultiInstance,
    RetryPolicy,
)

OWNER = "apg"


def _required(element: etree._Element, name: str, context: ReadContext) -> str:
    value = element.get(name)
    if value is None:
        raise context.error(f"<apg:{etree.QName(element).localname}> needs a {name} attribute", element)
    return value


def _expression(element: etree._Element, text_attribute: str, language_attribute: str) -> Expression | None:
    text = element.get(text_attribute)
    return None if text is None else Expression(text, element.get(language_attribute))


# Readers: (element, draft, context) → True when the element was taken.


def _component(element: etree._Element, draft: Draft, context: ReadContext) -> bool:
    parts: dict[str, Any] = {"type": _required(element, "type", context)}
    for child in element:
        if child.tag != apg("config"):
            return False
        parts["config"] = json_object(child_text(child), child, context, "<apg:config>")
    return draft.offer_parts("component", **parts)


def _mapping(name: str) -> registry.ExtensionHandler:
    def read(element: etree._Element, draft: Draft, context: ReadContext) -> bool:
        target = _required(element, "target", context)
        source = Expression(_required(element, "source", context), element.get("language"))
        return draft.extend(name, [DataMapping(target, source)], OWNER)

    return read


def _retry(element: etree._Element, draft: Draft, context: ReadContext) -> bool:
    defaults = RetryPolicy()
    try:
        policy = {
            "max_attempts": int(element.get("maxAttempts", defaults.max_attempts)),
            "initial_backoff": element.get("initialBackoff", defaults.initial_backoff),
            "multiplier": float(element.get("multiplier", defaults.multiplier)),
            "max_backoff": element.get("maxBackoff", defaults.max_backoff),
            "jitter": element.get("jitter", flag(defaults.jitter)).strip() in ("true", "1"),
        }
    except ValueError as exc:
        raise context.error(f"<apg:retry> has a value that is not a number: {exc}", element) from None
    return draft.offer_parts("retry", **policy)


def _text_field(name: str, convert: Callable[[str], Any] = str) -> registry.ExtensionHandler:
    def read(element: etree._Element, draft: Draft, context: ReadContext) -> bool:
        try:
            value = convert(child_text(element))
        except ValueError as exc:
            raise context.error(f"<apg:{etree.QName(element).localname}>: {exc}", element) from None
        return draft.offer(name, value)

    return read


def _assignment(part: str, convert: Callable[[str], Any]) -> registry.ExtensionHandler:
    def read(element: etree._Element, draft: Draft, context: ReadContext) -> bool:
        try:
            value = convert(child_text(element))
        except ValueError as exc:
            raise context.error(f"<apg:{etree.QName(element).localname}>: {exc}", element) from None
        return draft.offer_parts("assignment", **{part: value})

    return read


def _form(element: etree._Element, draft: Draft, context: ReadContext) -> bool:
    parts: dict[str, Any] = {"key": element.get("key")}
    if child_text(element).strip():
        parts["schema"] = json_object(child_text(element), element, context, "the <apg:form> schema")
    return draft.offer_parts("form", **parts)


def _correlation_key(element: etree._Element, draft: Draft, context: ReadContext) -> bool:
    return draft.offer("correlation_key", Expression(child_text(element), element.get("language")))


def _payload(element: etree._Element, draft: Draft, context: ReadContext) -> bool:
    return draft.offer("payload", Expression(child_text(element), element.get("language")))


def _propagate_all(element: etree._Element, draft: Draft, context: ReadContext) -> bool:
    return draft.offer("propagate_all", child_text(element).strip() in ("", "true", "1"))


def _multi_instance(element: etree._Element, draft: Draft, context: ReadContext) -> bool:
    values = {
        "input_collection": _expression(element, "inputCollection", "inputCollectionLanguage"),
        "input_element": element.get("inputElement"),
        "output_collection": element.get("outputCollection"),
        "output_element": _expression(element, "outputElement", "outputElementLanguage"),
    }
    present = {name: value for name, value in values.items() if value is not None}
    if not all(draft.free(name) for name in present):
        return False
    for name, value in present.items():
        draft.offer(name, value)
    return True


registry.APG_HANDLERS.update(
    {
        "component": _component,
        "input": _mapping("inputs"),
        "output": _mapping("outputs"),
        "retry": _retry,
        "sla": _text_field("sla"),
        "due": _text_field("due"),
        "priority": _text_field("priority", int),
        "resultVariable": _text_field("result_variable"),
        "decisionRef": _text_field("decision_ref"),
        "versionTag": _text_field("version_tag"),
        "assignee": _assignment("assignee", str),
        "candidateUsers": _assignment("candidate_users", name_list),
        "candidateGroups": _assignment("candidate_groups", name_list),
        "form": _form,
        "correlationKey": _correlation_key,
        "propagateAll": _propagate_all,
        "multiInstance": _multi_instance,
        "preScript": _text_field("pre_script"),
        "postScript": _text_field("post_script"),
        "payload": _payload,
        "payloadVariable": _text_field("payload_variable"),
    }
)


# Writers: model values → apg elements, in a fixed order.


def _write_component(value: ComponentRef) -> list[Node]:
    config = [Node(apg("config"), text=json_text(value.config))] if value.config else []
    return [Node(apg("component"), [("type", value.type)], children=config)]


def _write_mappings(local: str) -> Callable[[tuple[DataMapping, ...]], list[Node]]:
    def write(mappings: tuple[DataMapping, ...]) -> list[Node]:
        return [
            Node(
                apg(local), [("target", m.target), ("source", m.source.text), ("language", m.source.language)]
            )
            for m in mappings
        ]

    return write


def _write_retry(value: RetryPolicy) -> list[Node]:
    attributes = [
        ("maxAttempts", str(value.max_attempts)),
        ("initialBackoff", value.initial_backoff),
        ("multiplier", repr(float(value.multiplier))),
        ("maxBackoff", value.max_backoff),
        ("jitter", flag(value.jitter)),
    ]
    return [Node(apg("retry"), attributes)]


def _write_text(local: str) -> Callable[[Any], list[Node]]:
    return lambda value: [Node(apg(local), text=str(value))]


def _write_assignment(value: Assignment) -> list[Node]:
    nodes = [] if value.assignee is None else [Node(apg("assignee"), text=value.assignee)]
    for local, items in (
        ("candidateUsers", value.candidate_users),
        ("candidateGroups", value.candidate_groups),
    ):
        if items:
            nodes.append(Node(apg(local), text=name_list_text(items)))
    return nodes


def _write_form(value: Form) -> list[Node]:
    schema = None if value.schema is None else json_text(value.schema)
    return [Node(apg("form"), [("key", value.key)], text=schema)]


def _write_expression(local: str) -> Callable[[Expression], list[Node]]:
    return lambda value: [Node(apg(local), [("language", value.language)], text=value.text)]


_NO_ASSIGNMENT = Assignment()
_WRITERS: tuple[tuple[str, Callable[[Any], list[Node]]], ...] = (
    ("component", _write_component),
    ("inputs", _write_mappings("input")),
    ("outputs", _write_mappings("output")),
    ("retry", _write_retry),
    ("sla", _write_text("sla")),
    ("assignment", _write_assignment),
    ("form", _write_form),
    ("due", _write_text("due")),
    ("priority", _write_text("priority")),
    ("correlation_key", _write_expression("correlationKey")),
    ("result_variable", _write_text("resultVariable")),
    ("decision_ref", _write_text("decisionRef")),
    ("propagate_all", lambda value: [Node(apg("propagateAll"))]),
    ("pre_script", _write_text("preScript")),
    ("post_script", _write_text("postScript")),
    ("payload", _write_expression("payload")),
    ("payload_variable", _write_text("payloadVariable")),
    ("version_tag", _write_text("versionTag")),
)


def apg_extensions(obj: object) -> list[Node]:
    """The apg elements for the fields of ``obj`` that BPMN cannot express, in a fixed order."""
    nodes: list[Node] = []
    for name, write in _WRITERS:
        value = getattr(obj, name, None)
        if value is not None and value is not False and value != () and value != _NO_ASSIGNMENT:
            nodes += write(value)
    return nodes


def multi_instance_extension(loop: MultiInstance) -> list[Node]:
    attributes = [
        ("inputCollection", None if loop.input_collection is None else loop.input_collection.text),
        (
            "inputCollectionLanguage",
            None if loop.input_collection is None else loop.input_collection.language,
        ),
        ("inputElement", loop.input_element),
        ("outputCollection", loop.output_collection),
        ("outputElement", None if loop.output_element is None else loop.output_element.text),
        ("outputElementLanguage", None if loop.output_element is None else loop.output_element.language),
    ]
    node = Node(apg("multiInstance"), attributes)
    return [node] if node.attributes else []
