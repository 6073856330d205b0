"""A validation result with the questions callers ask of it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from apg_workflow.model.errors import ModelError, Problem, Severity


@dataclass(frozen=True, slots=True)
class ValidationReport:
    """The problems :func:`~apg_workflow.model.validation.validate` found, in the order found.

    >>> report = ValidationReport(validate(definitions))  # doctest: +SKIP
    >>> report.ok, len(report.warnings)  # doctest: +SKIP
    (True, 2)
    """

    problems: tuple[Problem, ...] = ()

    @property
    def errors(self) -> tuple[Problem, ...]:
        return self._of(Severity.ERROR)

    @property
    def warnings(self) -> tuple[Problem, ...]:
        return self._of(Severity.WARNING)

    @property
    def infos(self) -> tuple[Problem, ...]:
        return self._of(Severity.INFO)

    @property
    def ok(self) -> bool:
        """True when nothing stops the definition from running (warnings and infos may remain)."""
        return not self.errors

    @property
    def summary(self) -> str:
        """``2 errors, 1 warning`` (``no problems`` when empty)."""
        counts = [(len(self.errors), "error"), (len(self.warnings), "warning"), (len(self.infos), "info")]
        parts = [
            f"{count} {word}{'s' if count != 1 and word != 'info' else ''}" for count, word in counts if count
        ]
        return ", ".join(parts) or "no problems"

    def raise_for_errors(self) -> None:
        """Raise :class:`ModelError` carrying the errors, when there are any."""
        errors = self.errors
        if errors:
            details = "; ".join(str(problem) for problem in errors[:3]) + ("; …" if len(errors) > 3 else "")
            raise ModelError(f"the definition is not valid ({self.summary}): {details}", errors)

    def __iter__(self) -> Iterator[Problem]:
        return iter(self.problems)

    def __len__(self) -> int:
        return len(self.problems)

    def _of(self, severity: Severity) -> tuple[Problem, ...]:
        return tuple(problem for problem in self.problems if problem.severity is severity)
