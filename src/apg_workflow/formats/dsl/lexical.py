"""The lexical rules the DSL reader and writer share: names, quoted text and block text.

The patterns here mirror the terminals of ``grammar.lark``; keeping them in one module means the
writer only ever produces what the reader accepts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# An id or bare word (grammar NAME): letters, digits, ``_``, ``.`` and ``-`` (but never ``->``).
NAME = re.compile(r"[^\W\d][\w.]*(?:-(?!>)[\w.]*)*")
# A mapping key written without quotes (grammar KEY_COLON, less the colon).
KEY = re.compile(r"[a-z_][\w\-]*")

_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "`": "`", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}
_WRITE_ESCAPES = {"\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_ESCAPE = re.compile(r"\\(u[0-9a-fA-F]{4}|.)", re.DOTALL)
_NEEDS_ESCAPE = re.compile(r'[\\"`\x00-\x1f\x7f-\x9f\u2028\u2029]')
_UNPRINTABLE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_BAD_ESCAPE = "'\\{code}' is not an escape: write \\\\ for a backslash, \\\" for a quote, \\n for a new line"


class LexicalError(ValueError):
    """Text that breaks a lexical rule; ``offset`` is where, relative to the text examined."""

    def __init__(self, message: str, offset: int = 0, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset
        self.line = line


def quote(text: str, mark: str = '"') -> str:
    """``text`` between ``mark`` characters (``"`` or a backtick), escaped like JSON."""

    def escape(match: re.Match[str]) -> str:
        char = match.group()
        if char in _WRITE_ESCAPES:
            return _WRITE_ESCAPES[char]
        if char in '"`':
            return "\\" + char if char == mark else char
        return f"\\u{ord(char):04x}"

    return mark + _NEEDS_ESCAPE.sub(escape, text) + mark


def unquote(token: str) -> str:
    """The text of a quoted token (``"..."`` or a backtick id), escapes resolved."""
    body = token[1:-1]
    parts: list[str] = []
    pos = 0
    for match in _ESCAPE.finditer(body):
        parts.append(body[pos : match.start()])
        pos = match.end()
        code = match.group(1)
        if len(code) == 5:
            parts.append(chr(int(code[1:], 16)))
        elif code in _ESCAPES:
            parts.append(_ESCAPES[code])
        else:
            raise LexicalError(_BAD_ESCAPE.format(code=code), match.start() + 1)
    parts.append(body[pos:])
    text = "".join(parts)
    if _SURROGATE.search(text):
        try:
            text = text.encode("utf-16", "surrogatepass").decode("utf-16")
        except UnicodeDecodeError:
            raise LexicalError("a \\u escape names half of a character without its other half") from None
    return text


def ident(text: str, reserved: frozenset[str]) -> str:
    """An id as written: bare when it is a plain name, else between backticks."""
    if NAME.fullmatch(text) and text not in reserved:
        return text
    return quote(text, "`")


def key(text: str) -> str:
    """A mapping key as written: ``name:`` when it is a plain lower-case key, else ``"Key":``."""
    return f"{text}:" if KEY.fullmatch(text) else f"{quote(text)}:"


# ---------------------------------------------------------------------------------------------
# Block text: ``key: |`` followed by indented lines


_BLOCK_START = re.compile(
    r"^(?P<indent> *)(?P<head>(?:[^\W\d][\w.\-]*|\"(?:[^\"\\\n]|\\.)*\"):"
    r"(?:[ \t]+(?:[^\W\d][\w.\-]*|`(?:[^`\\\n]|\\.)*`))?)"
    r"[ \t]+\|(?P<chomp>-?)[ \t]*(?:#.*)?$"
)


@dataclass(frozen=True, slots=True)
class BlockText:
    """How a text is written as a block: ``|`` (one final newline) or ``|-`` (none), and its lines."""

    marker: str
    lines: tuple[str, ...]


def as_block(text: str) -> BlockText | None:
    """The block form of ``text`` when it reads back exactly, else ``None`` (write it quoted)."""
    body, marker = (text[:-1], "|") if text.endswith("\n") else (text, "|-")
    if "\n" not in body or "\r" in body or body.endswith("\n"):
        return None
    lines = body.split("\n")
    if any(line and not line.strip(" \t") for line in lines) or not lines[-1]:
        return None
    first = next(line for line in lines if line)
    if first.startswith(" ") or _UNPRINTABLE.search(body):
        return None
    return BlockText(marker, tuple(lines))


def fold_blocks(text: str) -> str:
    """Replace each block text by a quoted string on its key's line, keeping every line number.

    Block text starts with a property line ending in ``|`` (or ``|-``); its content is every
    following line indented deeper than the key, less the indentation of its first line. ``|``
    keeps one final newline, ``|-`` none; blank lines at the end are not part of the text.
    """
    lines = text.split("\n")
    out: list[str] = []
    index = 0
    while index < len(lines):
        start = _BLOCK_START.match(lines[index])
        if start is None:
            out.append(lines[index])
            index += 1
            continue
        key_indent = len(start["indent"])
        end = index + 1
        while end < len(lines):
            line = lines[end]
            if line.strip(" \t") and len(line) - len(line.lstrip(" ")) <= key_indent:
                break
            end += 1
        body = [line if line.strip(" \t") else "" for line in lines[index + 1 : end]]
        while body and not body[-1]:
            body.pop()
        content = "\n".join(_dedent(body, index + 2))
        if content and not start["chomp"]:
            content += "\n"
        out.append(f"{start['indent']}{start['head']} {quote(content)}")
        out.extend([""] * (end - index - 1))
        index = end
    return "\n".join(out)


def _dedent(body: list[str], first_line: int) -> list[str]:
    if not body:
        return []
    first = next(line for line in body if line)
    indent = len(first) - len(first.lstrip(" "))
    dedented = []
    for offset, line in enumerate(body):
        if line and not line.startswith(" " * indent):
            raise LexicalError(
                "this line of the text block is indented less than the block's first line",
                line=first_line + offset,
            )
        dedented.append(line[indent:])
    return dedented


def check_indentation(text: str) -> None:
    """Refuse tab characters in indentation: their width is ambiguous."""
    for number, line in enumerate(text.split("\n"), start=1):
        stripped = line.lstrip(" \t")
        if stripped and not stripped.startswith("#") and "\t" in line[: len(line) - len(stripped)]:
            raise LexicalError("indent with spaces, not tabs", line.index("\t"), line=number)
