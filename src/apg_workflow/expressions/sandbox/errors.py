"""The sandbox's error root, and the uncatchable signal its guards raise inside sandboxed code."""

from __future__ import annotations

from apg_workflow.expressions import errors

_SNIPPET_WIDTH = 80


class ExpressionError(errors.ExpressionError):
    """Any failure of an expression or script: syntax, forbidden construct, runtime error, limit.

    ``line`` and ``column`` are 1-based positions in the text as written (``None`` when the failure
    has no place in the text, e.g. an unsupported language); ``limit`` names the :class:`Limits`
    field that stopped the evaluation, if any.
    """

    def __init__(
        self,
        message: str,
        *,
        line: int | None = None,
        column: int | None = None,
        snippet: str | None = None,
        limit: str | None = None,
    ) -> None:
        self.message = message
        self.line = line
        self.column = column
        self.snippet = snippet
        self.limit = limit
        super().__init__(self._describe())

    def _describe(self) -> str:
        if self.line is None:
            return self.message
        where = f"line {self.line}" if self.column is None else f"line {self.line}, column {self.column}"
        snippet = (self.snippet or "").strip()
        if len(snippet) > _SNIPPET_WIDTH:
            snippet = snippet[: _SNIPPET_WIDTH - 1] + "…"
        return f"{self.message} at {where}: `{snippet}`" if snippet else f"{self.message} at {where}"

    def __str__(self) -> str:
        return self._describe()


class Violation(BaseException):
    """Raised by a guard when sandboxed code oversteps; converted to :class:`ExpressionError`.

    It derives from ``BaseException`` so that ``except Exception`` in a script cannot swallow it
    (a bare ``except:`` is refused at compile time).
    """

    def __init__(self, message: str, *, limit: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.limit = limit
