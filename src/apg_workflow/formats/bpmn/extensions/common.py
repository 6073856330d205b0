"""Helpers for dialect handlers that consume extension XML, fully or in part."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lxml import etree

from apg_workflow.formats.bpmn.reading import Draft, child_text
from apg_workflow.model import DataMapping, Expression


def spent(element: etree._Element) -> bool:
    """Nothing left to preserve: no attributes, no children, no text."""
    return not element.attrib and not len(element) and not (element.text or "").strip()


def take(element: etree._Element, name: str, offer: Callable[[str], bool]) -> None:
    """Pop attribute ``name`` when ``offer`` maps its value (what is not mapped stays preserved)."""
    value = element.get(name)
    if value is not None and offer(value):
        del element.attrib[name]


def mappings(
    element: etree._Element,
    draft: Draft,
    owner: str,
    tags: dict[str, str],
    read: Callable[[etree._Element], DataMapping | None],
) -> bool:
    """Map the parameter children of ``element`` (``tags``: child tag → ``inputs``/``outputs``) that
    ``read`` understands, removing them; returns whether ``element`` is spent."""
    for field in ("inputs", "outputs"):
        found = [(child, read(child)) for child in element if tags.get(str(child.tag)) == field]
        taken = [(child, mapping) for child, mapping in found if mapping is not None]
        if taken and draft.extend(field, [mapping for _, mapping in taken], owner):
            for child, _ in taken:
                element.remove(child)
    return spent(element)


def simple_parameter(child: etree._Element, name: str, language: str | None) -> DataMapping | None:
    """``<x name="target">expression</x>``: a parameter with plain text only."""
    target = child.get(name)
    if target is None or set(child.attrib) != {name} or len(child) or not child_text(child).strip():
        return None
    return DataMapping(target, Expression(child_text(child), language))


def offer_to(draft: Draft, name: str, convert: Callable[[str], Any] = str) -> Callable[[str], bool]:
    """An ``offer`` for :func:`take` that converts the value, refusing values that do not convert."""

    def offer(value: str) -> bool:
        try:
            converted = convert(value)
        except ValueError:
            return False
        return draft.offer(name, converted)

    return offer
