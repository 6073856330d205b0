"""Problems found in a definition, and the error root of the model layer."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True, slots=True, kw_only=True)
class Problem:
    """One thing wrong with a definition, located as precisely as the source allows."""

    severity: Severity
    code: str
    message: str
    element_id: str | None = None
    process_id: str | None = None
    line: int | None = None
    column: int | None = None
    source: str | None = None

    @property
    def location(self) -> str:
        """``file: line 3, column 7, element 'Task_1'`` with whatever parts are known."""
        bits = []
        if self.line is not None:
            bits.append(f"line {self.line}" + (f", column {self.column}" if self.column is not None else ""))
        if self.element_id:
            bits.append(f"element '{self.element_id}'")
        where = ", ".join(bits)
        if self.source:
            where = f"{self.source}: {where}" if where else self.source
        return where

    def to_dict(self) -> dict[str, object]:
        return {
            "severity": self.severity.value,
            "code": self.code,
            "message": self.message,
            "element_id": self.element_id,
            "process_id": self.process_id,
            "line": self.line,
            "column": self.column,
        }

    def __str__(self) -> str:
        where = self.location
        return f"{self.severity.value}: {where + ': ' if where else ''}{self.message}"


class ModelError(Exception):
    """Root of the errors raised by ``apg_workflow.model`` and the layers that build models."""

    def __init__(self, message: str, problems: tuple[Problem, ...] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.problems = problems


class ElementNotFound(ModelError, KeyError):
    def __init__(self, element_id: str) -> None:
        super().__init__(f"no element with id '{element_id}'")
        self.element_id = element_id

    def __str__(self) -> str:
        return self.message
