"""Variables in and out of the sandbox: copies that protect the caller's data, and size checks."""

from __future__ import annotations

import copy
import datetime as _dt
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any

_IMMUTABLE = (str, int, float, bool, type(None), Decimal, _dt.date, _dt.time, _dt.timedelta, _dt.tzinfo)
_PLAIN = frozenset({str, int, float, bool, type(None), dict, list, tuple, Decimal})
_CONTAINERS = frozenset({dict, list, tuple, set, frozenset})
_LAZY = (Iterator, range, type({}.keys()), type({}.values()), type({}.items()))


def copy_value(value: Any) -> Any:
    """A copy of JSON-like ``value`` that sandboxed code may change without touching the original."""
    kind = type(value)
    if kind is dict:
        return {key: copy_value(item) for key, item in value.items()}
    if kind is list:
        return [copy_value(item) for item in value]
    if isinstance(value, _IMMUTABLE):
        return value
    if kind is tuple:
        return tuple(copy_value(item) for item in value)
    if kind is set:
        return set(value)  # set items are hashable, hence immutable here
    return copy.deepcopy(value)


def unstorable(value: Any) -> str | None:
    """Why ``value`` cannot be a variable's value (an iterator, a lazy view), or ``None``."""
    if type(value) in _PLAIN:
        return None
    if isinstance(value, _LAZY):
        name = type(value).__name__
        return f"a {name} object, which is computed lazily; wrap it in list(...)"
    return None


def approximate_size(value: Any, limit: int) -> int:
    """The approximate size of ``value`` as JSON, counted until it passes ``limit``.

    Raises ``ValueError`` (saying why) for a function or a lazy iterator inside a collection.
    """
    if type(value) is str:
        return len(value) + 2
    if type(value) not in _CONTAINERS:
        return 8
    total = 0
    pending = [value]
    seen: set[int] = set()
    while pending and total <= limit:
        item = pending.pop()
        kind = type(item)
        if kind is str:
            total += len(item) + 2
        elif kind in _CONTAINERS:
            if id(item) in seen:
                continue
            seen.add(id(item))
            total += 2 + len(item)
            if isinstance(item, Mapping):
                pending.extend(item.keys())
                pending.extend(item.values())
            else:
                pending.extend(item)
        elif kind not in _PLAIN and (problem := unstorable(item) or _function(item)):
            raise ValueError(problem)
        else:
            total += 8
    return total


def _function(value: Any) -> str | None:
    return "a function" if callable(value) else None
