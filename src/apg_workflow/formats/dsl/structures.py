"""Structured property values: ``retry:``, ``loop:``, ``multi_instance:`` and ``form:``.

Each is written either in a short form (``retry: 3``, ``loop: "more"``, ``form: onboarding``) or as a
block of ``key: value`` entries; the writer picks the short form whenever it says everything.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from apg_workflow import model as m
from apg_workflow.formats.dsl import values as v
from apg_workflow.formats.dsl.syntax import Entry, MappingValue, Scalar, SourceError, Value


@dataclass(frozen=True, slots=True)
class _Part:
    """One key of a structured value (``retry:``, ``loop:``, ``multi_instance:``, ``form:``)."""

    key: str
    name: str
    read: Callable[[Value, str], Any]
    write: Callable[[Any], Value]


def _read(cls: type, parts: tuple[_Part, ...], value: Value, what: str) -> Any:
    by_key = {part.key: part for part in parts}
    kwargs: dict[str, Any] = {}
    for entry in v.mapping(value, what):
        part = by_key.get(entry.key)
        if part is None:
            raise unknown_key(entry, f"{what}:", list(by_key))
        if part.name in kwargs:
            raise SourceError(f"{what}: has '{entry.key}' twice", entry.pos)
        kwargs[part.name] = part.read(entry.value, f"{what}.{entry.key}")
    return cls(**kwargs)


def _write(obj: Any, parts: tuple[_Part, ...]) -> MappingValue:
    default = type(obj)()
    return MappingValue(
        tuple(
            Entry(part.key, part.write(getattr(obj, part.name)))
            for part in parts
            if getattr(obj, part.name) != getattr(default, part.name)
        )
    )


def unknown_key(entry: Entry, where: str, known: Iterable[str]) -> SourceError:
    options = sorted(known)
    close = difflib.get_close_matches(entry.key, options, n=1)
    hint = f"; did you mean '{close[0]}'?" if close else f" (known: {', '.join(options)})"
    return SourceError(f"unknown property '{entry.key}' for {where}{hint}", entry.pos)


# ---------------------------------------------------------------------------------------------
# Structured values

_RETRY = (
    _Part("max_attempts", "max_attempts", v.integer, Scalar),
    _Part("initial_backoff", "initial_backoff", v.duration, v.of_duration),
    _Part("multiplier", "multiplier", v.number, Scalar),
    _Part("max_backoff", "max_backoff", v.duration, v.of_duration),
    _Part("jitter", "jitter", v.boolean, Scalar),
)
_LOOP = (
    _Part("condition", "condition", v.expression, v.of_expression),
    _Part("test_before", "test_before", v.boolean, Scalar),
    _Part("maximum", "maximum", v.integer, Scalar),
)
_MULTI_INSTANCE = (
    _Part("sequential", "sequential", v.boolean, Scalar),
    _Part("collection", "input_collection", v.expression, v.of_expression),
    _Part("element", "input_element", v.text, v.of_word),
    _Part("cardinality", "cardinality", v.expression, v.of_expression),
    _Part("output_collection", "output_collection", v.text, v.of_word),
    _Part("output_element", "output_element", v.expression, v.of_expression),
    _Part("completion_condition", "completion_condition", v.expression, v.of_expression),
)
_FORM = (
    _Part("key", "key", v.text, v.of_text),
    _Part("schema", "schema", v.json_object, v.of_json),
)


def read_retry(value: Value, what: str) -> m.RetryPolicy:
    """``retry: 3`` (attempts, other settings default) or a block of the policy's settings."""
    if isinstance(value, MappingValue):
        return _read(m.RetryPolicy, _RETRY, value, what)
    if isinstance(value, Scalar) and isinstance(value.value, int) and not isinstance(value.value, bool):
        return m.RetryPolicy(max_attempts=value.value)
    settings = ", ".join(part.key for part in _RETRY)
    raise v.wrong(value, what, f"a number of attempts, or a block with {settings}")


def write_retry(policy: m.RetryPolicy) -> Value:
    if policy == m.RetryPolicy(max_attempts=policy.max_attempts):
        return Scalar(policy.max_attempts)
    return _write(policy, _RETRY)


def read_loop(value: Value, what: str) -> m.StandardLoop:
    """``loop: "condition"`` or a block with condition, test_before and maximum."""
    if isinstance(value, MappingValue):
        return _read(m.StandardLoop, _LOOP, value, what)
    return m.StandardLoop(condition=v.expression(value, what))


def write_loop(loop: m.LoopCharacteristics) -> Value | None:
    if not isinstance(loop, m.StandardLoop):
        return None
    if loop.condition is not None and loop == m.StandardLoop(condition=loop.condition):
        return v.of_expression(loop.condition)
    return _write(loop, _LOOP)


def read_multi_instance(value: Value, what: str) -> m.MultiInstance:
    return _read(m.MultiInstance, _MULTI_INSTANCE, value, what)


def write_multi_instance(loop: m.LoopCharacteristics) -> Value | None:
    return _write(loop, _MULTI_INSTANCE) if isinstance(loop, m.MultiInstance) else None


def read_form(value: Value, what: str) -> m.Form:
    """``form: key`` or a block with key and schema (a JSON Schema)."""
    if isinstance(value, MappingValue):
        return _read(m.Form, _FORM, value, what)
    return m.Form(key=v.text(value, what))


def write_form(form: m.Form) -> Value:
    if form.key is not None and form.schema is None:
        return v.of_word(form.key)
    return _write(form, _FORM)
