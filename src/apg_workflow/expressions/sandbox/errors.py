"""The sandbox's errors: the package's :class:`ExpressionError`, and the uncatchable signal its
guards raise inside sandboxed code."""

from __future__ import annotations

from apg_workflow.expressions.errors import ExpressionError

__all__ = ["ExpressionError", "Violation"]


class Violation(BaseException):
    """Raised by a guard when sandboxed code oversteps; converted to :class:`ExpressionError`.

    It derives from ``BaseException`` so that ``except Exception`` in a script cannot swallow it
    (a bare ``except:`` is refused at compile time).
    """

    def __init__(self, message: str, *, limit: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.limit = limit
