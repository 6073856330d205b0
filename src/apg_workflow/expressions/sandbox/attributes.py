"""Which attributes sandboxed code may read, per type.

Everything not listed here is refused at run time, whatever its name: there is no list of
dangerous attributes to keep up to date, only a list of useful ones. Methods that can build an
object much larger than their inputs (``str.join``, ``str.replace``, padding, ``list.extend``,
``dict.update``, ``str.format``) are listed too, and the guards check their sizes before calling.
"""

from __future__ import annotations

import datetime as _dt
from decimal import Decimal

from apg_workflow.expressions.sandbox.clock import DateTimeType, DateType

_STR_READ = frozenset(
    {
        "capitalize", "casefold", "count", "endswith", "find", "index", "isalnum", "isalpha",
        "isascii", "isdecimal", "isdigit", "isidentifier", "islower", "isnumeric", "isprintable",
        "isspace", "istitle", "isupper", "lower", "lstrip", "partition", "removeprefix",
        "removesuffix", "rfind", "rindex", "rpartition", "rsplit", "rstrip", "split", "splitlines",
        "startswith", "strip", "swapcase", "title", "upper",
    }
)  # fmt: skip
STR_GROWING = frozenset({"center", "expandtabs", "join", "ljust", "replace", "rjust", "zfill"})
STR_FORMAT = frozenset({"format", "format_map"})

_LIST = frozenset(
    {"append", "clear", "copy", "count", "extend", "index", "insert", "pop", "remove", "reverse", "sort"}
)
_DICT = frozenset(
    {"clear", "copy", "get", "items", "keys", "pop", "popitem", "setdefault", "update", "values"}
)
_FROZENSET = frozenset(
    {"copy", "difference", "intersection", "isdisjoint", "issubset", "issuperset", "symmetric_difference",
     "union"}
)  # fmt: skip
_SET = _FROZENSET | {
    "add", "clear", "difference_update", "discard", "intersection_update", "pop", "remove",
    "symmetric_difference_update", "update",
}  # fmt: skip
_NUMBER = frozenset({"real", "imag", "conjugate"})
_INT = _NUMBER | {"bit_length", "numerator", "denominator", "as_integer_ratio"}
_FLOAT = _NUMBER | {"is_integer", "as_integer_ratio"}
_DECIMAL = frozenset(
    {
        "adjusted", "as_integer_ratio", "as_tuple", "compare", "copy_abs", "copy_negate", "copy_sign",
        "exp", "is_finite", "is_infinite", "is_nan", "is_signed", "is_zero", "ln", "log10", "normalize",
        "quantize", "sqrt", "to_integral", "to_integral_value", "real", "imag",
    }
)  # fmt: skip
_DATE = frozenset(
    {"year", "month", "day", "weekday", "isoweekday", "isocalendar", "isoformat", "strftime", "replace",
     "toordinal", "ctime"}
)  # fmt: skip
_TIME = frozenset(
    {"hour", "minute", "second", "microsecond", "tzinfo", "fold", "isoformat", "strftime", "replace",
     "utcoffset", "tzname", "dst"}
)  # fmt: skip
_DATETIME = (_DATE | _TIME) | {"date", "time", "timetz", "timestamp", "astimezone"}
_DATE_STAND_IN = frozenset(
    {"today", "fromisoformat", "fromordinal", "fromisocalendar", "min", "max", "resolution"}
)
_DATETIME_STAND_IN = frozenset(
    {
        "now", "today", "utcnow", "fromisoformat", "strptime", "combine", "fromtimestamp", "fromordinal",
        "min", "max", "resolution", "datetime", "date", "time", "timedelta", "timezone", "UTC",
    }
)  # fmt: skip

ATTRIBUTES: dict[type, frozenset[str]] = {
    str: _STR_READ | STR_GROWING | STR_FORMAT,
    list: _LIST,
    dict: _DICT,
    set: _SET,
    frozenset: _FROZENSET,
    tuple: frozenset({"count", "index"}),
    range: frozenset({"start", "stop", "step", "count", "index"}),
    bool: _INT,
    int: _INT,
    float: _FLOAT,
    Decimal: _DECIMAL,
    _dt.date: _DATE,
    _dt.time: _TIME,
    _dt.datetime: _DATETIME,
    _dt.timedelta: frozenset({"days", "seconds", "microseconds", "total_seconds"}),
    _dt.timezone: frozenset({"utcoffset", "tzname", "dst"}),
    type(_dt.date(2000, 1, 1).isocalendar()): frozenset({"year", "week", "weekday"}),
    DateType: _DATE_STAND_IN,
    DateTimeType: _DATETIME_STAND_IN,
}
"""Attributes readable on values of each (exact) type."""

CLASS_ATTRIBUTES: dict[type, frozenset[str]] = {
    str: _STR_READ,
    dict: frozenset({"fromkeys"}),
    _dt.timezone: frozenset({"utc"}),
    _dt.timedelta: frozenset({"min", "max", "resolution"}),
    _dt.time: frozenset({"fromisoformat", "min", "max"}),
}
"""Attributes readable on the classes themselves (``str.lower`` as a sort key, ``timezone.utc``)."""

EXCEPTION_ATTRIBUTES = frozenset({"args"})
"""Attributes readable on a caught exception."""

SIZED: dict[type, int] = {str: 1, list: 8, tuple: 8, set: 32, frozenset: 32, dict: 32}
"""Types whose size the guards count, with the approximate bytes one item takes."""

MUTATING_METHODS = frozenset(
    {"append", "extend", "insert", "pop", "remove", "clear", "sort", "reverse", "update", "setdefault",
     "popitem", "add", "discard", "difference_update", "intersection_update", "symmetric_difference_update"}
)  # fmt: skip
"""Method names that change their object: code that uses one works on copies of the variables."""


def allowed(obj: object, name: str) -> bool:
    """Whether sandboxed code may read ``obj.name``."""
    names = ATTRIBUTES.get(type(obj))
    if names is not None:
        return name in names
    if isinstance(obj, type):
        return name in CLASS_ATTRIBUTES.get(obj, ())
    return isinstance(obj, BaseException) and name in EXCEPTION_ATTRIBUTES


def exists(obj: object, name: str) -> bool:
    """Whether a refused ``obj.name`` is there to refuse (a violation) rather than simply missing."""
    return isinstance(obj, type) or name in _NOTORIOUS or hasattr(type(obj), name)


def owner(obj: object) -> str:
    """The type name a message shows for ``obj``."""
    return obj.__name__ if isinstance(obj, type) else type(obj).__name__


# Names that escapes reach for (on frames, generators, functions, classes, strings): reported as
# refused, not as missing, whatever the object, so that the message says what happened.
_NOTORIOUS = frozenset(
    {"gi_frame", "gi_code", "cr_frame", "ag_frame", "f_globals", "f_locals", "f_back", "f_builtins",
     "tb_frame", "func_globals", "func_code", "mro", "format", "format_map"}
)  # fmt: skip
