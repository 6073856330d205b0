"""DSL text → syntax tree: the lark LALR parser, the indentation post-lexer, and syntax errors a
person can act on (line, column, what was found, what was expected, and "did you mean …?")."""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from functools import cache
from importlib.resources import files
from typing import cast

from lark import Lark, Token
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken
from lark.indenter import Indenter

from apg_workflow.formats.dsl.lexical import LexicalError, check_indentation, fold_blocks
from apg_workflow.formats.dsl.syntax import Entry, Pos, SourceError, Statement
from apg_workflow.formats.dsl.transformer import ToSyntax

_KEYWORD_PRIORITY = 2
# What each terminal is, in words, in the order an "expected …" message lists them.
_DESCRIPTIONS = {
    "KEY_COLON": "a property (name: value)",
    "INLINE_KEY": "a property (name: value)",
    "NAME": "an id",
    "QID": "an id",
    "STRING": 'a "quoted text"',
    "NUMBER": "a number",
    "COLON": "':'",
    "ARROW": "'->'",
    "COMMA": "','",
    "LSQB": "'['",
    "RSQB": "']'",
    "LBRACE": "'{'",
    "RBRACE": "'}'",
    "_NL": "the end of the line",
    "_INDENT": "an indented block",
    "_DEDENT": "the end of the indented block",
    "$END": "the end of the file",
}
_MAX_LISTED_KEYWORDS = 10


class _Indentation(Indenter):
    """Leading spaces → ``_INDENT`` / ``_DEDENT`` tokens placed at the indented line."""

    NL_type = "_NL"
    OPEN_PAREN_types = ["LSQB", "LBRACE"]
    CLOSE_PAREN_types = ["RSQB", "RBRACE"]
    INDENT_type = "_INDENT"
    DEDENT_type = "_DEDENT"
    tab_len = 8

    def process(self, stream: Iterator[Token]) -> Iterator[Token]:
        # The parser is built once and shared, maybe by several threads: keep the state per parse.
        return Indenter.process(type(self)(), stream)

    def handle_NL(self, token: Token) -> Iterator[Token]:
        if self.paren_level > 0:
            return
        yield token
        indent = len(token.rsplit("\n", 1)[1])
        line, column, offset = token.end_line or 0, indent + 1, token.end_pos or 0
        if indent > self.indent_level[-1]:
            self.indent_level.append(indent)
            yield Token(self.INDENT_type, "", offset, line, column, line, column, offset)
            return
        levels = " or ".join(str(level) for level in reversed(self.indent_level))
        while indent < self.indent_level[-1]:
            self.indent_level.pop()
            yield Token(self.DEDENT_type, "", offset, line, column, line, column, offset)
        if indent != self.indent_level[-1]:
            raise SourceError(
                f"bad indentation: this line is indented by {indent} spaces, which lines up with no "
                f"enclosing block (indent it by {levels} spaces)",
                Pos(line, column),
            )


@cache
def _parser() -> Lark:
    grammar = files("apg_workflow.formats.dsl").joinpath("grammar.lark").read_text(encoding="utf-8")
    return Lark(
        grammar,
        parser="lalr",
        lexer="contextual",
        postlex=_Indentation(),
        maybe_placeholders=True,
        transformer=ToSyntax(),  # applied while parsing: no parse tree is built
    )


@cache
def keywords() -> tuple[str, ...]:
    """Every reserved word of the language, in the order the grammar lists them."""
    return tuple(
        t.pattern.value.split("(", 1)[0] for t in _parser().terminals if t.priority == _KEYWORD_PRIORITY
    )


@cache
def reserved_words() -> frozenset[str]:
    """Words that cannot be written as a bare id (write them between backticks)."""
    return frozenset(keywords())


def parse(text: str) -> list[Statement | Entry]:
    """The statements of a DSL source. Raises :class:`SourceError` with the line and column."""
    try:
        prepared = fold_blocks(text.lstrip("\ufeff").replace("\r\n", "\n"))
        check_indentation(prepared)
    except LexicalError as exc:
        raise SourceError(exc.message, Pos(exc.line or 0, exc.offset + 1)) from None
    try:
        statements = cast(list[Statement | Entry], _parser().parse(prepared + "\n"))
    except UnexpectedInput as exc:
        raise _syntax_error(exc, prepared) from None
    return statements


def _syntax_error(exc: UnexpectedInput, text: str) -> SourceError:
    line, column = exc.line, exc.column
    expected = _expected(exc)
    if isinstance(exc, UnexpectedCharacters):
        char = text[exc.pos_in_stream]
        if char in _UNCLOSED:
            return SourceError(_UNCLOSED[char], Pos(line, column))
        found = f"unexpected character {char!r}"
    elif isinstance(exc, UnexpectedToken):
        found = _found(exc.token, expected)
        if exc.token.type == "$END":
            line, column = text.count("\n") + 1, 1
    else:
        found = "unexpected end of file"
    message = f"{found}; expected {_describe(expected)}" if expected else found
    hint = _suggestion(exc, expected)
    return SourceError(f"{message}. {hint}" if hint else message, Pos(max(line, 1), max(column, 1)))


def _expected(exc: UnexpectedInput) -> set[str]:
    """The terminals that could have come instead: exactly, by trying each one on the parser's
    state when lark offers it (its own list holds every lookahead of a merged LALR state)."""
    interactive = getattr(exc, "interactive_parser", None)
    if interactive is not None:
        return set(interactive.accepts())
    return set(getattr(exc, "expected", None) or getattr(exc, "allowed", None) or ())


_UNCLOSED = {
    '"': 'this text has no closing " on its line (write text over several lines as a | block)',
    "`": "this `id` has no closing backtick on its line",
    "|": "a | block must end its own property line (key: |), with the text on the indented lines below",
}


def _found(token: Token, expected: set[str]) -> str:
    kind = token.type
    if expected & {"RSQB", "RBRACE"} and (kind in ("$END", "_DEDENT") or kind in _keyword_terminals()):
        return "a [ or { is not closed"
    if kind == "KEY_COLON" and "INLINE_KEY" in expected:
        return f"'{token}' has no value: give it one on this line, or write it on its own indented line"
    if expected == {"_INDENT"}:
        return "a value is missing: write it after the ':' or as indented key: value lines below"
    if kind in _AT_LINE_ENDS:
        return _AT_LINE_ENDS[kind]
    if kind in _keyword_terminals():
        return f"unexpected keyword {token}"
    if kind == "NAME" and str(token).isupper():
        return f"unknown keyword {token}"
    return f"unexpected text {str(token)[:40]}" if kind == "STRING" else f"unexpected {str(token)[:40]!r}"


_AT_LINE_ENDS = {
    "_NL": "the line ends too early",
    "$END": "unexpected end of file",
    "_INDENT": "unexpected indentation: only a line that opens a block may be followed by deeper lines",
    "_DEDENT": "the indented block ends too early",
}


@cache
def _keyword_terminals() -> frozenset[str]:
    return frozenset(word.upper() for word in keywords())


def _describe(expected: set[str]) -> str:
    words = [word for word in keywords() if word.upper() in expected]
    if "START" in expected:  # at the start of a statement: an empty line is no suggestion
        expected = expected - {"_NL"}
    parts = list(dict.fromkeys(text for name, text in _DESCRIPTIONS.items() if name in expected))
    if len(words) > _MAX_LISTED_KEYWORDS:
        parts.insert(0, f"a keyword ({', '.join(words[:_MAX_LISTED_KEYWORDS])}, …)")
    else:
        parts[:0] = words
    if not parts:
        return "something else"
    return parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} or {parts[-1]}"


def _suggestion(exc: UnexpectedInput, expected: set[str]) -> str | None:
    token = getattr(exc, "token", None)
    if token is None or token.type != "NAME":
        return None
    candidates = [word for word in keywords() if word.upper() in expected and word.isupper()]
    written = str(token).upper()
    if written in candidates:
        return f"Keywords are written in capitals: {written}"
    close = difflib.get_close_matches(written, candidates, n=1, cutoff=0.6)
    return f"Did you mean {close[0]}?" if close else None
