"""FEEL (Friendly Enough Expression Language): the one implementation of the platform.

It serves decision tables (DMN), the expressions of Camunda 8 files (``=amount > 1000``, which
the sandbox evaluates here) and the syntax checks. Two entry points, each compiled once per text
and cached:

- :func:`compile_unary_tests` for input entries: ``-``, ``"a","b"``, ``< 5``, ``>= 10``,
  ``[1..10]``, ``]1..10[``, ``not("a","b")``, ``null``, ``date("2026-01-01")``, ``? > 5``;
- :func:`compile_expression` for everything else: names with spaces and paths
  (``customer.type``), filters and indexes (``items[1]``, ``items[price > 10]``), arithmetic,
  comparisons, ``and``/``or``, ``between``, ``in``, ``if … then … else``, ``some``/``every … in …
  satisfies``, lists, contexts and built-in functions (``string length``, ``upper case``,
  ``contains``, ``date``, ``number``, ``sum``, ``count``, ``min``, ``max``, … see
  :data:`BUILTINS`).

Evaluation never raises for data: as in FEEL, wrong kinds and missing names give ``None`` (null).
It is bounded: nothing in the language loops, integers stay below 4300 digits, and the filters
and quantifiers of one evaluation visit at most ``max_iterations`` items, past which it raises
:class:`~apg_workflow.expressions.errors.ExpressionError` with ``limit="max_iterations"``.
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
from functools import lru_cache
from typing import Any

from apg_workflow.expressions.errors import ExpressionSyntaxError
from apg_workflow.expressions.feel_eval._builtins import BUILTINS
from apg_workflow.expressions.feel_eval._compiler import Compiler
from apg_workflow.expressions.feel_eval._scope import MAX_ITERATIONS, Budget, Evaluator, Scope, Test
from apg_workflow.expressions.feel_eval._syntax import MAX_LENGTH, parse
from apg_workflow.expressions.feel_eval._values import feel_compare, feel_equal, is_number

_CACHE_SIZE = 4096
_NO_VARIABLES: Mapping[str, Any] = {}


@dataclass(frozen=True, slots=True)
class UnaryTests:
    """Compiled unary tests: does an input value satisfy them?"""

    text: str
    _test: Test

    def matches(
        self,
        value: Any,
        variables: Mapping[str, Any] = _NO_VARIABLES,
        *,
        now: datetime | None = None,
        max_iterations: int = MAX_ITERATIONS,
    ) -> bool:
        """Whether ``value`` passes; a null outcome (incomparable values) is no match."""
        return self._test(Scope(variables, value, now, Budget(max_iterations)), value) is True


@dataclass(frozen=True, slots=True)
class FeelExpression:
    """A compiled FEEL expression. ``uses_input`` tells whether it refers to ``?``."""

    text: str
    uses_input: bool
    _evaluate: Evaluator

    def evaluate(
        self,
        variables: Mapping[str, Any] = _NO_VARIABLES,
        *,
        now: datetime | None = None,
        input: Any = None,
        max_iterations: int = MAX_ITERATIONS,
    ) -> Any:
        """The value over ``variables``, with ``now()`` and ``today()`` reading ``now``."""
        return self._evaluate(Scope(variables, input, now, Budget(max_iterations)))


@lru_cache(maxsize=_CACHE_SIZE)
def compile_unary_tests(text: str) -> UnaryTests:
    """Compile an input entry. An empty entry matches everything, like ``-``."""
    if not text.strip():
        return UnaryTests(text, lambda scope, value: True)
    compiler = Compiler(text)
    return UnaryTests(
        text, _compiled(compiler.unary_tests, parse(text, "unary_tests", comments=False, source=text))
    )


@lru_cache(maxsize=_CACHE_SIZE)
def compile_expression(text: str, *, comments: bool = False) -> FeelExpression:
    """Compile an expression. A leading ``=`` (Camunda 8's FEEL marker) is allowed and ignored.

    ``comments``: read ``//`` and ``/* */`` as comments, as Camunda 8 does. Decision tables leave
    it off: SpiffWorkflow's tables write ``//`` for Python's floor division, and a table is read
    as Python when one of its cells cannot be FEEL.
    """
    body = text.lstrip()
    if body.startswith("="):
        body = " " * (len(text) - len(body) + 1) + body[1:]  # same offsets as in text
    if not body.strip():
        raise ExpressionSyntaxError("the expression is empty")
    compiler = Compiler(text)
    evaluator = _compiled(compiler.expression, parse(body, "expression", comments=comments, source=text))
    return FeelExpression(text, compiler.uses_input, evaluator)


def evaluate(text: str, variables: Mapping[str, Any] = _NO_VARIABLES, *, now: datetime | None = None) -> Any:
    """Compile (cached) and evaluate a FEEL expression."""
    return compile_expression(text).evaluate(variables, now=now)


def matches(
    text: str, value: Any, variables: Mapping[str, Any] = _NO_VARIABLES, *, now: datetime | None = None
) -> bool:
    """Compile (cached) unary tests and apply them to ``value``."""
    return compile_unary_tests(text).matches(value, variables, now=now)


def _compiled(build: Any, tree: Any) -> Any:
    try:
        return build(tree)
    except RecursionError:
        raise ExpressionSyntaxError("the expression is nested too deeply") from None


__all__ = [
    "BUILTINS",
    "MAX_ITERATIONS",
    "MAX_LENGTH",
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
