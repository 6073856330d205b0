"""Parsing FEEL text, and syntax errors in the words a designer reads, located in the text."""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache
from importlib.resources import files

from lark import Lark, Token, Tree, UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from apg_workflow.expressions.errors import ExpressionSyntaxError

MAX_LENGTH = 10_000
# Operators of other languages, with what FEEL writes instead.
_FOREIGN = (
    (re.compile(r"=="), "FEEL compares with `=`, not `==`"),
    (re.compile(r"&&"), "FEEL writes `and`, not `&&`"),
    (re.compile(r"\|\|"), "FEEL writes `or`, not `||`"),
    (re.compile(r"!(?!=)"), "FEEL negates with `not(…)`, not `!`"),
)
_OPEN_COMMENT = (re.compile(r"/\*"), "the comment is never closed")
_CLOSERS = {")": "(", "]": "[", "}": "{"}
_BRACKETS = frozenset("()[]{}")
_CLOSING_TERMINALS = frozenset({"RPAR", "RSQB", "RBRACE", "CLOSING_LSQB"})
_RANGE = ".."


def parse(text: str, start: str, *, comments: bool, source: str) -> Tree:
    """The parse tree of ``text`` from the grammar rule ``start``; ``//`` and ``/* */`` comments are
    read as comments when ``comments`` is set. Errors are located in ``source``, the text as
    written, which has the same offsets (``text`` may have blanked a leading ``=``)."""
    if len(text) > MAX_LENGTH:
        raise ExpressionSyntaxError(f"the expression is longer than {MAX_LENGTH} characters")
    parser = _parser(comments)
    try:
        return parser.parse(text, start=start)
    except UnexpectedInput as exc:
        reason, offset = _diagnosis(exc, text, parser, comments=comments)
        raise ExpressionSyntaxError.at_offset(reason, source, offset) from None


@cache
def _parser(comments: bool) -> Lark:
    grammar = files(__package__).joinpath("feel.lark").read_text(encoding="utf-8")
    if comments:
        grammar += "\n%ignore COMMENT\n"
    return Lark(grammar, parser="lalr", start=["unary_tests", "expression"], maybe_placeholders=True)


def _diagnosis(exc: UnexpectedInput, text: str, parser: Lark, *, comments: bool) -> tuple[str, int]:
    """What is wrong, and at which offset."""
    at_end = (isinstance(exc, UnexpectedToken) and exc.token.type == "$END") or isinstance(exc, UnexpectedEOF)
    offset = len(text.rstrip()) if at_end else _offset_of(exc)
    known = (*_FOREIGN, _OPEN_COMMENT) if comments else _FOREIGN
    for start in (max(offset - 1, 0), offset):  # the token in error, or the character before it
        for pattern, reason in known:
            if pattern.match(text, start):
                return reason, start
    brackets = _bracket_error(text, parser)
    # At the end, a bracket left open is the problem only if closing it would complete the text.
    closable = bool(_CLOSING_TERMINALS & set(getattr(exc, "expected", ())))
    if brackets is not None and (closable if at_end else brackets[1] <= offset):
        return brackets
    if at_end:
        return "unexpected end of expression", offset
    if isinstance(exc, UnexpectedCharacters):
        char = text[offset]
        reason = "the string is never closed" if char == '"' else f"unexpected character `{char}`"
        return reason, offset
    token = exc.token if isinstance(exc, UnexpectedToken) else text[offset : offset + 1]
    return f"unexpected `{token}`", offset


def _offset_of(exc: UnexpectedInput) -> int:
    return (exc.token.start_pos if isinstance(exc, UnexpectedToken) else exc.pos_in_stream) or 0


def _bracket_error(text: str, parser: Lark) -> tuple[str, int] | None:
    """The first bracket that closes nothing, closes the wrong opener or is never closed, with its
    offset. Ranges may mix brackets: ``[1..10)``,
    ``]0..1[``, ``(0..1]``."""
    tokens = list(_tokens(text, parser))
    stack: list[tuple[str, int, bool]] = []  # opener, its offset, whether it holds a range
    for index, token in enumerate(tokens):
        value, offset = str(token), token.start_pos or 0
        in_range = bool(stack) and stack[-1][2]
        if value == _RANGE and stack:
            stack[-1] = (*stack[-1][:2], True)
        elif (value in ("(", "{") or (value == "[" and not in_range)) or (
            value == "]" and _opens_range(tokens, index)
        ):
            stack.append((value, offset, False))
        elif value in _BRACKETS:
            if not stack:
                return f"`{value}` closes nothing", offset
            opener, opened_at, holds_range = stack.pop()
            if _CLOSERS.get(value) != opener and not (holds_range and value in ")][" and opener in "([]"):
                column = opened_at - text.rfind("\n", 0, opened_at)
                return f"`{value}` cannot close the `{opener}` of column {column}", offset
    if stack:
        opener, opened_at, _ = stack[-1]
        return f"`{opener}` is never closed", opened_at
    return None


def _opens_range(tokens: list[Token], index: int) -> bool:
    """True for the ``]`` of ``]0..1[``: a ``..`` follows before any other bracket."""
    for token in tokens[index + 1 :]:
        if str(token) == _RANGE:
            return True
        if str(token) in _BRACKETS:
            return False
    return False


def _tokens(text: str, parser: Lark) -> Iterator[Token]:
    """The tokens of ``text`` up to the first character no token matches."""
    try:
        yield from parser.lex(text)
    except UnexpectedInput:
        return
