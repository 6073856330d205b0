"""What an evaluation sees, and the budget that bounds it."""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from apg_workflow.expressions.errors import ExpressionError

MAX_ITERATIONS = 1_000_000
"""Items that the filters and quantifiers of one evaluation may visit, together, by default."""


class Budget:
    """The items one evaluation may still visit; the only FEEL constructs that repeat work are
    filters and quantifiers, and each of their items is paid for here."""

    __slots__ = ("_left", "_limit")

    def __init__(self, limit: int) -> None:
        self._left = self._limit = limit

    def spend(self) -> None:
        self._left -= 1
        if self._left < 0:
            raise ExpressionError(
                f"the filters and quantifiers visit more than {self._limit:,} items", limit="max_iterations"
            )


class Scope:
    """The variables, the tested input value (``?``), the clock and the evaluation's budget.

    One is made per evaluation (a plain class: it is on the hot path of every condition).
    """

    __slots__ = ("budget", "input", "now", "variables")

    def __init__(
        self, variables: Mapping[str, Any], input: Any, now: datetime | None, budget: Budget
    ) -> None:
        self.variables = variables
        self.input = input
        self.now = now
        self.budget = budget

    def with_names(self, *names: Mapping[str, Any]) -> Scope:
        """This scope with ``names`` over its variables (an iteration variable, a filtered item).

        The chain stays flat, so that looking a name up never recurses however deeply the
        quantifiers and filters nest.
        """
        variables = self.variables
        chain = variables.maps if isinstance(variables, ChainMap) else [variables]
        return Scope(ChainMap(*names, *chain), self.input, self.now, self.budget)


Evaluator = Callable[[Scope], Any]
# A test of a value: the cell's input in an input entry, the left side of `in` in an expression.
Test = Callable[[Scope, Any], bool | None]
