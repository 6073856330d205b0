"""The built-in names sandboxed code sees, and nothing else.

Sandboxed code runs with these as its ``__builtins__``: no ``__import__``, ``open``, ``eval``,
``getattr``, ``type``, ``vars`` or ``globals`` exist for it to call. ``range``, ``int`` and
``sum`` are wrapped to respect the limits; ``print`` accepts anything and writes nothing.
"""

from __future__ import annotations

import datetime as _dt
import decimal
from collections.abc import Iterable
from typing import Any

from apg_workflow.expressions.sandbox.clock import REAL_CLASSES, clock_names
from apg_workflow.expressions.sandbox.errors import Violation
from apg_workflow.expressions.sandbox.limits import Limits

_EXCEPTIONS = (
    ArithmeticError, AssertionError, AttributeError, Exception, IndexError, KeyError, LookupError,
    NameError, OverflowError, RuntimeError, StopIteration, TypeError, ValueError, ZeroDivisionError,
    decimal.InvalidOperation,
)  # fmt: skip

_PLAIN: dict[str, Any] = {
    **{cls.__name__: cls for cls in _EXCEPTIONS},
    **{name: getattr(decimal, name) for name in dir(decimal) if name.startswith("ROUND_")},
    "abs": abs,
    "all": all,
    "any": any,
    "bool": bool,
    "dict": dict,
    "divmod": divmod,
    "enumerate": enumerate,
    "filter": filter,
    "float": float,
    "frozenset": frozenset,
    "len": len,
    "list": list,
    "map": map,
    "max": max,
    "min": min,
    "reversed": reversed,
    "round": round,
    "set": set,
    "sorted": sorted,
    "str": str,
    "tuple": tuple,
    "zip": zip,
    "Decimal": decimal.Decimal,
    "timedelta": _dt.timedelta,
    "timezone": _dt.timezone,
}

DIRECT_CALLS = frozenset(
    {"abs", "all", "any", "bool", "divmod", "enumerate", "float", "int", "isinstance", "len", "print",
     "range", "reversed", "round", "sum", "zip", "now", "Decimal", "timedelta", "datetime", "date"}
)  # fmt: skip
"""Built-ins whose calls need no guard: they build nothing larger than their arguments and call
nothing back (``map``, ``filter``, ``sorted``, ``min`` and ``max`` do, so their calls are guarded).

Whatever such a name holds at run time (a built-in, a function the code defined, a variable) is
safe to call unguarded: functions the code defines guard their own bodies, and variables hold data.
"""


def _print(*_args: Any, **_kwargs: Any) -> None:
    """``print`` writes nothing: scripts have no output stream."""


class _Range:
    """``range()``, no longer than ``Limits.max_iterations``."""

    __slots__ = ("_limit",)

    def __init__(self, limits: Limits) -> None:
        self._limit = limits.max_iterations

    def __call__(self, *args: int) -> range:
        values = range(*args)
        try:
            length = len(values)
        except OverflowError:
            length = self._limit + 1
        if length > self._limit:
            raise Violation(
                f"range() of {length:,} numbers exceeds the iteration limit of {self._limit:,}",
                limit="max_iterations",
            )
        return values


class _Int:
    """``int()``, refusing to build integers longer than ``Limits.max_int_digits``."""

    __slots__ = ("_digits",)

    def __init__(self, limits: Limits) -> None:
        self._digits = limits.max_int_digits

    def __call__(self, value: Any = 0, *args: Any) -> int:
        if (isinstance(value, str) and len(value) > self._digits + 64) or (
            isinstance(value, decimal.Decimal) and value.is_finite() and value.adjusted() > self._digits
        ):
            raise Violation(
                f"an integer of more than {self._digits:,} digits is not allowed", limit="max_int_digits"
            )
        return int(value, *args)


def _sum(values: Iterable[Any], /, start: Any = 0) -> Any:
    if not isinstance(start, int | float | decimal.Decimal):
        raise TypeError("sum() adds numbers; join strings with ''.join() and lists with a comprehension")
    return sum(values, start)


# What `isinstance(value, X)` checks for each stand-in X.
_CLASS_OF: dict[type, type] = {**REAL_CLASSES, _Range: range, _Int: int}


def _isinstance(value: Any, classes: Any) -> bool:
    if isinstance(classes, tuple):
        return any(_isinstance(value, cls) for cls in classes)
    return isinstance(value, _CLASS_OF.get(type(classes), classes))


def make_builtins(limits: Limits) -> dict[str, Any]:
    """The built-ins for code run under ``limits`` (without the clock: see :func:`with_clock`)."""
    return {
        **_PLAIN,
        "int": _Int(limits),
        "range": _Range(limits),
        "sum": _sum,
        "isinstance": _isinstance,
        "print": _print,
    }


def with_clock(builtins: dict[str, Any], now: _dt.datetime) -> dict[str, Any]:
    """``builtins`` plus ``now``, ``datetime`` and ``date`` reading ``now``."""
    return {**builtins, **clock_names(now)}
