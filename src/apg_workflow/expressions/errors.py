"""Errors of the expressions layer, located in the expression text."""

from __future__ import annotations

_SNIPPET_WIDTH = 80


class ExpressionError(Exception):
    """Root of the errors raised by ``apg_workflow.expressions``."""


class ExpressionSyntaxError(ExpressionError):
    """An expression or script that cannot be parsed (or that the sandbox would refuse).

    ``line`` and ``column`` are 1-based positions in the text as written; ``snippet`` is the
    line they point into. ``str()`` gives the message a designer reads, e.g.
    ``invalid syntax at column 7: `amount >```.
    """

    def __init__(
        self,
        reason: str,
        *,
        line: int | None = None,
        column: int | None = None,
        snippet: str | None = None,
        multiline: bool = False,
    ) -> None:
        self.reason = reason
        self.line = line
        self.column = column
        self.snippet = snippet
        self.multiline = multiline
        super().__init__(self._message())

    @classmethod
    def at_offset(cls, reason: str, text: str, offset: int) -> ExpressionSyntaxError:
        """An error at the 0-based character ``offset`` of ``text`` (clamped to its end)."""
        offset = max(0, min(offset, len(text)))
        line = text.count("\n", 0, offset) + 1
        line_start = text.rfind("\n", 0, offset) + 1
        line_end = text.find("\n", offset)
        snippet = text[line_start : line_end if line_end >= 0 else len(text)]
        return cls(
            reason, line=line, column=offset - line_start + 1, snippet=snippet, multiline="\n" in text.strip()
        )

    def _message(self) -> str:
        if self.column is None:
            return self.reason
        where = f"line {self.line}, column {self.column}" if self.multiline else f"column {self.column}"
        snippet = (self.snippet or "").strip()
        if len(snippet) > _SNIPPET_WIDTH:
            snippet = snippet[: _SNIPPET_WIDTH - 1] + "…"
        return f"{self.reason} at {where}: `{snippet}`" if snippet else f"{self.reason} at {where}"

    def __str__(self) -> str:
        return self._message()
