"""Camunda 7 expressions (JUEL, the Java Unified Expression Language) translated to the sandbox.

``${amount > 1000 && approved}``, ``${status == 'ok'}``, ``${empty items}``,
``${customer.name}``, ``${items.size() > 0 ? 'some' : 'none'}``, and templates that mix text and
expressions (``Hello ${name}!``, which evaluate to a string). Property access reads map keys and
answers ``null`` for a missing one, as JUEL's map resolver does; the common Java methods of
strings, lists and maps (``size()``, ``isEmpty()``, ``contains()``, ``equals()``, ``startsWith()``
…) are emulated; other methods are the Python methods of the same name, when allowed.
"""

from __future__ import annotations

import ast
import keyword
from collections.abc import Callable
from typing import Any

from apg_workflow.expressions.dialects import JUEL_MARKERS
from apg_workflow.expressions.sandbox.parsing import END, NAME, NUMBER, OPERATOR, STRING, Lexer, Parser, Token

_OPERATORS = (
    "&&", "||", "==", "!=", "<=", ">=", "<", ">", "!", "+", "-", "*", "/", "%", "?", ":", ".", "[", "]",
    "(", ")", ",", "}",
)  # fmt: skip
_EQUALITY = {"==": ast.Eq, "eq": ast.Eq, "!=": ast.NotEq, "ne": ast.NotEq}
_RELATIONAL = {
    "<": ast.Lt,
    "lt": ast.Lt,
    ">": ast.Gt,
    "gt": ast.Gt,
    "<=": ast.LtE,
    "le": ast.LtE,
    ">=": ast.GtE,
    "ge": ast.GtE,
}
_MULTIPLICATIVE = {"*": ast.Mult, "/": ast.Div, "div": ast.Div, "%": ast.Mod, "mod": ast.Mod}
_LITERALS = {"true": True, "false": False, "null": None}
_RESERVED = frozenset(
    {"and", "or", "not", "eq", "ne", "lt", "gt", "le", "ge", "div", "mod", "empty", "instanceof"}
)


def _index_of(target: Any, item: Any) -> int:
    if isinstance(target, str):
        return target.find(item)
    return target.index(item) if item in target else -1


JAVA_METHODS: dict[str, Callable[..., Any]] = {
    "size": len,
    "length": len,
    "isEmpty": lambda target: len(target) == 0,
    "contains": lambda target, item: item in target,
    "containsKey": lambda target, key: key in target,
    "get": lambda target, key: target.get(key) if isinstance(target, dict) else target[key],
    "equals": lambda target, other: target == other,
    "equalsIgnoreCase": lambda target, other: target.casefold() == other.casefold(),
    "startsWith": lambda target, prefix: target.startswith(prefix),
    "endsWith": lambda target, suffix: target.endswith(suffix),
    "toUpperCase": lambda target: target.upper(),
    "toLowerCase": lambda target: target.lower(),
    "trim": lambda target: target.strip(),
    "indexOf": _index_of,
    "substring": lambda target, start, end=None: target[start:end],
    "toString": str,
}
"""Java methods that JUEL expressions call on strings, lists and maps, as Python functions."""


def translate(text: str) -> ast.Expression:
    """``text`` (one ``${…}`` / ``#{…}`` expression or a template mixing them with text) as Python.

    A text without any ``${…}`` (its language declared as JUEL) is one expression as a whole, as
    the syntax checks read it.
    """
    parts: list[str | ast.expr] = []  # literal text and embedded expressions
    position = 0
    while True:
        start = min(
            (found for marker in JUEL_MARKERS if (found := text.find(marker, position)) >= 0), default=-1
        )
        if start < 0:
            break
        parts.append(text[position:start])
        parser = _parser(text, start + 2)
        parts.append(parser.expression())
        position = parser.expect("}").end
    parts.append(text[position:])
    expressions = [part for part in parts if not isinstance(part, str)]
    if not expressions:  # declared JUEL without ${…}: the whole text is one expression
        parser = _parser(text, 0)
        body = parser.expression()
        token = parser.lexer.peek()
        if token.kind != END:
            raise parser.lexer.error(f"unexpected '{token.text}'", token.start)
        return ast.Expression(body=body)
    if len(expressions) == 1 and not "".join(part for part in parts if isinstance(part, str)).strip():
        return ast.Expression(body=expressions[0])
    values = [ast.Constant(part) if isinstance(part, str) else _text(part) for part in parts if part != ""]
    return ast.Expression(body=ast.JoinedStr(values=values))


def _parser(text: str, start: int) -> _JuelParser:
    return _JuelParser(Lexer(text, start, operators=_OPERATORS, quotes="'\"", dialect="JUEL"))


def _text(expression: ast.expr) -> ast.FormattedValue:
    """An embedded expression as template text (``null`` as nothing, booleans as Java writes them)."""
    func = ast.Attribute(value=ast.Name(id="__apg", ctx=ast.Load()), attr="text", ctx=ast.Load())
    call = ast.copy_location(ast.Call(func=func, args=[expression], keywords=[]), expression)
    return ast.copy_location(ast.FormattedValue(value=call, conversion=-1, format_spec=None), expression)


class _JuelParser(Parser):
    def expression(self) -> ast.expr:
        condition = self._or()
        token = self.accept("?")
        if token is None:
            return condition
        when_true = self.expression()
        self.expect(":")
        when_false = self.expression()
        return self.lexer.locate(ast.IfExp(test=condition, body=when_true, orelse=when_false), token)

    def _or(self) -> ast.expr:
        left = self._and()
        while token := self.accept("||", "or"):
            left = self.boolean(ast.Or(), [left, self._and()], token)
        return left

    def _and(self) -> ast.expr:
        left = self._equality()
        while token := self.accept("&&", "and"):
            left = self.boolean(ast.And(), [left, self._equality()], token)
        return left

    def _equality(self) -> ast.expr:
        left = self._relational()
        while token := self.accept(*_EQUALITY):
            left = self.compare(left, _EQUALITY[token.text](), self._relational(), token)
        return left

    def _relational(self) -> ast.expr:
        left = self._additive()
        while token := self.accept(*_RELATIONAL):
            left = self.compare(left, _RELATIONAL[token.text](), self._additive(), token)
        return left

    def _additive(self) -> ast.expr:
        left = self._multiplicative()
        while token := self.accept("+", "-"):
            operator = ast.Add() if token.text == "+" else ast.Sub()
            left = self.binary(left, operator, self._multiplicative(), token)
        return left

    def _multiplicative(self) -> ast.expr:
        left = self._unary()
        while token := self.accept(*_MULTIPLICATIVE):
            left = self.binary(left, _MULTIPLICATIVE[token.text](), self._unary(), token)
        return left

    def _unary(self) -> ast.expr:
        if token := self.accept("-"):
            return self.lexer.locate(ast.UnaryOp(op=ast.USub(), operand=self._unary()), token)
        if token := self.accept("!", "not"):
            return self.lexer.locate(ast.UnaryOp(op=ast.Not(), operand=self._unary()), token)
        if token := self.accept("empty"):
            return self.guard("empty", [self._unary()], token)
        return self._value()

    def _value(self) -> ast.expr:
        value = self._primary()
        while True:
            if token := self.accept("."):
                name = self.lexer.advance()
                if name.kind != NAME:
                    raise self.lexer.error("expected a property name after '.'", name.start)
                if self.accept("("):
                    value = self.guard("jcall", [value, ast.Constant(name.value), *self.items(")")], name)
                else:
                    value = self.guard("member", [value, ast.Constant(name.value)], name)
            elif token := self.accept("["):
                key = self.expression()
                self.expect("]")
                value = self.guard("member", [value, key], token)
            else:
                return value

    def _primary(self) -> ast.expr:
        token = self.lexer.advance()
        if token.kind in (NUMBER, STRING):
            return self.lexer.locate(ast.Constant(token.value), token)
        if token.kind == NAME and token.text in _LITERALS:
            return self.lexer.locate(ast.Constant(_LITERALS[token.text]), token)
        if token.kind == NAME and token.text not in _RESERVED:
            if keyword.iskeyword(token.text):
                raise self.lexer.error(f"'{token.text}' cannot be used as a name", token.start)
            name = self.lexer.locate(ast.Name(id=token.text, ctx=ast.Load()), token)
            if self.accept("("):
                return self.lexer.locate(ast.Call(func=name, args=self.items(")"), keywords=[]), token)
            return name
        if token.kind == OPERATOR and token.text == "(":
            inner = self.expression()
            self.expect(")")
            return inner
        return self._unexpected(token)

    def _unexpected(self, token: Token) -> ast.expr:
        found = "the end of the expression" if token.kind == END else f"'{token.text}'"
        raise self.lexer.error(f"unexpected {found}", token.start)
