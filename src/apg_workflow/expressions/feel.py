"""FEEL, the expression language of Camunda 8 files (``=amount > 1000``) and DMN.

FEEL is checked for structure only: strings and backtick names are closed, brackets balance, and
no operator is obviously broken (``==``, ``&&``, ``||`` and ``!`` from other languages, a dangling
operator at either end, two comparison or logical operators in a row). FEEL names may contain
spaces and characters such as ``-`` or ``/``, so a full parse needs the variables in scope; a text
that passes here can still fail when it is evaluated.
"""

from __future__ import annotations

import re

from apg_workflow.expressions.errors import ExpressionSyntaxError

_CLOSERS = {")": "(", "]": "[", "}": "{"}
_FOREIGN = {
    "==": "FEEL compares with `=`, not `==`",
    "&&": "FEEL writes `and`, not `&&`",
    "||": "FEEL writes `or`, not `||`",
    "!": "FEEL negates with `not(…)`, not `!`",
}
# Operators, longest first; words only as whole words.
_OPERATOR = re.compile(r"==|&&|\|\||!=|<=|>=|\*\*|[-+*/<>=!]|\b(?:and|or)\b")
_BINARY_ONLY = frozenset({"*", "/", "**", "<", ">", "<=", ">=", "=", "!=", "and", "or"})
_JOINING = frozenset({"<", ">", "<=", ">=", "=", "!=", "and", "or"})


def check_feel(text: str) -> None:
    """Raise :class:`ExpressionSyntaxError` when ``text`` is not well-formed FEEL."""
    start = len(text) - len(text.lstrip())
    if text[start:].startswith("="):  # Camunda 8 marks expressions with a leading '='
        start += 1
    if not text[start:].strip():
        raise ExpressionSyntaxError("the expression is empty")
    code = _blank_out_literals(text, start)
    _check_brackets(text, code)
    _check_operators(text, code, start)


def _blank_out_literals(text: str, start: int) -> str:
    """``text`` with strings, backtick names and comments replaced by spaces (same offsets)."""
    chars = list(text)
    chars[:start] = " " * start
    index = start
    while index < len(text):
        char = text[index]
        if char in '"`':
            close = _closing_quote(text, index)
            chars[index + 1 : close] = " " * (close - index - 1)
            index = close + 1
        elif text.startswith("//", index):
            close = text.find("\n", index)
            close = len(text) if close < 0 else close
            chars[index:close] = " " * (close - index)
            index = close
        elif text.startswith("/*", index):
            close = text.find("*/", index + 2)
            if close < 0:
                raise ExpressionSyntaxError.at_offset("the comment is never closed", text, index)
            chars[index : close + 2] = " " * (close + 2 - index)
            index = close + 2
        else:
            index += 1
    return "".join(chars)


def _closing_quote(text: str, opening: int) -> int:
    quote, index = text[opening], opening + 1
    while index < len(text):
        if text[index] == "\\":
            index += 2
            continue
        if text[index] == quote:
            return index
        index += 1
    what = "string" if quote == '"' else "name in backticks"
    raise ExpressionSyntaxError.at_offset(f"the {what} is never closed", text, opening)


def _check_brackets(text: str, code: str) -> None:
    """Brackets balance. Ranges may mix them: ``[1..10)``, ``(0..1]``, ``]0..1[``."""
    stack: list[tuple[str, int]] = []
    for index, char in enumerate(code):
        if char == "]" and _opens_range(code, index):
            stack.append(("]", index))
        elif char == "[" and stack and stack[-1][0] == "]" and ".." in code[stack[-1][1] : index]:
            stack.pop()
        elif char in "([{":
            stack.append((char, index))
        elif char in _CLOSERS:
            if not stack:
                raise ExpressionSyntaxError.at_offset(f"`{char}` closes nothing", text, index)
            opener, opened_at = stack.pop()
            if opener != _CLOSERS[char] and not _is_range(code, opener, opened_at, char, index):
                column = opened_at - text.rfind("\n", 0, opened_at)
                raise ExpressionSyntaxError.at_offset(
                    f"`{char}` cannot close the `{opener}` of column {column}", text, index
                )
    if stack:
        opener, opened_at = stack[-1]
        raise ExpressionSyntaxError.at_offset(f"`{opener}` is never closed", text, opened_at)


def _opens_range(code: str, index: int) -> bool:
    """True for the ``]`` of ``]0..1[``: a range follows before any other bracket."""
    rest = re.match(r"[^()\[\]{}]*", code[index + 1 :])
    return (
        rest is not None
        and ".." in rest.group()
        and code[index + 1 + rest.end() : index + 2 + rest.end()] == "["
    )


def _is_range(code: str, opener: str, opened_at: int, closer: str, closed_at: int) -> bool:
    return opener in "([" and closer in ")]" and ".." in code[opened_at:closed_at]


def _check_operators(text: str, code: str, start: int) -> None:
    previous: re.Match[str] | None = None
    for match in _OPERATOR.finditer(code, start):
        operator = match.group()
        if operator in _FOREIGN:
            raise ExpressionSyntaxError.at_offset(_FOREIGN[operator], text, match.start())
        if operator in _BINARY_ONLY and not code[start : match.start()].strip():
            raise ExpressionSyntaxError.at_offset(
                f"the expression starts with `{operator}`", text, match.start()
            )
        if (
            previous is not None
            and previous.group() in _JOINING
            and operator in _JOINING
            and not code[previous.end() : match.start()].strip()
        ):
            raise ExpressionSyntaxError.at_offset(
                f"`{operator}` follows `{previous.group()}` with nothing between them", text, match.start()
            )
        previous = match
    if previous is not None and not code[previous.end() :].strip():
        raise ExpressionSyntaxError.at_offset(
            f"the expression ends with `{previous.group()}`", text, previous.start()
        )
