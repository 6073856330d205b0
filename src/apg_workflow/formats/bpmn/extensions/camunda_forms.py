"""Camunda 7 generated task forms (``camunda:formData`` / ``camunda:formField``) → JSON Schema.

A form field maps when everything on it is understood (id, label, type, defaultValue, enum values,
the constraints below); other fields stay in the preserved ``camunda:formData``.
"""

from __future__ import annotations

from typing import Any

from lxml import etree

from apg_workflow.formats.bpmn.extensions.values import whole_number

_TYPES: dict[str, dict[str, Any]] = {
    "string": {"type": "string"},
    "long": {"type": "integer"},
    "boolean": {"type": "boolean"},
    "date": {"type": "string", "format": "date-time"},
    "enum": {"type": "string"},
}
_FIELD_ATTRIBUTES = {"id", "label", "type", "defaultValue"}
_NUMERIC = {"minlength": "minLength", "maxlength": "maxLength", "min": "minimum", "max": "maximum"}


def _default(value: str, kind: str) -> Any:
    if kind == "long":
        number = whole_number(value)
        return value if number is None else number
    if kind == "boolean" and value in ("true", "false"):
        return value == "true"
    return value


def _constraints(validation: etree._Element, schema: dict[str, Any], namespace: str) -> bool:
    """Apply ``camunda:constraint`` children; ``False`` when one is not understood."""
    for constraint in validation:
        name, config = constraint.get("name"), constraint.get("config")
        if constraint.tag != f"{{{namespace}}}constraint" or len(constraint):
            return False
        if name == "required":
            schema["x-required"] = True
        elif name == "readonly":
            schema["readOnly"] = True
        elif name in _NUMERIC and config is not None and whole_number(config) is not None:
            schema[_NUMERIC[name]] = whole_number(config)
        else:
            return False
    return True


def _field_schema(field: etree._Element, namespace: str) -> dict[str, Any] | None:
    kind = field.get("type", "string")
    if not set(field.attrib) <= _FIELD_ATTRIBUTES or field.get("id") is None or kind not in _TYPES:
        return None
    schema: dict[str, Any] = dict(_TYPES[kind])
    if field.get("label") is not None:
        schema["title"] = field.get("label")
    if field.get("defaultValue") is not None:
        schema["default"] = _default(field.get("defaultValue", ""), kind)
    values: list[str] = []
    for child in field:
        if child.tag == f"{{{namespace}}}validation" and _constraints(child, schema, namespace):
            continue
        if kind == "enum" and child.tag == f"{{{namespace}}}value" and child.get("id") is not None:
            values.append(child.get("id", ""))
            continue
        return None
    if kind == "enum":
        schema["enum"] = values
    return schema


def form_schema(
    form_data: etree._Element, namespace: str
) -> tuple[dict[str, Any] | None, list[etree._Element]]:
    """The JSON Schema of the understood fields of ``form_data``, and those field elements."""
    properties: dict[str, Any] = {}
    required: list[str] = []
    mapped: list[etree._Element] = []
    for field in form_data:
        if field.tag != f"{{{namespace}}}formField":
            continue
        schema = _field_schema(field, namespace)
        if schema is None:
            continue
        if schema.pop("x-required", False):
            required.append(field.get("id", ""))
        properties[field.get("id", "")] = schema
        mapped.append(field)
    if not properties:
        return None, []
    result: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        result["required"] = required
    return result, mapped
