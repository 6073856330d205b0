"""Errors of the expressions layer, located in the expression text."""

from __future__ import annotations

from typing import Self

_SNIPPET_WIDTH = 80


class ExpressionError(Exception):
    """Any failure of an expression or script: syntax, forbidden construct, runtime error, limit.

    The root of the errors raised by ``apg_workflow.expressions`` (the sandbox raises it too).
    ``line`` and ``column`` are 1-based positions in the text as written (``None`` when the failure
    has no place in the text, e.g. an unsupported language); ``snippet`` is the line they point
    into; ``limit`` names the ``Limits`` field that stopped an evaluation, if any. The message
    names the line only when the text has several (``multiline``) or may have (the default)::

        IndexError: list index out of range at line 3, column 9: `c = a + b[5]`
        invalid syntax at column 7: `amount >`
    """

    def __init__(
        self,
        message: str,
        *,
        line: int | None = None,
        column: int | None = None,
        snippet: str | None = None,
        limit: str | None = None,
        multiline: bool = True,
    ) -> None:
        self.message = message
        self.line = line
        self.column = column
        self.snippet = snippet
        self.limit = limit
        self.multiline = multiline
        super().__init__(self._describe())

    @classmethod
    def at_offset(cls, message: str, text: str, offset: int) -> Self:
        """An error at the 0-based character ``offset`` of ``text`` (clamped to its end)."""
        offset = max(0, min(offset, len(text)))
        line = text.count("\n", 0, offset) + 1
        line_start = text.rfind("\n", 0, offset) + 1
        line_end = text.find("\n", offset)
        snippet = text[line_start : line_end if line_end >= 0 else len(text)]
        return cls(
            message,
            line=line,
            column=offset - line_start + 1,
            snippet=snippet,
            multiline="\n" in text.strip(),
        )

    def _describe(self) -> str:
        if self.line is None and self.column is None:
            return self.message
        if self.column is None:
            where = f"line {self.line}"
        elif self.multiline and self.line is not None:
            where = f"line {self.line}, column {self.column}"
        else:
            where = f"column {self.column}"
        snippet = (self.snippet or "").strip()
        if len(snippet) > _SNIPPET_WIDTH:
            snippet = snippet[: _SNIPPET_WIDTH - 1] + "…"
        return f"{self.message} at {where}: `{snippet}`" if snippet else f"{self.message} at {where}"

    def __str__(self) -> str:
        return self._describe()


class ExpressionSyntaxError(ExpressionError):
    """An expression or script that cannot be parsed (or that the sandbox would refuse)."""

    @property
    def reason(self) -> str:
        """What is wrong, without the position (the message as given)."""
        return self.message
