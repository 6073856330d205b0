"""The errors of the use cases. Lookups and refusals come from the store
(:class:`~apg_workflow.store.NotFound`, :class:`~apg_workflow.store.CommandRejected`)."""

from __future__ import annotations

from apg_workflow.model import Problem


class ServiceError(Exception):
    """Root of the errors the use cases add."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidDefinition(ServiceError):
    """A definition that cannot be deployed: unreadable, or with validation errors."""

    def __init__(self, message: str, problems: tuple[Problem, ...] = ()) -> None:
        super().__init__(message)
        self.problems = problems


class Conflict(ServiceError):
    """The object is not in a state that allows the request (a cancelled task cannot be completed)."""


__all__ = ["Conflict", "InvalidDefinition", "ServiceError"]
