"""JUEL, the expression language of Camunda 7 files: ``${amount > 1000 && approved}``.

A text may hold several ``${…}`` (or deferred ``#{…}``) parts between literal text. Each part is
checked by translating its tokens to Python (``&&`` → ``and``, ``eq`` → ``==``, ``empty`` and
``!`` → ``not``, ``true`` / ``false`` / ``null`` → ``True`` / ``False`` / ``None``, ``a ? b : c``
→ ``a if b else c``, which has the same shape) and parsing the result with the Python checker, so
the sandbox rules apply to JUEL as well. Positions in messages point into the text as written.
"""

from __future__ import annotations

import keyword
import re
from bisect import bisect_right
from collections.abc import Iterator

from apg_workflow.expressions.dialects import JUEL_MARKERS
from apg_workflow.expressions.errors import ExpressionSyntaxError
from apg_workflow.expressions.python import parse_python

_TOKEN = re.compile(
    r"""
     (?P<space>\s+)
    |(?P<string>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
    |(?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
    |(?P<function>[A-Za-z_$][\w$]*:[A-Za-z_$][\w$]*(?=\s*\())
    |(?P<name>[A-Za-z_$][\w$]*)
    |(?P<operator>&&|\|\||==|!=|<=|>=|[-+*/%!<>?:.,()\[\]{}])
    """,
    re.VERBOSE | re.DOTALL,
)
_WORDS = {
    "and": "and",
    "or": "or",
    "not": "not",
    "empty": "not",
    "eq": "==",
    "ne": "!=",
    "gt": ">",
    "lt": "<",
    "ge": ">=",
    "le": "<=",
    "div": "/",
    "mod": "%",
    "true": "True",
    "false": "False",
    "null": "None",
}
_OPERATORS = {"&&": "and", "||": "or", "!": "not", "?": "if", ":": "else"}
# Python's words for a problem, where they name a token of the translation rather than the source.
_REASONS = {"expected 'else' after 'if' expression": "`?` needs a matching `:`"}


def check_juel(text: str) -> None:
    """Raise :class:`ExpressionSyntaxError` when a ``${…}`` part of ``text`` does not parse.

    A text without any ``${…}`` (its language declared as JUEL) is one expression as a whole.
    """
    parts = list(_parts(text)) or [(0, len(text))]
    for start, end in parts:
        _check_part(text, start, end)


def _parts(text: str) -> Iterator[tuple[int, int]]:
    """The (start, end) offsets of the body of each ``${…}`` / ``#{…}``."""
    position = 0
    while True:
        found = [i for i in (text.find(opener, position) for opener in JUEL_MARKERS) if i >= 0]
        if not found:
            return
        opener = min(found)
        end = _closing_brace(text, opener + 2)
        if end is None:
            raise ExpressionSyntaxError.at_offset(
                f"`{text[opener : opener + 2]}` is never closed", text, opener
            )
        yield opener + 2, end
        position = end + 1


def _closing_brace(text: str, start: int) -> int | None:
    """The offset of the ``}`` that closes a body starting at ``start`` (quotes and nesting skipped)."""
    depth, quote, index = 0, "", start
    while index < len(text):
        char = text[index]
        if quote:
            if char == "\\":
                index += 1
            elif char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif char == "{":
            depth += 1
        elif char == "}":
            if depth == 0:
                return index
            depth -= 1
        index += 1
    return None


def _check_part(text: str, start: int, end: int) -> None:
    if not text[start:end].strip():
        raise ExpressionSyntaxError.at_offset("the expression is empty", text, max(start - 2, 0))
    pieces: list[str] = []
    origins: list[int] = []
    position = start
    while position < end:
        match = _TOKEN.match(text, position, end)
        if match is None:
            raise ExpressionSyntaxError.at_offset(_unexpected(text[position]), text, position)
        if match.lastgroup != "space":
            pieces.append(_to_python(match.lastgroup or "", match.group()))
            origins.append(position)
        position = match.end()
    python = " ".join(pieces)
    starts = [0]
    for piece in pieces[:-1]:
        starts.append(starts[-1] + len(piece) + 1)
    try:
        parse_python(python)
    except ExpressionSyntaxError as exc:
        column = (exc.column or 1) - 1
        offset = end if column >= len(python) else origins[bisect_right(starts, column) - 1]
        raise ExpressionSyntaxError.at_offset(_REASONS.get(exc.reason, exc.reason), text, offset) from None


def _to_python(kind: str, token: str) -> str:
    if kind == "string":
        return "''"  # the content does not matter to the syntax, and Python escapes differ
    if kind == "function":
        return token.replace(":", "_").replace("$", "_")
    if kind == "name":
        if token in _WORDS:
            return _WORDS[token]
        safe = token.replace("$", "_")
        return f"{safe}_" if keyword.iskeyword(safe) else safe
    return _OPERATORS.get(token, token)


def _unexpected(char: str) -> str:
    if char in "'\"":
        return "the string is never closed"
    if char == "=":
        return "`=` is not an operator in JUEL: compare with `==` or `eq`"
    return f"unexpected character '{char}'"
