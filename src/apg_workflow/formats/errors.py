"""Errors of the formats layer: a source could not be read, with every problem located."""

from __future__ import annotations

from apg_workflow.model.errors import ModelError, Problem, Severity


class FormatError(ModelError):
    """A source cannot be turned into a model. ``problems`` say what and where (line/column)."""

    def __init__(
        self, message: str, problems: tuple[Problem, ...] = (), *, format: str | None = None
    ) -> None:
        super().__init__(message, problems)
        self.format = format

    @classmethod
    def at(
        cls,
        message: str,
        *,
        format: str,
        line: int | None = None,
        column: int | None = None,
        element_id: str | None = None,
        code: str = "syntax",
        source: str | None = None,
    ) -> FormatError:
        """An error with one located problem."""
        problem = Problem(
            severity=Severity.ERROR,
            code=code,
            message=message,
            element_id=element_id,
            line=line,
            column=column,
            source=source,
        )
        return cls(str(problem), (problem,), format=format)
