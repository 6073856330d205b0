"""One entry point for checking any expression or script the engine may run."""

from __future__ import annotations

from typing import Literal

from apg_workflow.expressions import juel
from apg_workflow.expressions.dialects import Dialect, dialect_of
from apg_workflow.expressions.errors import ExpressionSyntaxError
from apg_workflow.expressions.feel_eval import compile_expression
from apg_workflow.expressions.python import parse_python

ExpressionKind = Literal["condition", "expression", "script"]
EXPRESSION_KINDS: tuple[ExpressionKind, ...] = ("condition", "expression", "script")


def check_syntax(text: str, language: str | None = None, *, kind: ExpressionKind = "expression") -> None:
    """Raise :class:`ExpressionSyntaxError` when ``text`` does not parse in its language.

    ``kind`` matters to Python only: a ``script`` is statements, a ``condition`` or an
    ``expression`` one expression. JUEL and FEEL are expression languages whatever the kind; they
    are parsed by the translator and the compiler that evaluate them. Texts in a language the
    engine does not run (see :func:`dialect_of`) are not checked.
    """
    if kind not in EXPRESSION_KINDS:
        raise ValueError(f"kind must be one of {', '.join(EXPRESSION_KINDS)}, not {kind!r}")
    dialect = dialect_of(text, language)
    if dialect is Dialect.PYTHON:
        parse_python(text, script=kind == "script")
    elif dialect is Dialect.JUEL:
        juel.translate(text)
    elif dialect is Dialect.FEEL:
        compile_expression(text, comments=True)


def syntax_error(
    text: str, language: str | None = None, *, kind: ExpressionKind = "expression"
) -> str | None:
    """The message of what is wrong with ``text`` (``None`` when it parses or is not checked).

    >>> syntax_error("amount >", kind="condition")
    'unexpected end of expression at column 9: `amount >`'
    """
    try:
        check_syntax(text, language, kind=kind)
    except ExpressionSyntaxError as exc:
        return str(exc)
    return None
