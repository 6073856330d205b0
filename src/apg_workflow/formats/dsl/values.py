"""Typed readings of property values (with located errors when the type is wrong) and the values
the writer builds from model data. Each reading has its inverse here, so both stay in step."""

from __future__ import annotations

from typing import Any

from apg_workflow import model as m
from apg_workflow.formats.dsl.syntax import (
    Entry,
    ListValue,
    MappingValue,
    Pos,
    Scalar,
    SourceError,
    Tagged,
    Value,
)


def _shown(value: Value) -> str:
    if isinstance(value, Scalar):
        if isinstance(value.value, bool):
            return "true" if value.value else "false"
        if value.value is None:
            return "null"
        return repr(value.value) if not value.bare else str(value.value)
    if isinstance(value, Tagged):
        return f'{value.tag} "{value.text}"'
    return "a list" if isinstance(value, ListValue) else "a block of key: value entries"


def wrong(value: Value, what: str, expected: str) -> SourceError:
    return SourceError(f"{what} must be {expected}, not {_shown(value)}", value.pos)


# ---------------------------------------------------------------------------------------------
# Reading


def text(value: Value, what: str) -> str:
    """A quoted text or a bare word."""
    if isinstance(value, Scalar) and isinstance(value.value, str):
        return value.value
    raise wrong(value, what, 'a text ("..." or a word)')


def integer(value: Value, what: str) -> int:
    if isinstance(value, Scalar) and isinstance(value.value, int) and not isinstance(value.value, bool):
        return value.value
    raise wrong(value, what, "a whole number")


def number(value: Value, what: str) -> float:
    if (
        isinstance(value, Scalar)
        and isinstance(value.value, int | float)
        and not isinstance(value.value, bool)
    ):
        return float(value.value)
    raise wrong(value, what, "a number")


def boolean(value: Value, what: str) -> bool:
    if isinstance(value, Scalar) and isinstance(value.value, bool):
        return value.value
    raise wrong(value, what, "true or false")


def expression(value: Value, what: str) -> m.Expression:
    """``"x > 1"`` (default language), ``feel "= x > 1"`` (tagged with its language), or a word."""
    if isinstance(value, Tagged):
        return m.Expression(value.text, value.tag)
    if isinstance(value, Scalar) and isinstance(value.value, str):
        return m.Expression(value.value)
    raise wrong(value, what, 'an expression ("..." or language "...")')


def texts(value: Value, what: str) -> tuple[str, ...]:
    """``[a, b]`` or a single text."""
    if isinstance(value, ListValue):
        return tuple(text(item, f"each entry of {what}") for item in value.items)
    return (text(value, what),)


def mapping(value: Value, what: str) -> tuple[Entry, ...]:
    if isinstance(value, MappingValue):
        return value.entries
    raise wrong(value, what, "a block of key: value entries (or {key: value, ...})")


def json_data(value: Value, what: str) -> Any:
    """Any JSON-like data: mappings, lists, texts, numbers, true / false / null."""
    if isinstance(value, MappingValue):
        data: dict[str, Any] = {}
        for entry in value.entries:
            if entry.key in data:
                raise SourceError(f"{what} has the key '{entry.key}' twice", entry.pos)
            data[entry.key] = json_data(entry.value, f"{what}.{entry.key}")
        return data
    if isinstance(value, ListValue):
        return [json_data(item, what) for item in value.items]
    if isinstance(value, Scalar):
        return value.value
    raise wrong(value, what, "data (text, number, true/false, null, a list or a mapping)")


def json_object(value: Value, what: str) -> m.FrozenDict:
    if not isinstance(value, MappingValue):
        raise wrong(value, what, "a block of key: value entries (or {key: value, ...})")
    return m.freeze(json_data(value, what))


def duration(value: Value, what: str, *, strict: bool = True) -> str:
    """ISO 8601 as written (``PT90M``), or a friendly duration made ISO (``"2h"`` → ``PT2H``).

    Other text (a date-time, an expression) is kept as written unless ``strict``.
    """
    raw = text(value, what)
    if m.is_iso_duration(raw):
        return raw
    try:
        return m.normalize_duration(raw)
    except m.DurationError:
        if strict:
            raise SourceError(
                f'{what} must be a duration such as "2h", "1d 30m" or "PT2H", not {raw!r}', value.pos
            ) from None
        return raw


def timer(kind: m.TimerKind, expression: m.Expression, pos: Pos | None) -> m.TimerDefinition:
    """A timer; a duration in the default language is made ISO 8601 (``"2h"`` → ``PT2H``)."""
    if kind is m.TimerKind.DURATION and expression.language is None:
        expression = m.Expression(duration(Scalar(expression.text, pos), "a timer duration", strict=False))
    return m.TimerDefinition(timer=kind, expression=expression)


def choice(value: Value, what: str, options: tuple[str, ...]) -> str:
    chosen = text(value, what)
    if chosen not in options:
        raise SourceError(f"{what} must be one of {', '.join(options)}, not {chosen!r}", value.pos)
    return chosen


def located(value: Value, pos: Pos | None) -> Value:
    """``value`` itself; errors about it point at ``pos`` when it has no position of its own."""
    return value if value.pos is not None or pos is None else _with_pos(value, pos)


def _with_pos(value: Value, pos: Pos) -> Value:
    if isinstance(value, Scalar):
        return Scalar(value.value, pos, value.bare)
    if isinstance(value, Tagged):
        return Tagged(value.tag, value.text, pos)
    if isinstance(value, ListValue):
        return ListValue(value.items, pos)
    return MappingValue(value.entries, pos)


# ---------------------------------------------------------------------------------------------
# Writing


def of_text(value: str) -> Scalar:
    return Scalar(value)


def of_word(value: str) -> Scalar:
    """An id-like text, written bare when it is a plain name."""
    return Scalar(value, bare=True)


def of_expression(value: m.Expression) -> Value:
    return Tagged(value.language, value.text) if value.language is not None else Scalar(value.text)


def of_json(data: Any) -> Value:
    if isinstance(data, dict):
        return MappingValue(tuple(Entry(str(k), of_json(v)) for k, v in data.items()))
    if isinstance(data, list | tuple):
        return ListValue(tuple(of_json(item) for item in data))
    return Scalar(data)


def of_duration(iso: str) -> Scalar:
    """The friendly form (``2h``) when it reads back as exactly ``iso``, else ``iso`` itself."""
    friendly = m.friendly_duration(iso)
    if friendly != iso and m.normalize_duration(friendly) == iso and not m.is_iso_duration(friendly):
        return Scalar(friendly)
    return Scalar(iso)
