"""Value conversions the dialects share: JSON objects, name lists, numbers from extension XML."""

from __future__ import annotations

import json
from typing import Any

from lxml import etree

from apg_workflow.formats.bpmn.reading import ReadContext
from apg_workflow.model import FrozenDict, freeze, thaw


def json_object(text: str, element: etree._Element, context: ReadContext, what: str) -> FrozenDict:
    """A JSON object written as element text (component config, form schema)."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        message = f"{what} is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        raise context.error(message, element) from None
    if not isinstance(value, dict):
        raise context.error(f"{what} must be a JSON object, not {type(value).__name__}", element)
    result: FrozenDict = freeze(value)
    return result


def json_text(value: Any) -> str:
    return json.dumps(thaw(value), ensure_ascii=False)


def name_list(text: str) -> tuple[str, ...]:
    """``"alice, bob"`` → ``("alice", "bob")``; a JSON array for names that contain commas.

    An expression (``${approvers}``, ``=approvers``) is one item: it yields the list at run time.
    """
    cleaned = text.strip()
    if cleaned.startswith("["):
        items = json.loads(cleaned)
        if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
            raise ValueError("expected a JSON array of strings")
        return tuple(items)
    if cleaned.startswith(("${", "#{", "=")):
        return (cleaned,) if cleaned else ()
    return tuple(part.strip() for part in cleaned.split(",") if part.strip())


def name_list_text(items: tuple[str, ...]) -> str:
    """The inverse of :func:`name_list`: comma-separated when that reads back the same."""
    simple = ", ".join(items)
    if name_list(simple) == items:
        return simple
    return json.dumps(list(items), ensure_ascii=False)


def whole_number(text: str) -> int | None:
    """An integer, or ``None`` when the text is something else (an expression, …)."""
    try:
        return int(text.strip())
    except ValueError:
        return None
