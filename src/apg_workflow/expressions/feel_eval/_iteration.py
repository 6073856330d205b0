"""Filters (``items[1]``, ``items[price > 10]``) and quantifiers (``some x in items satisfies …``).

They are the only FEEL constructs that evaluate an expression more than once, once per item of a
list that already exists; every item they visit is paid for from the evaluation's budget.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from apg_workflow.expressions.feel_eval._scope import Evaluator, Scope
from apg_workflow.expressions.feel_eval._values import feel_and, feel_or, is_number, truth


def filtered(scope: Scope, value: Any, selector: Evaluator) -> Any:
    """``value[selector]``: the item at a 1-based index (negative from the end), or the items for
    which the selector is true, with the item's entries and ``item`` itself in scope.

    A value that is not a list is a list of that one value, as FEEL says; null stays null.
    """
    if value is None:
        return None
    items = value if isinstance(value, list | tuple) else [value]
    index = selector(scope)
    if is_number(index):
        return _item_at(items, index)
    kept = []
    for item in items:
        scope.budget.spend()
        names = ({"item": item}, item) if isinstance(item, Mapping) else ({"item": item},)
        if truth(selector(scope.with_names(*names))) is True:
            kept.append(item)
    return kept


def _item_at(items: Sequence[Any], index: Any) -> Any:
    if not -len(items) <= index <= len(items) or index == 0 or index != int(index):
        return None
    position = int(index)
    return items[position - 1 if position > 0 else position]


def quantified(
    scope: Scope, every: bool, domains: Sequence[tuple[str, Evaluator]], condition: Evaluator
) -> bool | None:
    """``some``/``every`` name in list, … ``satisfies`` condition, three-valued like ``or``/``and``.

    Null when a domain is not a list.
    """
    try:
        outcomes = (condition(bound) for bound in _bindings(scope, domains))
        return feel_and(outcomes) if every else feel_or(outcomes)
    except _NotAList:
        return None


class _NotAList(Exception):
    """A quantifier's domain is not a list."""


def _bindings(scope: Scope, domains: Sequence[tuple[str, Evaluator]]) -> Iterator[Scope]:
    """Every combination of the domains' items, each name bound in a scope of its own."""
    if not domains:
        yield scope
        return
    (name, domain), rest = domains[0], domains[1:]
    items = domain(scope)
    if not isinstance(items, list | tuple):
        raise _NotAList
    for item in items:
        scope.budget.spend()
        yield from _bindings(scope.with_names({name: item}), rest)
