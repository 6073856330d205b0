"""JUEL, the expression language of Camunda 7 files: ``${amount > 1000 && approved}``.

One translator serves the syntax checks and the sandbox. It parses ``${…}`` / ``#{…}``
expressions, and templates that mix them with text (``Hello ${name}!``, a string), into a Python
``ast`` expression whose nodes carry positions in the text as written, so that errors found then
or at run time point into it. ``&&`` and ``and``, ``eq`` and ``==``, ``div``, ``mod``, ``empty``,
``!``/``not``, ``a ? b : c``, ``null``/``true``/``false``, strings in ``'`` or ``"``, property
access ``a.b`` and ``a[k]`` (a missing key is ``null``), method calls ``items.size()`` and
functions ``fn:name(…)`` are JUEL's. Property access, method calls, ``empty`` and template text go
through the sandbox's guards (``__apg.member``, ``jcall``, ``empty``, ``text``).
"""

from __future__ import annotations

import ast
import bisect
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from apg_workflow.expressions.dialects import JUEL_MARKERS
from apg_workflow.expressions.errors import ExpressionSyntaxError
from apg_workflow.expressions.python import FORBIDDEN_CALLS

GUARDS = "__apg"
"""The name under which the sandbox gives compiled code its guards."""
MAX_DEPTH = 32
"""How deeply parentheses, conditionals and prefix operators may nest."""

NUMBER, STRING, NAME, OPERATOR, END = "number", "string", "name", "operator", "end"
_OPERATORS = sorted(
    ("&&", "||", "==", "!=", "<=", ">=", "<", ">", "!", "+", "-", "*", "/", "%", "?", ":", ".", "[", "]",
     "(", ")", ",", "}"),
    key=len,
    reverse=True,
)  # fmt: skip
_SPACE = re.compile(r"\s*")
_NUMBER = re.compile(r"(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_NAME = re.compile(r"(?:[^\W\d]|\$)[\w$]*")
_FUNCTION = re.compile(r":(?:[^\W\d]|\$)[\w$]*(?=\s*\()")  # the `:name(` of `fn:name(…)`
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r"}
_LITERALS = {"true": True, "false": False, "null": None}
_RESERVED = frozenset(
    {"and", "or", "not", "eq", "ne", "lt", "gt", "le", "ge", "div", "mod", "empty", "instanceof"}
)
_UNNAMEABLE = frozenset({"None", "True", "False"})  # Python cannot hold a variable so named
# Binary operators by precedence, loosest first.
_LEVELS: tuple[dict[str, type[ast.AST]], ...] = (
    {"||": ast.Or, "or": ast.Or},
    {"&&": ast.And, "and": ast.And},
    {"==": ast.Eq, "eq": ast.Eq, "!=": ast.NotEq, "ne": ast.NotEq},
    {"<": ast.Lt, "lt": ast.Lt, ">": ast.Gt, "gt": ast.Gt, "<=": ast.LtE, "le": ast.LtE, ">=": ast.GtE,
     "ge": ast.GtE},
    {"+": ast.Add, "-": ast.Sub},
    {"*": ast.Mult, "/": ast.Div, "div": ast.Div, "%": ast.Mod, "mod": ast.Mod},
)  # fmt: skip

Node = TypeVar("Node", bound=ast.AST)


def translate(text: str) -> ast.Expression:
    """``text`` as a Python expression; raises :class:`ExpressionSyntaxError` located in ``text``.

    A text without any ``${…}`` (its language declared as JUEL) is one expression as a whole.
    """
    parts: list[str | ast.expr] = []  # literal text and embedded expressions
    position = 0
    while (start := _next_marker(text, position)) >= 0:
        parts.append(text[position:start])
        parser = _Parser(text, start + 2, opener=start)
        parts.append(parser.embedded())
        position = parser.lexer.position
    parts.append(text[position:])
    expressions = [part for part in parts if not isinstance(part, str)]
    if not expressions:
        return ast.Expression(body=_Parser(text, 0, opener=None).whole())
    if len(expressions) == 1 and not "".join(part for part in parts if isinstance(part, str)).strip():
        return ast.Expression(body=expressions[0])
    values = [ast.Constant(part) if isinstance(part, str) else _as_text(part) for part in parts if part != ""]
    return ast.Expression(body=ast.JoinedStr(values=values))


def _next_marker(text: str, position: int) -> int:
    return min((found for marker in JUEL_MARKERS if (found := text.find(marker, position)) >= 0), default=-1)


def _as_text(expression: ast.expr) -> ast.FormattedValue:
    """An embedded expression as template text (``null`` as nothing, booleans as Java writes them)."""
    call = ast.copy_location(ast.Call(func=_guard("text"), args=[expression], keywords=[]), expression)
    return ast.copy_location(ast.FormattedValue(value=call, conversion=-1, format_spec=None), expression)


def _guard(name: str) -> ast.Attribute:
    return ast.Attribute(value=ast.Name(id=GUARDS, ctx=ast.Load()), attr=name, ctx=ast.Load())


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str
    text: str
    value: Any
    start: int
    end: int


class _Lexer:
    """Tokens of ``text`` from ``position``, read on demand (a template mixes text and expressions)."""

    def __init__(self, text: str, position: int) -> None:
        self.text = text
        self.position = position
        self._line_starts = [0] + [i + 1 for i, char in enumerate(text) if char == "\n"]
        self._peeked: _Token | None = None

    def peek(self) -> _Token:
        if self._peeked is None:
            self._peeked = self._read()
        return self._peeked

    def advance(self) -> _Token:
        token = self.peek()
        self._peeked = None
        return token

    def error(self, reason: str, offset: int) -> ExpressionSyntaxError:
        return ExpressionSyntaxError.at_offset(reason, self.text, offset)

    def locate(self, node: Node, token: _Token) -> Node:
        """Give ``node`` the position of ``token``, as line and 0-based character offset."""
        for side, offset in (("", token.start), ("end_", token.end)):
            line = bisect.bisect_right(self._line_starts, offset)
            setattr(node, f"{side}lineno", line)
            setattr(node, f"{side}col_offset", offset - self._line_starts[line - 1])
        return node

    def _read(self) -> _Token:
        text = self.text
        position = _SPACE.match(text, self.position).end()  # type: ignore[union-attr]
        self.position = position
        if position >= len(text):
            return _Token(END, "", None, position, position)
        char = text[position]
        if char in "'\"":
            return self._string(position)
        if number := _NUMBER.match(text, position):
            value = float(number.group()) if any(c in number.group() for c in ".eE") else int(number.group())
            return self._token(NUMBER, number.group(), value, position)
        if name := _NAME.match(text, position):
            if name.group().startswith("__"):
                raise self.error(f"the name '{name.group()}' is not available", position)
            function = _FUNCTION.match(text, name.end())
            word = name.group() + (function.group() if function else "")
            return self._token(NAME, word, word, position)
        operator = next((op for op in _OPERATORS if text.startswith(op, position)), None)
        if operator is not None:
            return self._token(OPERATOR, operator, operator, position)
        if char == "=":
            raise self.error("`=` is not an operator in JUEL: compare with `==` or `eq`", position)
        raise self.error(f"unexpected character `{char}`", position)

    def _token(self, kind: str, text: str, value: Any, start: int) -> _Token:
        self.position = start + len(text)
        return _Token(kind, text, value, start, self.position)

    def _string(self, start: int) -> _Token:
        text, quote, chars, position = self.text, self.text[start], [], start + 1
        while position < len(text) and text[position] != quote:
            if text[position] == "\\" and position + 1 < len(text):
                position += 1
                chars.append(_ESCAPES.get(text[position], text[position]))
            else:
                chars.append(text[position])
            position += 1
        if position >= len(text):
            raise self.error("the string is never closed", start)
        self.position = position + 1
        return _Token(STRING, text[start : position + 1], "".join(chars), start, position + 1)


class _Parser:
    """Recursive descent over one expression; ``opener`` is the offset of its ``${`` if any."""

    def __init__(self, text: str, start: int, *, opener: int | None) -> None:
        self.lexer = _Lexer(text, start)
        self._opener = opener
        self._depth = 0

    def embedded(self) -> ast.expr:
        """The body of a ``${…}``, through its ``}``."""
        assert self._opener is not None
        if self._at("}"):
            raise self.lexer.error("the expression is empty", self._opener)
        body = self.expression()
        if not self._accept("}"):
            raise self._unexpected(self.lexer.peek())
        return body

    def whole(self) -> ast.expr:
        """The whole text as one expression."""
        if not self.lexer.text.strip():
            raise ExpressionSyntaxError("the expression is empty")
        body = self.expression()
        token = self.lexer.peek()
        if token.kind != END:
            raise self._unexpected(token)
        return body

    def expression(self) -> ast.expr:
        with self._nested(self.lexer.peek()):
            condition = self._binary(0)
            question = self._accept("?")
            if question is None:
                return condition
            when_true = self.expression()
            if not self._accept(":"):
                raise self.lexer.error("`?` needs a matching `:`", question.start)
            when_false = self.expression()
        return self.lexer.locate(ast.IfExp(test=condition, body=when_true, orelse=when_false), question)

    def _binary(self, level: int) -> ast.expr:
        if level == len(_LEVELS):
            return self._unary()
        operators = _LEVELS[level]
        left = self._binary(level + 1)
        while token := self._accept(*operators):
            right = self._binary(level + 1)
            operator = operators[token.text]()
            node: ast.expr
            if isinstance(operator, ast.boolop):
                node = ast.BoolOp(op=operator, values=[left, right])
            elif isinstance(operator, ast.cmpop):
                node = ast.Compare(left=left, ops=[operator], comparators=[right])
            else:
                assert isinstance(operator, ast.operator)
                node = ast.BinOp(left=left, op=operator, right=right)
            left = self.lexer.locate(node, token)
        return left

    def _unary(self) -> ast.expr:
        token = self._accept("-", "!", "not", "empty")
        if token is None:
            return self._value()
        with self._nested(token):
            operand = self._unary()
        if token.text == "empty":
            return self._call_guard("empty", [operand], token)
        operator = ast.USub() if token.text == "-" else ast.Not()
        return self.lexer.locate(ast.UnaryOp(op=operator, operand=operand), token)

    def _value(self) -> ast.expr:
        value = self._primary()
        while True:
            if self._accept("."):
                name = self.lexer.advance()
                if name.kind != NAME or ":" in name.text:
                    raise self.lexer.error("expected a property name after `.`", name.start)
                if self._accept("("):
                    value = self._call_guard(
                        "jcall", [value, ast.Constant(name.value), *self._items(")")], name
                    )
                else:
                    value = self._call_guard("member", [value, ast.Constant(name.value)], name)
            elif token := self._accept("["):
                key = self.expression()
                self._expect("]")
                value = self._call_guard("member", [value, key], token)
            else:
                return value

    def _primary(self) -> ast.expr:
        token = self.lexer.advance()
        if token.kind in (NUMBER, STRING):
            return self.lexer.locate(ast.Constant(token.value), token)
        if token.kind == NAME and token.text in _LITERALS:
            return self.lexer.locate(ast.Constant(_LITERALS[token.text]), token)
        if token.kind == NAME and token.text not in _RESERVED:
            if token.text in _UNNAMEABLE:
                raise self.lexer.error(f"'{token.text}' cannot be used as a name", token.start)
            name = self.lexer.locate(ast.Name(id=token.text, ctx=ast.Load()), token)
            if not self._at("("):
                return name
            if token.text in FORBIDDEN_CALLS:
                raise self.lexer.error(f"'{token.text}()' is not available", token.start)
            self.lexer.advance()
            return self.lexer.locate(ast.Call(func=name, args=self._items(")"), keywords=[]), token)
        if token.kind == OPERATOR and token.text == "(":
            inner = self.expression()
            self._expect(")")
            return inner
        raise self._unexpected(token)

    # ---- helpers --------------------------------------------------------------------------

    @contextmanager
    def _nested(self, token: _Token) -> Iterator[None]:
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise self.lexer.error("the expression is nested too deeply", token.start)
        try:
            yield
        finally:
            self._depth -= 1

    def _unexpected(self, token: _Token) -> ExpressionSyntaxError:
        if token.kind == END and self._opener is not None:
            marker = self.lexer.text[self._opener : self._opener + 2]
            return self.lexer.error(f"`{marker}` is never closed", self._opener)
        if token.kind == END:
            return self.lexer.error("unexpected end of expression", len(self.lexer.text.rstrip()))
        if token.text == "}" and self._opener is not None:
            return self.lexer.error("unexpected end of expression", token.start)
        return self.lexer.error(f"unexpected `{token.text}`", token.start)

    def _items(self, closer: str) -> list[ast.expr]:
        """Comma-separated expressions after an opening bracket, through ``closer``."""
        found: list[ast.expr] = []
        if not self._accept(closer):
            found.append(self.expression())
            while self._accept(","):
                found.append(self.expression())
            self._expect(closer)
        return found

    def _at(self, *texts: str) -> bool:
        token = self.lexer.peek()
        return token.kind in (OPERATOR, NAME) and token.text in texts

    def _accept(self, *texts: str) -> _Token | None:
        return self.lexer.advance() if self._at(*texts) else None

    def _expect(self, text: str) -> _Token:
        token = self.lexer.peek()
        if not self._at(text):
            if token.kind == END or token.text == "}":
                raise self._unexpected(token)
            raise self.lexer.error(f"expected `{text}` but found `{token.text}`", token.start)
        return self.lexer.advance()

    def _call_guard(self, name: str, args: list[ast.expr], token: _Token) -> ast.Call:
        """A call of the guard ``__apg.name(*args)`` placed at ``token``."""
        return self.lexer.locate(ast.Call(func=_guard(name), args=args, keywords=[]), token)
