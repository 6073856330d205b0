"""The Java methods JUEL expressions call on strings, lists and maps, emulated for the sandbox.

``${items.size() > 0}``, ``${name.startsWith('A')}``: the translator (:mod:`apg_workflow.expressions.juel`)
turns a method call into the guard ``jcall``, which runs the emulation named here, or else the
Python method of the same name when the sandbox allows it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def _index_of(target: Any, item: Any) -> int:
    if isinstance(target, str):
        return target.find(item)
    return target.index(item) if item in target else -1


JAVA_METHODS: dict[str, Callable[..., Any]] = {
    "size": len,
    "length": len,
    "isEmpty": lambda target: len(target) == 0,
    "contains": lambda target, item: item in target,
    "containsKey": lambda target, key: key in target,
    "get": lambda target, key: target.get(key) if isinstance(target, dict) else target[key],
    "equals": lambda target, other: target == other,
    "equalsIgnoreCase": lambda target, other: target.casefold() == other.casefold(),
    "startsWith": lambda target, prefix: target.startswith(prefix),
    "endsWith": lambda target, suffix: target.endswith(suffix),
    "toUpperCase": lambda target: target.upper(),
    "toLowerCase": lambda target: target.lower(),
    "trim": lambda target: target.strip(),
    "indexOf": _index_of,
    "substring": lambda target, start, end=None: target[start:end],
    "toString": str,
}
"""Java methods that JUEL expressions call on strings, lists and maps, as Python functions."""
