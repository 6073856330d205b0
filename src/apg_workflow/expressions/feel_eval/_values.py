"""FEEL's value semantics on Python values: equality, ordering and arithmetic, null-safe.

FEEL never raises on bad data: comparing a number with a string, adding a boolean or dividing by
zero gives ``null`` (``None``). Numbers are ``int`` and ``float`` (as JSON brings them); dates,
date-times, times and durations are :mod:`datetime` values, and an ISO 8601 string compared with
one of them is read as the same kind, because process variables that went through JSON hold
dates as strings.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

MAX_INT_BITS = 14_284
"""The largest integer result, in bits: 4300 decimal digits, Python's limit for writing one as text."""
_SCALARS = frozenset({str, int, float, bool})
# The kinds that compare without conversion, by exact type.
_FAST_ORDER: dict[type, object] = {int: Decimal, float: Decimal, str: str}


def is_number(value: Any) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


# The FEEL kind of the common exact types, looked up before the isinstance checks of _kind.
_EXACT_KINDS: dict[type, type | None] = {
    type(None): None,
    bool: bool,
    int: Decimal,
    float: Decimal,
    Decimal: Decimal,
    str: str,
    datetime: datetime,
    date: date,
    time: time,
    timedelta: timedelta,
    dict: dict,
    list: list,
    tuple: list,
}


def _kind(value: Any) -> type | None:
    """The FEEL type a value belongs to, for deciding whether two values are comparable."""
    exact = type(value)
    if exact in _EXACT_KINDS:
        return _EXACT_KINDS[exact]
    if value is None:
        return None
    if isinstance(value, bool):
        return bool
    if is_number(value):
        return Decimal
    if isinstance(value, datetime):
        return datetime
    for kind in (str, date, time, timedelta):
        if isinstance(value, kind):
            return kind
    if isinstance(value, Mapping):
        return dict
    if isinstance(value, Sequence):
        return list
    return type(value)


def _parse_temporal(text: str, kind: type) -> Any:
    try:
        if kind is datetime:
            return datetime.fromisoformat(text)
        if kind is date:
            return date.fromisoformat(text)
        if kind is time:
            return time.fromisoformat(text)
    except ValueError:
        return None
    return None


def _aligned(left: Any, right: Any) -> tuple[Any, Any, type | None]:
    """Both values of the same FEEL kind (an ISO string read as the other side's temporal kind),
    with that kind, or kind ``None`` when they cannot be compared."""
    left_kind, right_kind = _kind(left), _kind(right)
    if left_kind is str and right_kind in (datetime, date, time):
        left, left_kind = _parse_temporal(left, right_kind), right_kind
    elif right_kind is str and left_kind in (datetime, date, time):
        right, right_kind = _parse_temporal(right, left_kind), left_kind
    if left is None or right is None or left_kind != right_kind:
        return left, right, None
    if left_kind is datetime and (left.tzinfo is None) != (right.tzinfo is None):
        return left, right, None
    return left, right, left_kind


def feel_equal(left: Any, right: Any) -> bool:
    """``left = right``: ``null = null`` is true; values of different kinds are not equal."""
    if left is None or right is None:
        return left is None and right is None
    if type(left) is type(right) and type(left) in _SCALARS:
        return bool(left == right)
    left, right, kind = _aligned(left, right)
    if kind is None:
        return False
    if kind is list:
        return len(left) == len(right) and all(
            feel_equal(a, b) is True for a, b in zip(left, right, strict=True)
        )
    if kind is dict:
        return left.keys() == right.keys() and all(feel_equal(left[k], right[k]) is True for k in left)
    return bool(left == right)


def feel_compare(left: Any, right: Any) -> int | None:
    """-1, 0 or 1, or ``None`` when the values have no order (different kinds, null, lists…)."""
    fast = _FAST_ORDER.get(type(left))
    if fast is not None and fast is _FAST_ORDER.get(type(right)):  # numbers, or strings
        return (left > right) - (left < right)
    left, right, kind = _aligned(left, right)
    if kind not in (Decimal, str, datetime, date, time, timedelta):
        return None
    try:
        return (left > right) - (left < right)
    except TypeError:
        return None


COMPARATORS: dict[str, Callable[[Any, Any], bool | None]] = {
    "=": feel_equal,
    "!=": lambda a, b: not feel_equal(a, b),
    "<": lambda a, b: None if (c := feel_compare(a, b)) is None else c < 0,
    "<=": lambda a, b: None if (c := feel_compare(a, b)) is None else c <= 0,
    ">": lambda a, b: None if (c := feel_compare(a, b)) is None else c > 0,
    ">=": lambda a, b: None if (c := feel_compare(a, b)) is None else c >= 0,
}


def _numbers(left: Any, right: Any) -> tuple[Any, Any]:
    """Mixed ``Decimal`` and ``float`` do not combine in Python: compute in ``float`` then."""
    if isinstance(left, Decimal) != isinstance(right, Decimal) and (
        isinstance(left, float) or isinstance(right, float)
    ):
        return float(left), float(right)
    return left, right


# Which kinds each operator combines. Anything else is null: no "ab" * 3, no list arithmetic.
_ALLOWED: dict[str, frozenset[tuple[type, type]]] = {
    "+": frozenset(
        {(Decimal, Decimal), (str, str), (date, timedelta), (datetime, timedelta), (timedelta, timedelta)}
    ),
    "-": frozenset(
        {
            (Decimal, Decimal),
            (date, timedelta),
            (datetime, timedelta),
            (timedelta, timedelta),
            (date, date),
            (datetime, datetime),
        }
    ),
    "*": frozenset({(Decimal, Decimal), (timedelta, Decimal), (Decimal, timedelta)}),
    "/": frozenset({(Decimal, Decimal), (timedelta, Decimal)}),
    "**": frozenset({(Decimal, Decimal)}),
}
_OPERATORS: dict[str, Callable[[Any, Any], Any]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
    "**": operator.pow,
}


def arithmetic(symbol: str, left: Any, right: Any) -> Any:
    """``left <symbol> right`` with FEEL's typing, or ``None``."""
    if (_kind(left), _kind(right)) not in _ALLOWED[symbol]:
        return None
    left, right = _numbers(left, right)
    try:
        if symbol == "/":
            return _divide(left, right)
        if isinstance(left, int) and isinstance(right, int) and _int_bits(symbol, left, right) > MAX_INT_BITS:
            return None  # out of range, found before the work is done
        result = _OPERATORS[symbol](left, right)
    except (ArithmeticError, TypeError, ValueError):
        return None
    if isinstance(result, complex):
        return None
    return result


def _int_bits(symbol: str, left: int, right: int) -> int:
    """At least the bits of ``left <symbol> right`` for integers (``/`` is handled apart)."""
    if symbol == "**":
        return left.bit_length() * right if right > 0 else 0
    if symbol == "*":
        return left.bit_length() + right.bit_length()
    return max(left.bit_length(), right.bit_length()) + 1


def _divide(left: Any, right: Any) -> Any:
    if isinstance(left, int) and isinstance(right, int) and right and left % right == 0:
        return left // right
    if isinstance(left, timedelta) and isinstance(right, Decimal):
        right = float(right)
    return left / right


def negate(value: Any) -> Any:
    if is_number(value) or isinstance(value, timedelta):
        return -value
    return None


def truth(value: Any) -> bool | None:
    """A FEEL boolean: ``True``/``False``, anything else is null."""
    return value if isinstance(value, bool) else None


def feel_and(values: Iterable[Any]) -> bool | None:
    """Three-valued ``and`` of lazily computed values, stopping at the first ``false``."""
    return _three_valued(values, decisive=False)


def feel_or(values: Iterable[Any]) -> bool | None:
    """Three-valued ``or`` of lazily computed values, stopping at the first ``true``."""
    return _three_valued(values, decisive=True)


def _three_valued(values: Iterable[Any], *, decisive: bool) -> bool | None:
    unknown = False
    for value in values:
        result = truth(value)
        if result is decisive:
            return decisive
        unknown = unknown or result is None
    return None if unknown else not decisive


def member(value: Any, items: Sequence[Any]) -> bool:
    return any(feel_equal(value, item) is True for item in items)
