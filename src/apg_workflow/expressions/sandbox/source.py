"""Expression text as written, and positions in it for error messages."""

from __future__ import annotations

import ast
from types import TracebackType

from apg_workflow.expressions.errors import ExpressionSyntaxError
from apg_workflow.expressions.python import parse_python
from apg_workflow.expressions.sandbox.errors import ExpressionError

FILENAME = "<sandbox>"
"""The file name of every code object the sandbox compiles (how tracebacks are located)."""


class Source:
    """Text as written. Python's positions count UTF-8 bytes in the dedented text; translated
    dialects (JUEL, FEEL) give character positions in the text itself."""

    __slots__ = ("_byte_columns", "_lines", "_margin", "multiline")

    def __init__(self, text: str, *, margin: int = 0, byte_columns: bool = False) -> None:
        self._lines = text.split("\n")
        self._margin = margin
        self._byte_columns = byte_columns
        self.multiline = "\n" in text.strip()

    def error(self, message: str, node: ast.AST | None, *, limit: str | None = None) -> ExpressionError:
        """An error located at ``node`` (unlocated when ``node`` has no position)."""
        line = getattr(node, "lineno", None)
        return self.error_at(message, line, getattr(node, "col_offset", None), limit=limit)

    def error_at(
        self, message: str, line: int | None, offset: int | None, *, limit: str | None = None
    ) -> ExpressionError:
        """An error at ``line`` and 0-based ``offset`` as the compiled code counts them."""
        if line is None or not 1 <= line <= len(self._lines):
            return ExpressionError(message, limit=limit)
        written = self._lines[line - 1]
        column = None
        if offset is not None and offset >= 0:
            margin = self._margin if written.strip() else 0
            dedented = written[margin:]
            chars = len(dedented.encode()[:offset].decode(errors="ignore")) if self._byte_columns else offset
            column = margin + chars + 1
        return ExpressionError(message, line=line, column=column, snippet=written, limit=limit)

    def error_in(
        self, message: str, traceback: TracebackType | None, *, limit: str | None = None
    ) -> ExpressionError:
        """An error located at the innermost point of the compiled code in ``traceback``."""
        innermost = None
        while traceback is not None:
            if traceback.tb_frame.f_code.co_filename == FILENAME:
                innermost = traceback
            traceback = traceback.tb_next
        if innermost is None:
            return ExpressionError(message, limit=limit)
        positions = list(innermost.tb_frame.f_code.co_positions())
        index = innermost.tb_lasti // 2
        line, _, offset, _ = (
            positions[index] if 0 <= index < len(positions) else (innermost.tb_lineno, 0, 0, 0)
        )
        return self.error_at(message, line, offset, limit=limit)


def parse(text: str, *, script: bool) -> tuple[ast.Expression | ast.Module, Source]:
    """Parse Python ``text`` as the syntax checks do, with a :class:`Source` to locate errors in."""
    try:
        tree = parse_python(text, script=script)
    except ExpressionSyntaxError as exc:
        raise ExpressionError(exc.reason, line=exc.line, column=exc.column, snippet=exc.snippet) from None
    return tree, Source(text, margin=_margin(text), byte_columns=True)


def _margin(text: str) -> int:
    """The indentation every non-blank line shares (``parse_python`` removes it before parsing)."""
    indents = [line[: len(line) - len(line.lstrip(" \t"))] for line in text.split("\n") if line.strip()]
    if not indents:
        return 0
    first, last = min(indents), max(indents)  # the extremes share the prefix all of them share
    return next((i for i, (a, b) in enumerate(zip(first, last, strict=False)) if a != b), len(first))
