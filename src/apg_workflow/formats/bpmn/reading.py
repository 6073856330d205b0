"""The generic element reader: one pass over an element's attributes and children, driven by tables.

Every model object read from XML goes through :func:`read_element` with an :class:`ElementSpec`
(which attributes and children map to which fields) and a :class:`Draft` collecting the field
values. What nothing maps is preserved verbatim. The order of the passes is what makes a file read,
written and read again give the same model: every field has one form the writer uses (a BPMN
attribute or child, or an ``apg:`` extension), and that form is always read before the foreign
forms of the same field (Camunda, Zeebe, SpiffWorkflow). A foreign form that finds its field taken
stays preserved, so it loses to the written form again on the next read.

1. BPMN attributes; 2. BPMN children; 3. ``apg:`` extension elements; 4. foreign attributes;
5. BPMN children that carry fields the writer writes as ``apg:`` (``loopDataInputRef``, …);
6. foreign extension elements.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from functools import cache
from types import MappingProxyType
from typing import Any

from lxml import etree

from apg_workflow.formats.bpmn import registry
from apg_workflow.formats.bpmn.canonical import canonical
from apg_workflow.formats.bpmn.namespaces import APG, MODEL, bpmn, local_name, namespace_of
from apg_workflow.formats.bpmn.schema import slot
from apg_workflow.formats.errors import FormatError
from apg_workflow.model import (
    NOTHING_PRESERVED,
    Assignment,
    ComponentRef,
    Form,
    Preserved,
    RetryPolicy,
    freeze,
)

DOCUMENTATION = bpmn("documentation")
EXTENSION_ELEMENTS = bpmn("extensionElements")
_DERIVED = frozenset({bpmn("incoming"), bpmn("outgoing")})  # written from the sequence flows
_COMPOSITES: dict[str, type] = {
    "assignment": Assignment,
    "form": Form,
    "retry": RetryPolicy,
    "component": ComponentRef,
}
_NONE: Mapping[str, Any] = MappingProxyType({})


class ReadContext:
    """What every reader of one document shares: the source name and the target namespace."""

    __slots__ = ("source", "target_namespace")

    def __init__(self, source: str | None) -> None:
        self.source = source
        self.target_namespace: str | None = None

    def error(self, message: str, element: etree._Element, *, element_id: str | None = None) -> FormatError:
        return FormatError.at(
            message,
            format="bpmn",
            line=element.sourceline,
            element_id=element_id or element.get("id"),
            code="bpmn",
            source=self.source,
        )


AttributeParser = Callable[[str, etree._Element, ReadContext], Any]
ChildHandler = Callable[[etree._Element, "Draft", ReadContext], bool]


@dataclass(frozen=True, slots=True)
class ElementSpec:
    """How one kind of XML element maps onto a model class.

    ``attributes``: BPMN attribute name → (field, parser). ``children``: Clark tag → handler that
    sets fields and returns ``False`` when it does not take the child (which is then preserved).
    ``late``: the same for children whose fields the writer writes as ``apg:`` extensions.
    ``fallback`` handles children no table names (flow containers turn unknown BPMN elements into
    :class:`~apg_workflow.model.UnsupportedNode`). ``defaults`` fill required fields the XML lacks;
    ``required`` names the attributes without which the element makes no sense.
    """

    cls: type
    required: tuple[str, ...] = ()
    attributes: Mapping[str, tuple[str, AttributeParser]] = field(default_factory=dict)
    children: Mapping[str, ChildHandler] = field(default_factory=dict)
    late: Mapping[str, ChildHandler] = field(default_factory=dict)
    fallback: ChildHandler | None = None
    defaults: Mapping[str, Any] = field(default_factory=dict)


@cache
def _field_names(cls: type) -> frozenset[str]:
    return frozenset(f.name for f in fields(cls))


class Draft:
    """The field values of one model object while its element is read, and what is preserved."""

    __slots__ = (
        "accepts",
        "attributes",
        "children",
        "cls",
        "consumed",
        "extensions",
        "kind",
        "owners",
        "parts",
        "values",
    )

    def __init__(self, cls: type, element: etree._Element) -> None:
        self.cls = cls
        self.kind = local_name(element.tag)
        self.accepts = _field_names(cls)
        self.values: dict[str, Any] = {}
        self.owners: dict[str, str] = {}
        self.parts: dict[str, dict[str, Any]] = {}
        self.attributes: dict[str, str] = {}
        self.extensions: list[str] = []
        self.children: list[tuple[int, str]] = []
        self.consumed: set[int] = set()

    def set(self, name: str, value: Any) -> None:
        """Set a field from its BPMN form (always wins)."""
        self.values[name] = value

    def free(self, name: str) -> bool:
        """Whether the model class has field ``name`` and nothing set it yet."""
        return name in self.accepts and name not in self.values

    def offer(self, name: str, value: Any) -> bool:
        """Set a field unless it is taken; ``False`` means the caller keeps its XML preserved."""
        if not self.free(name):
            return False
        self.values[name] = value
        return True

    def extend(self, name: str, items: list[Any], owner: str) -> bool:
        """Add items to a list field (inputs, outputs) that only ``owner`` has filled so far."""
        if name not in self.accepts or self.owners.get(name, owner) != owner:
            return False
        current = self.values.setdefault(name, [])
        if not isinstance(current, list):
            return False
        current.extend(items)
        self.owners[name] = owner
        return True

    def offer_parts(self, composite: str, **parts: Any) -> bool:
        """Set parts of a composite field (``assignment.assignee``, ``retry.max_attempts``) all or none."""
        if composite not in self.accepts or composite in self.values:
            return False
        current = self.parts.setdefault(composite, {})
        if any(key in current for key in parts):
            return False
        current.update(parts)
        return True

    def keep_attribute(self, name: str, value: str) -> None:
        self.attributes[name] = value

    def keep_extension(self, element: etree._Element) -> None:
        self.extensions.append(canonical(element))

    def keep_child(self, element: etree._Element) -> None:
        self.children.append((slot(self.kind, element.tag), canonical(element)))

    def preserved(self) -> Preserved:
        if not (self.attributes or self.extensions or self.children):
            return NOTHING_PRESERVED
        self.children.sort(key=lambda item: item[0])
        return Preserved(
            attributes=freeze(self.attributes),
            extensions=tuple(self.extensions),
            children=tuple(xml for _, xml in self.children),
        )

    def build(self, defaults: Mapping[str, Any] = _NONE, **extra: Any) -> Any:
        values = {**defaults, **self.values, **extra}
        for name, value in values.items():
            if isinstance(value, list):
                values[name] = tuple(value)
        for composite, parts in self.parts.items():
            values[composite] = _COMPOSITES[composite](**parts)
        if "preserved" in self.accepts:
            values["preserved"] = self.preserved()
        return self.cls(**values)


def _is_plain_documentation(element: etree._Element) -> bool:
    attributes = element.attrib
    return not len(element) and all(
        key == "textFormat" and value == "text/plain" for key, value in attributes.items()
    )


def _apply_attributes(
    element: etree._Element, draft: Draft, spec: ElementSpec, context: ReadContext
) -> list[tuple[str, str]]:
    foreign: list[tuple[str, str]] = []
    for name, value in element.attrib.items():
        rule = spec.attributes.get(name)
        if rule is None:
            foreign.append((name, value))
            continue
        field_name, parse = rule
        try:
            draft.set(field_name, parse(value, element, context))
        except ValueError as exc:
            raise context.error(f'attribute {name}="{value}" of <{draft.kind}>: {exc}', element) from None
    return foreign


def read_into(draft: Draft, element: etree._Element, spec: ElementSpec, context: ReadContext) -> Draft:
    """Fill ``draft`` from ``element`` in the six passes described in the module docstring."""
    foreign_attributes = _apply_attributes(element, draft, spec, context)
    apg_extensions: list[etree._Element] = []
    foreign_extensions: list[etree._Element] = []
    late: list[tuple[ChildHandler, etree._Element]] = []
    for child in element:
        tag = child.tag
        if tag == DOCUMENTATION and draft.free("documentation") and _is_plain_documentation(child):
            draft.set("documentation", child.text or "")
        elif tag == EXTENSION_ELEMENTS:
            for extension in child:
                (apg_extensions if namespace_of(extension.tag) == APG else foreign_extensions).append(
                    extension
                )
        elif tag in _DERIVED:
            continue
        elif (handler := spec.children.get(tag)) is not None:
            if not handler(child, draft, context):
                draft.keep_child(child)
        elif (late_handler := spec.late.get(tag)) is not None:
            late.append((late_handler, child))
        elif spec.fallback is None or not spec.fallback(child, draft, context):
            draft.keep_child(child)
    for extension in apg_extensions:
        apg_handler = registry.APG_HANDLERS.get(local_name(extension.tag))
        if apg_handler is None or not apg_handler(extension, draft, context):
            draft.keep_extension(extension)
    for name, value in foreign_attributes:
        attribute_handler = registry.ATTRIBUTE_HANDLERS.get(name)
        if attribute_handler is None or not attribute_handler(value, draft, context, element):
            draft.keep_attribute(name, value)
    for late_handler, child in late:
        if not late_handler(child, draft, context):
            draft.keep_child(child)
    # A handler may consume a sibling (Zeebe's taskHeaders with taskDefinition), before or after it.
    left: list[etree._Element] = []
    for extension in foreign_extensions:
        if id(extension) in draft.consumed:
            continue
        extension_handler = registry.EXTENSION_HANDLERS.get(extension.tag)
        if extension_handler is None or not extension_handler(extension, draft, context):
            left.append(extension)
    for extension in left:
        if id(extension) not in draft.consumed:
            draft.keep_extension(extension)
    return draft


def read_element(element: etree._Element, spec: ElementSpec, context: ReadContext, **extra: Any) -> Any:
    """Read ``element`` into a new ``spec.cls`` object."""
    for name in spec.required:
        required(element, name, context)
    draft = read_into(Draft(spec.cls, element), element, spec, context)
    return draft.build(spec.defaults, **extra)


def collect(name: str, reader: Callable[[etree._Element, ReadContext], Any]) -> ChildHandler:
    """A child handler adding what ``reader`` reads to the list field ``name``."""

    def read(child: etree._Element, draft: Draft, context: ReadContext) -> bool:
        return draft.extend(name, [reader(child, context)], "bpmn")

    return read


def reader_for(spec: ElementSpec) -> Callable[[etree._Element, ReadContext], Any]:
    """The reader of elements described by ``spec`` alone."""
    return lambda element, context: read_element(element, spec, context)


# Attribute parsers: (value, element, context) → field value; ValueError becomes a located FormatError.


def text(value: str, element: etree._Element, context: ReadContext) -> str:
    return value


def boolean(value: str, element: etree._Element, context: ReadContext) -> bool:
    cleaned = value.strip()
    if cleaned in ("true", "1"):
        return True
    if cleaned in ("false", "0"):
        return False
    raise ValueError("expected true or false")


def integer(value: str, element: etree._Element, context: ReadContext) -> int:
    try:
        return int(value.strip())
    except ValueError:
        raise ValueError("expected a whole number") from None


def number(value: str, element: etree._Element, context: ReadContext) -> float:
    try:
        return float(value.strip())
    except ValueError:
        raise ValueError("expected a number") from None


def reference(value: str, element: etree._Element, context: ReadContext) -> str:
    """An id reference. BPMN types many as QNames; a prefix naming this document (its target
    namespace, or the BPMN namespace some tools use by mistake) is dropped."""
    prefix, colon, local = value.strip().partition(":")
    if colon and element.nsmap.get(prefix) in (MODEL, context.target_namespace):
        return local
    return value.strip()


def required(element: etree._Element, name: str, context: ReadContext) -> str:
    value = element.get(name)
    if value is None or not value.strip():
        raise context.error(f"<{local_name(element.tag)}> needs a {name} attribute", element)
    return value


def child_text(element: etree._Element) -> str:
    """The text of a simple-content element (``None`` read as empty)."""
    return element.text or ""


ID: Mapping[str, tuple[str, AttributeParser]] = MappingProxyType({"id": ("id", text)})
NAMED = MappingProxyType({"id": ("id", text), "name": ("name", text)})
