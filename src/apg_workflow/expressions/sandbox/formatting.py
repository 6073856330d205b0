"""String formatting that cannot walk attributes or pad a value to gigabytes.

``"{0.__class__}".format(x)`` reads attributes with no ``.`` in the code for the compiler to see,
and ``f"{x:>999999999}"`` or ``"%*d" % (10**9, 1)`` allocate what the format asks for. So
``str.format`` runs through a formatter that refuses attribute fields, and every width or
precision in a format specification is checked against ``Limits.max_length`` first.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping, Sequence
from typing import Any

from apg_workflow.expressions.sandbox.errors import Violation

_NUMBERS = re.compile(r"\d+")
_PERCENT_SPEC = re.compile(r"%(?:\([^)]*\))?[#0 +-]*(\*|\d+)?(?:\.(\*|\d+))?[hlL]?[a-zA-Z%]")


def check_spec(spec: str, limit: int) -> None:
    """Refuse a format specification (``>20``, ``.3f``, ``%Y``) that pads beyond ``limit``."""
    for digits in _NUMBERS.findall(spec):
        _check_width(digits, limit)


def _check_width(digits: str, limit: int) -> None:
    if len(digits) > 18 or int(digits) > limit:
        raise Violation(
            f"a format width or precision of {digits} exceeds the longest string allowed ({limit})",
            limit="max_length",
        )


def check_percent(template: str, args: Any, limit: int) -> None:
    """Refuse ``template % args`` when a width or precision (literal or ``*``) exceeds ``limit``."""
    starred = False
    for match in _PERCENT_SPEC.finditer(template):
        for width in match.groups():
            if width == "*":
                starred = True
            elif width:
                _check_width(width, limit)
    if starred:
        values = args if isinstance(args, tuple) else (args,)
        for value in values:
            if isinstance(value, int) and abs(value) > limit:
                _check_width(str(abs(value)), limit)


class SafeFormatter(string.Formatter):
    """``str.format`` / ``str.format_map`` without attribute fields and with bounded widths."""

    def __init__(self, limit: int) -> None:
        self._limit = limit

    def get_field(self, field_name: str, args: Sequence[Any], kwargs: Mapping[str, Any]) -> Any:
        if "." in field_name:
            raise Violation(
                f"attribute access in a format field ('{{{field_name}}}') is not allowed in expressions"
            )
        return super().get_field(field_name, args, kwargs)

    def format_field(self, value: Any, format_spec: str) -> Any:
        check_spec(format_spec, self._limit)
        return format(value, format_spec)
