"""FEEL (Friendly Enough Expression Language) for DMN decision tables: a documented subset.

Two entry points, each compiled once per text and cached:

- :func:`compile_unary_tests` for input entries: ``-``, ``"a","b"``, ``< 5``, ``>= 10``,
  ``[1..10]``, ``]1..10[``, ``not("a","b")``, ``null``, ``date("2026-01-01")``, ``? > 5``;
- :func:`compile_expression` for input expressions, output entries and literal decisions:
  names with spaces and paths (``customer.type``), arithmetic, comparisons, ``and``/``or``,
  ``between``, ``in``, ``if … then … else``, lists, contexts and built-in functions
  (``string length``, ``upper case``, ``contains``, ``date``, ``number``, ``sum``, ``count``,
  ``min``, ``max``, … see :data:`BUILTINS`).

Evaluation never raises: as in FEEL, wrong kinds and missing names give ``None`` (null).
:func:`feel_equal` and :func:`feel_compare` expose FEEL's equality and ordering. Syntax problems
raise :class:`~apg_workflow.expressions.errors.ExpressionSyntaxError` with a column.

>>> compile_unary_tests("[1..10]").matches(5)
True
>>> compile_expression('if age >= 18 then "adult" else "minor"').evaluate({"age": 20})
'adult'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cache, lru_cache
from importlib.resources import files
from typing import Any

from lark import Lark, UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from apg_workflow.expressions.errors import ExpressionSyntaxError
from apg_workflow.expressions.feel_eval._builtins import BUILTINS
from apg_workflow.expressions.feel_eval._compiler import Compiler, Evaluator, Scope, Test
from apg_workflow.expressions.feel_eval._values import feel_compare, feel_equal, is_number

MAX_LENGTH = 10_000
_CACHE_SIZE = 4096
_NO_VARIABLES: Mapping[str, Any] = {}
# Operators of other languages, with what FEEL writes instead.
_FOREIGN = {
    "==": "FEEL compares with `=`, not `==`",
    "&&": "FEEL writes `and`, not `&&`",
    "||": "FEEL writes `or`, not `||`",
}


@dataclass(frozen=True, slots=True)
class UnaryTests:
    """Compiled unary tests: does an input value satisfy them?"""

    text: str
    _test: Test

    def matches(
        self, value: Any, variables: Mapping[str, Any] = _NO_VARIABLES, *, now: datetime | None = None
    ) -> bool:
        """Whether ``value`` passes; a null outcome (incomparable values) is no match."""
        return self._test(Scope(variables, value, now), value) is True


@dataclass(frozen=True, slots=True)
class FeelExpression:
    """A compiled FEEL expression. ``uses_input`` tells whether it refers to ``?``."""

    text: str
    uses_input: bool
    _evaluate: Evaluator

    def evaluate(
        self, variables: Mapping[str, Any] = _NO_VARIABLES, *, now: datetime | None = None, input: Any = None
    ) -> Any:
        return self._evaluate(Scope(variables, input, now))


@lru_cache(maxsize=_CACHE_SIZE)
def compile_unary_tests(text: str) -> UnaryTests:
    """Compile an input entry. An empty entry matches everything, like ``-``."""
    if not text.strip():
        return UnaryTests(text, lambda scope, value: True)
    compiler = Compiler(text)
    return UnaryTests(text, _compiled(text, "unary_tests", compiler.unary_tests))


@lru_cache(maxsize=_CACHE_SIZE)
def compile_expression(text: str) -> FeelExpression:
    """Compile an expression. A leading ``=`` (Camunda 8's FEEL marker) is allowed and ignored."""
    body = text.lstrip()
    if body.startswith("="):
        body = " " * (len(text) - len(body) + 1) + body[1:]
    if not body.strip():
        raise ExpressionSyntaxError("the expression is empty")
    compiler = Compiler(body)
    evaluator = _compiled(body, "expression", compiler.expression)
    return FeelExpression(text, compiler.uses_input, evaluator)


def evaluate(text: str, variables: Mapping[str, Any] = _NO_VARIABLES, *, now: datetime | None = None) -> Any:
    """Compile (cached) and evaluate a FEEL expression."""
    return compile_expression(text).evaluate(variables, now=now)


def matches(
    text: str, value: Any, variables: Mapping[str, Any] = _NO_VARIABLES, *, now: datetime | None = None
) -> bool:
    """Compile (cached) unary tests and apply them to ``value``."""
    return compile_unary_tests(text).matches(value, variables, now=now)


def _compiled(text: str, start: str, build: Any) -> Any:
    if len(text) > MAX_LENGTH:
        raise ExpressionSyntaxError(f"the expression is longer than {MAX_LENGTH} characters")
    try:
        tree = _parser().parse(text, start=start)
    except UnexpectedInput as exc:
        raise _syntax_error(exc, text) from None
    try:
        return build(tree)
    except RecursionError:
        raise ExpressionSyntaxError("the expression is nested too deeply") from None


def _syntax_error(exc: UnexpectedInput, text: str) -> ExpressionSyntaxError:
    if (isinstance(exc, UnexpectedToken) and exc.token.type == "$END") or isinstance(exc, UnexpectedEOF):
        return ExpressionSyntaxError.at_offset("unexpected end of expression", text, len(text.rstrip()))
    offset = (exc.token.start_pos if isinstance(exc, UnexpectedToken) else exc.pos_in_stream) or 0
    for start in (offset - 1, offset):
        foreign = next((op for op in _FOREIGN if text.startswith(op, max(start, 0))), None)
        if foreign:
            return ExpressionSyntaxError.at_offset(_FOREIGN[foreign], text, max(start, 0))
    if isinstance(exc, UnexpectedCharacters):
        char = text[offset]
        reason = "the string is never closed" if char == '"' else f"unexpected character `{char}`"
        return ExpressionSyntaxError.at_offset(reason, text, offset)
    token = exc.token if isinstance(exc, UnexpectedToken) else text[offset : offset + 1]
    return ExpressionSyntaxError.at_offset(f"unexpected `{token}`", text, offset)


@cache
def _parser() -> Lark:
    grammar = files(__package__).joinpath("feel.lark").read_text(encoding="utf-8")
    return Lark(grammar, parser="lalr", start=["unary_tests", "expression"], maybe_placeholders=True)


__all__ = [
    "BUILTINS",
    "FeelExpression",
    "UnaryTests",
    "compile_expression",
    "compile_unary_tests",
    "evaluate",
    "feel_compare",
    "feel_equal",
    "is_number",
    "matches",
]
