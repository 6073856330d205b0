"""Compile a FEEL parse tree into Python closures, once per text.

Every node becomes a function of a :class:`Scope`; the tree is not walked again at evaluation
time, and nothing is ever handed to ``eval``. Names read the scope's variables (a missing name is
null, as in FEEL); paths read keys of mappings and the fields of temporal values, never Python
attributes of arbitrary objects.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date, datetime, time, timedelta
from typing import Any

from lark import Token, Tree

from apg_workflow.expressions.errors import ExpressionSyntaxError
from apg_workflow.expressions.feel_eval._builtins import BUILTINS, call
from apg_workflow.expressions.feel_eval._iteration import filtered, quantified
from apg_workflow.expressions.feel_eval._scope import Evaluator, Scope, Test
from apg_workflow.expressions.feel_eval._values import (
    COMPARATORS,
    arithmetic,
    feel_and,
    feel_compare,
    feel_equal,
    feel_or,
    member,
    negate,
    truth,
)

MAX_DEPTH = 200
_ESCAPES = re.compile(r"\\(u[0-9a-fA-F]{4}|.)")
_SIMPLE_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\", "'": "'"}
_LITERALS = frozenset({"number", "string", "true", "false", "null"})
_TEMPORAL_FIELDS: dict[type, tuple[str, ...]] = {
    datetime: ("year", "month", "day", "hour", "minute", "second"),
    date: ("year", "month", "day"),
    time: ("hour", "minute", "second"),
}


class Compiler:
    """Turns one parse tree of ``text`` into closures. Not shared between texts."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.uses_input = False
        self._depth = 0

    # ---- unary tests ---------------------------------------------------------------------

    def unary_tests(self, tree: Tree) -> Test:
        if tree.data == "any_input":
            return lambda scope, value: True
        (tests,) = tree.children
        negated = _lone_not_call(tests)
        if negated is not None:
            inner = self.positive_tests(negated)
            return lambda scope, value: _not(inner(scope, value))
        return self.positive_tests(tests)

    def positive_tests(self, tree: Tree) -> Test:
        tests = [self.test(child) for child in tree.children]
        if len(tests) == 1:
            return tests[0]
        return lambda scope, value: feel_or(test(scope, value) for test in tests)

    def test(self, tree: Tree, *, operand: bool = False) -> Test:
        """One positive unary test; with ``operand`` the right side of ``in``, where ``?`` is a value."""
        if tree.data == "compare_test":
            comparator, operand = COMPARATORS[tree.children[0]], self.expression(tree.children[1])
            return lambda scope, value: comparator(value, operand(scope))
        if tree.data == "interval":
            return self._interval(tree)
        return self._value_test(tree.children[0], operand=operand)

    def _interval(self, tree: Tree) -> Test:
        opening, low_tree, high_tree, closing = tree.children
        low, high = self.expression(low_tree), self.expression(high_tree)
        low_ok = (lambda c: c >= 0) if opening == "[" else (lambda c: c > 0)
        high_ok = (lambda c: c <= 0) if closing == "]" else (lambda c: c < 0)

        def inside(scope: Scope, value: Any) -> bool | None:
            above, below = feel_compare(value, low(scope)), feel_compare(value, high(scope))
            if above is None or below is None:
                return None
            return low_ok(above) and high_ok(below)

        return inside

    def _value_test(self, tree: Tree, *, operand: bool) -> Test:
        """An expression as a test: ``?`` makes it a condition; otherwise the input must equal its
        value, be in it (a list), or, for a non-literal boolean against a non-boolean input, the
        boolean decides (``amount > 1000`` written as a test)."""
        before, self.uses_input = self.uses_input, False
        value = self.expression(tree)
        condition, self.uses_input = self.uses_input, before or self.uses_input
        if condition and not operand:
            return lambda scope, given: truth(value(scope))
        literal = isinstance(tree, Tree) and tree.data in _LITERALS

        def test(scope: Scope, given: Any) -> bool | None:
            result = value(scope)
            if isinstance(result, bool) and not literal and given is not None and not isinstance(given, bool):
                return result
            if isinstance(result, list | tuple) and not isinstance(given, list | tuple):
                return member(given, result)
            return feel_equal(given, result)

        return test

    # ---- expressions ---------------------------------------------------------------------

    def expression(self, tree: Tree | Token) -> Evaluator:
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise self._error("the expression is nested too deeply", tree)
        try:
            handler = _HANDLERS.get(tree.data if isinstance(tree, Tree) else "")
            if handler is None:
                raise self._error("this construct is not supported here", tree)
            return handler(self, tree)
        finally:
            self._depth -= 1

    def _error(self, reason: str, node: Tree | Token | None) -> ExpressionSyntaxError:
        return ExpressionSyntaxError.at_offset(reason, self.text, _offset(node))

    def _if(self, tree: Tree) -> Evaluator:
        condition, then, otherwise = (self.expression(c) for c in tree.children)
        return lambda scope: then(scope) if condition(scope) is True else otherwise(scope)

    def _boolean(self, tree: Tree) -> Evaluator:
        """Three-valued ``and``/``or`` of two operands (as :func:`feel_and`, unrolled: it is hot)."""
        decisive = tree.data == "or_expr"  # the value that decides: true for `or`, false for `and`
        left, right = (self.expression(c) for c in tree.children)

        def combine(scope: Scope) -> bool | None:
            first = truth(left(scope))
            if first is decisive:
                return decisive
            second = truth(right(scope))
            if second is decisive:
                return decisive
            return None if first is None or second is None else not decisive

        return combine

    def _compare(self, tree: Tree) -> Evaluator:
        left, symbol, right = tree.children
        comparator, lhs, rhs = COMPARATORS[symbol], self.expression(left), self.expression(right)
        return lambda scope: comparator(lhs(scope), rhs(scope))

    def _between(self, tree: Tree) -> Evaluator:
        value, low, high = (self.expression(c) for c in tree.children)
        at_least, at_most = COMPARATORS[">="], COMPARATORS["<="]

        def between(scope: Scope) -> bool | None:
            tested = value(scope)
            return feel_and(
                check(tested, bound(scope)) for check, bound in ((at_least, low), (at_most, high))
            )

        return between

    def _in(self, tree: Tree) -> Evaluator:
        value, test = self.expression(tree.children[0]), self.test(tree.children[1], operand=True)
        return lambda scope: test(scope, value(scope))

    def _arithmetic(self, tree: Tree) -> Evaluator:
        symbol = _ARITHMETIC[tree.data]
        left, right = (self.expression(c) for c in tree.children)
        return lambda scope: arithmetic(symbol, left(scope), right(scope))

    def _negate(self, tree: Tree) -> Evaluator:
        operand = self.expression(tree.children[0])
        return lambda scope: negate(operand(scope))

    def _path(self, tree: Tree) -> Evaluator:
        target, key = self.expression(tree.children[0]), _name_of(tree.children[1].children[0])
        return lambda scope: _member_of(target(scope), key)

    def _filter(self, tree: Tree) -> Evaluator:
        # A literal that can never select anything is another language's subscript (Python's
        # `order["total"]`, `items[0]`): refused, which also keeps SpiffWorkflow tables Python.
        literal = tree.children[1]
        if isinstance(literal, Tree) and literal.data == "string":
            key = _literal_value(literal)
            raise self._error(f'FEEL reads an entry with `.{key}`, not `["{key}"]`', literal)
        if isinstance(literal, Tree) and literal.data == "number" and _literal_value(literal) == 0:
            raise self._error("FEEL counts list positions from 1 (and from -1 at the end)", literal)
        target, selector = (self.expression(child) for child in tree.children)
        return lambda scope: filtered(scope, target(scope), selector)

    def _quantified(self, tree: Tree) -> Evaluator:
        *iterations, satisfies = tree.children
        domains = [
            (_name_of(name.children[0]), self.expression(domain))
            for name, domain in (i.children for i in iterations)
        ]
        condition, every = self.expression(satisfies), tree.data == "every"
        return lambda scope: quantified(scope, every, domains, condition)

    def _input_value(self, tree: Tree) -> Evaluator:
        self.uses_input = True
        return lambda scope: scope.input

    def _name(self, tree: Tree) -> Evaluator:
        name = " ".join(_name_of(token) for token in tree.children)
        return lambda scope: scope.variables.get(name)

    def _call(self, tree: Tree) -> Evaluator:
        words = [c for c in tree.children if isinstance(c, Token)]
        name = " ".join(" ".join(str(w).split()) for w in words)
        builtin = BUILTINS.get(name)
        if builtin is None:
            raise self._error(f"unknown function '{name}'", words[0])
        args = [self.expression(c) for c in tree.children if isinstance(c, Tree)]
        if len(args) < builtin.min_args or (builtin.max_args is not None and len(args) > builtin.max_args):
            expected = builtin.min_args if builtin.min_args == builtin.max_args else "a different number of"
            raise self._error(f"'{name}' takes {expected} argument(s), not {len(args)}", words[0])
        return lambda scope: call(builtin, [a(scope) for a in args], scope.now)

    def _not_call(self, tree: Tree) -> Evaluator:
        tests = tree.children[0].children
        if len(tests) != 1 or tests[0].data != "value_test":
            raise self._error("not(...) of unary tests belongs in an input entry", tree)
        operand = self.expression(tests[0].children[0])
        return lambda scope: _not(truth(operand(scope)))

    def _list(self, tree: Tree) -> Evaluator:
        items = [self.expression(c) for c in tree.children if c is not None]
        return lambda scope: [item(scope) for item in items]

    def _context(self, tree: Tree) -> Evaluator:
        entries = []
        for entry in (c for c in tree.children if c is not None):
            key_node, value_node = entry.children
            key = _string_literal(key_node) if isinstance(key_node, Token) else _name_of(key_node.children[0])
            entries.append((key, self.expression(value_node)))
        return lambda scope: {key: value(scope) for key, value in entries}

    def _literal(self, tree: Tree) -> Evaluator:
        value = _literal_value(tree)
        return lambda scope: value


def _name_of(token: Token) -> str:
    """A name as written, without the backticks that let a name hold any character."""
    text = str(token)
    return text[1:-1] if text.startswith("`") else text


def _literal_value(tree: Tree) -> Any:
    if tree.data == "number":
        text = str(tree.children[0])
        return float(text) if "." in text else int(text)
    if tree.data == "string":
        return _string_literal(tree.children[0])
    return {"true": True, "false": False, "null": None}[tree.data]


def _string_literal(token: Token) -> str:
    def unescape(match: re.Match[str]) -> str:
        code = match.group(1)
        if code.startswith("u") and len(code) == 5:
            return chr(int(code[1:], 16))
        return _SIMPLE_ESCAPES.get(code, code)

    return _ESCAPES.sub(unescape, str(token)[1:-1])


def _member_of(value: Any, key: str) -> Any:
    """``value.key``: an entry of a context, a field of a temporal value, or of each item of a list."""
    if isinstance(value, Mapping):
        return value.get(key)
    if isinstance(value, list | tuple):
        return [_member_of(item, key) for item in value]
    if key == "weekday" and isinstance(value, date):
        return value.isoweekday()
    for kind, fields in _TEMPORAL_FIELDS.items():
        if isinstance(value, kind):
            return getattr(value, key) if key in fields else None
    if isinstance(value, timedelta) and key in ("days", "seconds"):
        return getattr(value, key)
    return None


def _not(value: bool | None) -> bool | None:
    return None if value is None else not value


def _lone_not_call(tests: Tree) -> Tree | None:
    """The tests inside ``not(...)`` when that is the whole cell, else ``None``."""
    if len(tests.children) != 1 or tests.children[0].data != "value_test":
        return None
    inner = tests.children[0].children[0]
    return inner.children[0] if isinstance(inner, Tree) and inner.data == "not_call" else None


def _offset(node: Tree | Token | None) -> int:
    if isinstance(node, Token):
        return node.start_pos or 0
    if isinstance(node, Tree):
        for child in node.children:
            if isinstance(child, Tree | Token):
                return _offset(child)
    return 0


_ARITHMETIC = {"add": "+", "subtract": "-", "multiply": "*", "divide": "/", "power": "**"}
_HANDLERS: dict[str, Callable[[Compiler, Any], Evaluator]] = {
    "if_expr": Compiler._if,
    "or_expr": Compiler._boolean,
    "and_expr": Compiler._boolean,
    "compare": Compiler._compare,
    "between": Compiler._between,
    "in_expr": Compiler._in,
    **dict.fromkeys(_ARITHMETIC, Compiler._arithmetic),
    "negate": Compiler._negate,
    "path": Compiler._path,
    "filter": Compiler._filter,
    "some": Compiler._quantified,
    "every": Compiler._quantified,
    "input_value": Compiler._input_value,
    "name_ref": Compiler._name,
    "call": Compiler._call,
    "not_call": Compiler._not_call,
    "list": Compiler._list,
    "context": Compiler._context,
    **dict.fromkeys(_LITERALS, Compiler._literal),
}
