"""The FEEL built-in functions the platform provides, by their FEEL names.

Each returns ``None`` (null) for arguments of the wrong kind instead of raising, as FEEL does.
``today()`` and ``now()`` read the clock the caller passes in, never the wall clock.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from apg_workflow.expressions.feel_eval._values import feel_compare, is_number, member

_DURATION = re.compile(
    r"^(?P<sign>-)?P(?:(?P<days>\d+)D)?(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?"
    r"(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?$"
)


@dataclass(frozen=True, slots=True)
class Builtin:
    function: Callable[..., Any]
    min_args: int
    max_args: int | None  # None: any number
    needs_now: bool = False


def _text(function: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a function of strings so that any non-string argument gives null."""

    def wrapped(*args: Any) -> Any:
        return function(*args) if all(isinstance(a, str) for a in args) else None

    return wrapped


def _substring(value: Any, start: Any, length: Any = None) -> str | None:
    if not isinstance(value, str) or not is_number(start) or (length is not None and not is_number(length)):
        return None
    begin = int(start) - 1 if start > 0 else len(value) + int(start)
    end = None if length is None else begin + int(length)
    return value[max(begin, 0) : end]


def _string(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)


def _number(value: Any, grouping: Any = None, decimal: Any = None) -> Any:
    if is_number(value):
        return value
    if not isinstance(value, str):
        return None
    text = value.strip()
    if isinstance(grouping, str):
        text = text.replace(grouping, "")
    if isinstance(decimal, str):
        text = text.replace(decimal, ".")
    try:
        return int(text) if re.fullmatch(r"[+-]?\d+", text) else float(text)
    except ValueError:
        return None


def _date(*args: Any) -> date | None:
    try:
        if len(args) == 3 and all(is_number(a) for a in args):
            return date(int(args[0]), int(args[1]), int(args[2]))
        (value,) = args
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        if isinstance(value, str):
            return date.fromisoformat(value) if "T" not in value else datetime.fromisoformat(value).date()
    except (ValueError, TypeError, OverflowError):
        return None
    return None


def _date_and_time(*args: Any) -> datetime | None:
    try:
        if len(args) == 2 and isinstance(args[0], date) and isinstance(args[1], time):
            return datetime.combine(args[0], args[1])
        (value,) = args
        if isinstance(value, datetime):
            return value
        if isinstance(value, date):
            return datetime.combine(value, time())
        if isinstance(value, str):
            return datetime.fromisoformat(value)
    except (ValueError, TypeError):
        return None
    return None


def _time(value: Any) -> time | None:
    if isinstance(value, datetime):
        return value.timetz()
    if isinstance(value, str):
        try:
            return time.fromisoformat(value)
        except ValueError:
            return None
    return None


def _duration(value: Any) -> timedelta | None:
    match = _DURATION.match(value) if isinstance(value, str) else None
    if match is None or value.rstrip("PT-") == "":
        return None
    parts = {k: float(v) for k, v in match.groupdict().items() if v is not None and k != "sign"}
    result = timedelta(**parts)
    return -result if match.group("sign") else result


def _items(args: Sequence[Any]) -> list[Any]:
    """The items of a list function: one list argument, or the arguments themselves."""
    if len(args) == 1 and isinstance(args[0], list | tuple):
        return list(args[0])
    return list(args)


def _sum(*args: Any) -> Any:
    items = _items(args)
    if not items or not all(is_number(i) for i in items):
        return None
    return sum(items)


def _extreme(sign: int) -> Callable[..., Any]:
    def pick(*args: Any) -> Any:
        items = _items(args)
        if not items:
            return None
        best = items[0]
        for item in items[1:]:
            order = feel_compare(item, best)
            if order is None:
                return None
            if order == sign:
                best = item
        return best

    return pick


def _mean(*args: Any) -> Any:
    items = _items(args)
    total = _sum(*items) if items else None
    return None if total is None else total / len(items)


def _count(values: Any) -> int | None:
    return len(values) if isinstance(values, list | tuple) else None


def _booleans(check: Callable[[list[bool]], bool]) -> Callable[..., Any]:
    def apply(*args: Any) -> Any:
        items = _items(args)
        if not all(isinstance(i, bool) for i in items):
            return None
        return check(items)

    return apply


def _decimal(value: Any, scale: Any) -> Any:
    if not is_number(value) or not is_number(scale):
        return None
    rounded = Decimal(str(value)).quantize(Decimal(1).scaleb(-int(scale)), rounding=ROUND_HALF_EVEN)
    return int(rounded) if int(scale) <= 0 else float(rounded)


def _numeric(function: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def apply(value: Any) -> Any:
        return function(value) if is_number(value) else None

    return apply


def _list_contains(values: Any, item: Any) -> bool | None:
    return member(item, values) if isinstance(values, list | tuple) else None


BUILTINS: dict[str, Builtin] = {
    "string length": Builtin(_text(len), 1, 1),
    "upper case": Builtin(_text(str.upper), 1, 1),
    "lower case": Builtin(_text(str.lower), 1, 1),
    "substring": Builtin(_substring, 2, 3),
    "contains": Builtin(_text(lambda s, m: m in s), 2, 2),
    "starts with": Builtin(_text(str.startswith), 2, 2),
    "ends with": Builtin(_text(str.endswith), 2, 2),
    "string": Builtin(_string, 1, 1),
    "number": Builtin(_number, 1, 3),
    "date": Builtin(_date, 1, 3),
    "date and time": Builtin(_date_and_time, 1, 2),
    "time": Builtin(_time, 1, 1),
    "duration": Builtin(_duration, 1, 1),
    "today": Builtin(lambda now: None if now is None else now.date(), 0, 0, needs_now=True),
    "now": Builtin(lambda now: now, 0, 0, needs_now=True),
    "sum": Builtin(_sum, 1, None),
    "count": Builtin(_count, 1, 1),
    "min": Builtin(_extreme(-1), 1, None),
    "max": Builtin(_extreme(1), 1, None),
    "mean": Builtin(_mean, 1, None),
    "all": Builtin(_booleans(all), 1, None),
    "any": Builtin(_booleans(any), 1, None),
    "list contains": Builtin(_list_contains, 2, 2),
    "abs": Builtin(_numeric(abs), 1, 1),
    "floor": Builtin(_numeric(math.floor), 1, 1),
    "ceiling": Builtin(_numeric(math.ceil), 1, 1),
    "decimal": Builtin(_decimal, 2, 2),
}


def call(builtin: Builtin, args: list[Any], now: datetime | None) -> Any:
    """Apply a built-in; a Python error on odd data is FEEL's null, never an exception."""
    try:
        return builtin.function(now, *args) if builtin.needs_now else builtin.function(*args)
    except (TypeError, ValueError, ArithmeticError):
        return None
