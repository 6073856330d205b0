"""Simple FEEL expressions (Camunda 8, ``=amount > 1000``) translated to the sandbox.

Supported: numbers, strings, ``true``/``false``/``null``, lists ``[1, 2]``, names and paths
(``order.customer.name``: a missing key or a path through ``null`` is ``null``), 1-based list
indexes (``items[1]``, ``items[-1]`` for the last), ``+ - * / **``, comparisons ``= != < <= > >=``,
``x between a and b``, ``x in [a, b]``, ``and``/``or``/``not(…)``, ``if … then … else …``, and
the functions ``count``, ``sum``, ``min``, ``max``, ``abs``, ``string`` and ``now``. Names with
spaces, ranges, filters, contexts and FEEL's three-valued logic are not: such an expression fails
to compile with its position. Unary tests of decision tables are FEEL of their own and are not
translated here.
"""

from __future__ import annotations

import ast
import keyword

from apg_workflow.expressions.sandbox.parsing import END, NAME, NUMBER, OPERATOR, STRING, Lexer, Parser

_OPERATORS = ("**", "<=", ">=", "!=", "=", "<", ">", "+", "-", "*", "/", "(", ")", "[", "]", ",", ".")
_COMPARISONS = {"=": ast.Eq, "!=": ast.NotEq, "<": ast.Lt, "<=": ast.LtE, ">": ast.Gt, ">=": ast.GtE}
_LITERALS = {"true": True, "false": False, "null": None}
_RESERVED = frozenset({"and", "or", "not", "if", "then", "else", "between", "in", "for", "some", "every"})
FUNCTIONS = {
    "count": "len",
    "sum": "sum",
    "min": "min",
    "max": "max",
    "abs": "abs",
    "string": "str",
    "now": "now",
}
"""FEEL functions and the sandbox built-ins they become."""


def translate(text: str) -> ast.Expression:
    """``text`` (with or without its leading ``=``) as a Python expression."""
    start = len(text) - len(text.lstrip())
    if text.startswith("=", start):
        start += 1
    parser = _FeelParser(Lexer(text, start, operators=_OPERATORS, quotes='"', dialect="FEEL"))
    body = parser.expression()
    token = parser.lexer.peek()
    if token.kind != END:
        raise parser.lexer.error(f"unexpected '{token.text}'", token.start)
    return ast.Expression(body=body)


class _FeelParser(Parser):
    def expression(self) -> ast.expr:
        if token := self.accept("if"):
            condition = self.expression()
            self.expect("then")
            when_true = self.expression()
            self.expect("else")
            when_false = self.expression()
            return self.lexer.locate(ast.IfExp(test=condition, body=when_true, orelse=when_false), token)
        return self._disjunction()

    def _disjunction(self) -> ast.expr:
        left = self._conjunction()
        while token := self.accept("or"):
            left = self.boolean(ast.Or(), [left, self._conjunction()], token)
        return left

    def _conjunction(self) -> ast.expr:
        left = self._comparison()
        while token := self.accept("and"):
            left = self.boolean(ast.And(), [left, self._comparison()], token)
        return left

    def _comparison(self) -> ast.expr:
        left = self._additive()
        if token := self.accept(*_COMPARISONS):
            return self.compare(left, _COMPARISONS[token.text](), self._additive(), token)
        if token := self.accept("between"):
            low = self._additive()
            self.expect("and")
            high = self._additive()
            node = ast.Compare(left=low, ops=[ast.LtE(), ast.LtE()], comparators=[left, high])
            return self.lexer.locate(node, token)
        if token := self.accept("in"):
            return self.compare(left, ast.In(), self._additive(), token)
        return left

    def _additive(self) -> ast.expr:
        left = self._multiplicative()
        while token := self.accept("+", "-"):
            operator = ast.Add() if token.text == "+" else ast.Sub()
            left = self.binary(left, operator, self._multiplicative(), token)
        return left

    def _multiplicative(self) -> ast.expr:
        left = self._power()
        while token := self.accept("*", "/"):
            operator = ast.Mult() if token.text == "*" else ast.Div()
            left = self.binary(left, operator, self._power(), token)
        return left

    def _power(self) -> ast.expr:
        left = self._unary()
        while token := self.accept("**"):
            left = self.binary(left, ast.Pow(), self._unary(), token)
        return left

    def _unary(self) -> ast.expr:
        if token := self.accept("-"):
            return self.lexer.locate(ast.UnaryOp(op=ast.USub(), operand=self._unary()), token)
        return self._path()

    def _path(self) -> ast.expr:
        value = self._primary()
        while True:
            if token := self.accept("."):
                name = self.lexer.advance()
                if name.kind != NAME:
                    raise self.lexer.error("expected a name after '.'", name.start)
                value = self.guard("member", [value, ast.Constant(name.value)], name)
            elif token := self.accept("["):
                index = self.expression()
                self.expect("]")
                value = self.guard("item", [value, index], token)
            else:
                return value

    def _primary(self) -> ast.expr:
        token = self.lexer.advance()
        if token.kind in (NUMBER, STRING):
            return self.lexer.locate(ast.Constant(token.value), token)
        if token.kind == OPERATOR and token.text == "(":
            inner = self.expression()
            self.expect(")")
            return inner
        if token.kind == OPERATOR and token.text == "[":
            return self.lexer.locate(ast.List(elts=self.items("]"), ctx=ast.Load()), token)
        if token.kind == NAME and token.text in _LITERALS:
            return self.lexer.locate(ast.Constant(_LITERALS[token.text]), token)
        if token.kind == NAME and token.text == "not" and self.accept("("):
            arguments = self.items(")")
            if len(arguments) != 1:
                raise self.lexer.error("not() takes one argument", token.start)
            (operand,) = arguments
            return self.lexer.locate(ast.UnaryOp(op=ast.Not(), operand=operand), token)
        if token.kind == NAME and token.text not in _RESERVED and not keyword.iskeyword(token.text):
            if self.accept("("):
                if token.text not in FUNCTIONS:
                    raise self.lexer.error(f"the function '{token.text}' is not supported", token.start)
                function = self.lexer.locate(ast.Name(id=FUNCTIONS[token.text], ctx=ast.Load()), token)
                return self.lexer.locate(ast.Call(func=function, args=self.items(")"), keywords=[]), token)
            return self.lexer.locate(ast.Name(id=token.text, ctx=ast.Load()), token)
        found = "the end of the expression" if token.kind == END else f"'{token.text}'"
        raise self.lexer.error(f"unexpected {found}", token.start)
