"""The small lexer and parser base that the JUEL and FEEL translators share.

Both translate to Python ``ast`` nodes that carry positions in the text as written, so that the
sandbox reports errors (and checks, and guards) exactly as it does for Python.
"""

from __future__ import annotations

import ast
import bisect
import re
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, TypeVar

from apg_workflow.expressions.sandbox.errors import ExpressionError

NUMBER, STRING, NAME, OPERATOR, END = "number", "string", "name", "operator", "end"
GUARDS = "__apg"

_SPACE = re.compile(r"\s*")
_NUMBER = re.compile(r"(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

Node = TypeVar("Node", bound=ast.AST)


@dataclass(frozen=True, slots=True)
class Token:
    kind: str
    text: str
    value: Any
    start: int
    end: int


class Lexer:
    """Tokens of ``text`` from ``start``, read on demand (a template mixes text and expressions)."""

    def __init__(
        self, text: str, start: int, *, operators: tuple[str, ...], quotes: str, dialect: str
    ) -> None:
        self.text = text
        self._position = start
        self._operators = sorted(operators, key=len, reverse=True)
        self._quotes = quotes
        self._dialect = dialect
        self._line_starts = [0] + [i + 1 for i, char in enumerate(text) if char == "\n"]
        self._peeked: Token | None = None

    def peek(self) -> Token:
        if self._peeked is None:
            self._peeked = self._read()
        return self._peeked

    def advance(self) -> Token:
        token = self.peek()
        self._peeked = None
        return token

    def error(self, message: str, offset: int) -> ExpressionError:
        line = bisect.bisect_right(self._line_starts, offset)
        start = self._line_starts[line - 1]
        end = self.text.find("\n", start)
        snippet = self.text[start : end if end >= 0 else len(self.text)]
        return ExpressionError(
            f"{self._dialect}: {message}", line=line, column=offset - start + 1, snippet=snippet
        )

    def locate(self, node: Node, token: Token, end: Token | None = None) -> Node:
        """Give ``node`` the position of ``token`` (through ``end``)."""
        line = bisect.bisect_right(self._line_starts, token.start)
        last = end or token
        end_line = bisect.bisect_right(self._line_starts, last.end)
        node.lineno, node.col_offset = line, token.start - self._line_starts[line - 1]  # type: ignore[attr-defined]
        node.end_lineno, node.end_col_offset = end_line, last.end - self._line_starts[end_line - 1]  # type: ignore[attr-defined]
        return node

    def _read(self) -> Token:
        text = self.text
        position = _SPACE.match(text, self._position).end()  # type: ignore[union-attr]
        self._position = position
        if position >= len(text):
            return Token(END, "", None, position, position)
        char = text[position]
        if char in self._quotes:
            return self._string(position)
        number = _NUMBER.match(text, position)
        if number:
            return self._token(NUMBER, number.group(), _number(number.group()), position)
        name = _NAME.match(text, position)
        if name:
            if name.group().startswith("__"):
                raise self.error(f"the name '{name.group()}' is not available", position)
            return self._token(NAME, name.group(), name.group(), position)
        for operator in self._operators:
            if text.startswith(operator, position):
                return self._token(OPERATOR, operator, operator, position)
        raise self.error(f"unexpected character {char!r}", position)

    def _token(self, kind: str, text: str, value: Any, start: int) -> Token:
        self._position = start + len(text)
        return Token(kind, text, value, start, self._position)

    def _string(self, start: int) -> Token:
        quote, text, chars, position = self.text[start], self.text, [], start + 1
        while position < len(text) and text[position] != quote:
            if text[position] == "\\" and position + 1 < len(text):
                position += 1
                chars.append(_ESCAPES.get(text[position], text[position]))
            else:
                chars.append(text[position])
            position += 1
        if position >= len(text):
            raise self.error("unterminated string", start)
        self._position = position + 1
        return Token(STRING, text[start : position + 1], "".join(chars), start, position + 1)


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r"}


def _number(text: str) -> int | float:
    return float(text) if any(char in text for char in ".eE") else int(text)


class Parser(ABC):
    """Recursive-descent helpers over a :class:`Lexer`."""

    def __init__(self, lexer: Lexer) -> None:
        self.lexer = lexer

    @abstractmethod
    def expression(self) -> ast.expr:
        """Parse one expression of the dialect."""

    def items(self, closer: str) -> list[ast.expr]:
        """Comma-separated expressions after an opening bracket, through ``closer``."""
        found: list[ast.expr] = []
        if not self.accept(closer):
            found.append(self.expression())
            while self.accept(","):
                found.append(self.expression())
            self.expect(closer)
        return found

    def at(self, *texts: str) -> bool:
        """Whether the next token is one of ``texts`` (operators or keywords)."""
        token = self.lexer.peek()
        return token.kind in (OPERATOR, NAME) and token.text in texts

    def accept(self, *texts: str) -> Token | None:
        return self.lexer.advance() if self.at(*texts) else None

    def expect(self, text: str) -> Token:
        token = self.lexer.peek()
        if not self.at(text):
            found = "the end" if token.kind == END else f"'{token.text}'"
            raise self.lexer.error(f"expected '{text}' but found {found}", token.start)
        return self.lexer.advance()

    def guard(self, name: str, args: list[ast.expr], token: Token) -> ast.Call:
        """A call of the guard ``__apg.name(*args)`` placed at ``token``."""
        func = ast.Attribute(value=ast.Name(id=GUARDS, ctx=ast.Load()), attr=name, ctx=ast.Load())
        return self.lexer.locate(ast.Call(func=func, args=args, keywords=[]), token)

    def compare(self, left: ast.expr, operator: ast.cmpop, right: ast.expr, token: Token) -> ast.Compare:
        return self.lexer.locate(ast.Compare(left=left, ops=[operator], comparators=[right]), token)

    def binary(self, left: ast.expr, operator: ast.operator, right: ast.expr, token: Token) -> ast.BinOp:
        return self.lexer.locate(ast.BinOp(left=left, op=operator, right=right), token)

    def boolean(self, operator: ast.boolop, values: list[ast.expr], token: Token) -> ast.BoolOp:
        return self.lexer.locate(ast.BoolOp(op=operator, values=values), token)
