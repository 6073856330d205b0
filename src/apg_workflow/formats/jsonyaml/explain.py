"""Pydantic's validation errors, told the way a person editing the file needs them:
``activities[2].retry.max_attempts: expected an integer, got "three"``, an unknown key with the key
meant, an unknown ``type`` with the type meant."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from apg_workflow.formats.jsonyaml.diagnostics import Diagnostics, Path, describe_value, suggest
from apg_workflow.formats.jsonyaml.document import ELEMENT_ENTRIES
from apg_workflow.formats.jsonyaml.fields import Strict
from apg_workflow.formats.jsonyaml.triggers import TRIGGER_TYPES

_EXPECTED = {
    "int_type": "an integer",
    "int_from_float": "an integer",
    "float_type": "a number",
    "string_type": "a string",
    "bool_type": "true or false",
    "dict_type": "an object (key: value pairs)",
    "model_type": "an object (key: value pairs)",
    "model_attributes_type": "an object (key: value pairs)",
    "list_type": "a list",
}
_BOUNDS = {"greater_than_equal": "≥ {ge}", "greater_than": "> {gt}", "less_than_equal": "≤ {le}"}
_TYPED: dict[str, tuple[str, Mapping[str, Any]]] = {
    "element_type": ("activities", ELEMENT_ENTRIES),
    "trigger_type": ("triggers", TRIGGER_TYPES),
}


def report_validation_error(exc: ValidationError, data: Any, diagnostics: Diagnostics) -> None:
    """Add one located problem per error of ``exc``, raised while validating ``data``."""
    for error in exc.errors(include_url=False):
        # Union branches appear in the location as ``~tag``; the file has no such level.
        path = tuple(part for part in error["loc"] if not (isinstance(part, str) and part.startswith("~")))
        _explain(error, path, data, diagnostics)


def _explain(error: ErrorDetails, path: Path, data: Any, diagnostics: Diagnostics) -> None:
    kind, value, context = error["type"], error.get("input"), error.get("ctx") or {}
    if kind == "invalid_key" or path[-1:] == ("[key]",):
        diagnostics.add(path[: -2 if kind != "invalid_key" else -1], _key_not_text(value))
    elif kind == "missing":
        diagnostics.add(path[:-1], f"missing required key '{path[-1]}'")
    elif kind == "extra_forbidden":
        diagnostics.add(path, _unknown_key(path, data), key=True)
    elif kind in _TYPED:
        _unknown_type(kind, path, value, diagnostics)
    elif kind in _EXPECTED:
        diagnostics.add(path, f"expected {_EXPECTED[kind]}, got {describe_value(value)}")
    elif kind == "literal_error":
        expected = context.get("expected")
        expected = "true (or leave the key out)" if expected == "True" else expected
        diagnostics.add(path, f"expected {expected}, got {describe_value(value)}")
    elif kind in _BOUNDS:
        diagnostics.add(
            path, f"expected a number {_BOUNDS[kind].format(**context)}, got {describe_value(value)}"
        )
    elif kind in ("shape", "document"):
        diagnostics.add(path, f"{error['msg']}, got {describe_value(value)}")
    else:
        diagnostics.add(path, error["msg"])


def _key_not_text(key: Any) -> str:
    hint = " (YAML reads yes, no, on and off as booleans)" if isinstance(key, bool) else ""
    return f"keys must be text, got {describe_value(key)}{hint}: put the key in quotes"


def _unknown_type(kind: str, path: Path, value: Any, diagnostics: Diagnostics) -> None:
    what, known = _TYPED[kind]
    examples = ", ".join(list(known)[:6])
    if not isinstance(value, dict):
        diagnostics.add(
            path, f"expected an object with a 'type' ({examples}, …), got {describe_value(value)}"
        )
    elif "type" not in value:
        diagnostics.add(path, f"missing required key 'type' ({examples}, …)")
    elif not isinstance(value["type"], str):
        diagnostics.add((*path, "type"), f"expected a string, got {describe_value(value['type'])}")
    else:
        written = value["type"]
        hint = suggest(written, known) or f"; the types of {what} are {', '.join(known)}"
        diagnostics.add((*path, "type"), f"unknown type '{written}'{hint}", code="unknown-type")


def _unknown_key(path: Path, data: Any) -> str:
    key = str(path[-1])
    entry = _entry_at(path[:-1], data)
    if entry is None:
        return f"unknown key '{key}'{suggest(key, _vocabulary())}"
    kind, keys = entry
    owners = [other for other, cls in ELEMENT_ENTRIES.items() if key in _keys(cls)]
    if owners:
        return f"a {kind} has no '{key}' (that is a key of {', '.join(owners[:4])})"
    return f"unknown key '{key}'{suggest(key, keys)}"


def _entry_at(path: Path, data: Any) -> tuple[str, frozenset[str]] | None:
    """The type and keys of the activity entry at ``path``, when ``path`` is one."""
    if len(path) < 2 or path[-2] != "activities" or not isinstance(path[-1], int):
        return None
    for part in path:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return None
    kind = data.get("type") if isinstance(data, dict) else None
    entry = ELEMENT_ENTRIES.get(kind) if isinstance(kind, str) else None
    return None if entry is None or kind is None else (kind, _keys(entry))


@cache
def _keys(model: type[BaseModel]) -> frozenset[str]:
    return frozenset(field.alias or name for name, field in model.model_fields.items())


@cache
def _vocabulary() -> frozenset[str]:
    """Every key of every object of the format."""
    found: set[str] = set()
    pending: list[type[BaseModel]] = [Strict]
    while pending:
        model = pending.pop()
        found |= _keys(model)
        pending.extend(model.__subclasses__())
    return frozenset(found)
