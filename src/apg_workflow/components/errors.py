"""What a component raises: a business error a boundary event can catch, or a transient failure."""

from __future__ import annotations


class ComponentError(Exception):
    """Root of the errors of the components layer."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BpmnError(ComponentError):
    """A business error with a code, caught by an error boundary event or event sub-process."""

    def __init__(self, code: str, message: str | None = None) -> None:
        super().__init__(message or code)
        self.code = code


class RetryableError(ComponentError):
    """A transient failure (a timeout, a 503): the job is tried again under its retry policy."""


class ConfigurationError(ComponentError):
    """The component's configuration is invalid; retrying cannot help."""


class UnknownComponent(ComponentError, LookupError):
    def __init__(self, type_name: str, known: list[str]) -> None:
        import difflib

        hint = difflib.get_close_matches(type_name, known, n=1)
        suggestion = f"; did you mean '{hint[0]}'?" if hint else ""
        super().__init__(f"no component of type '{type_name}' is installed{suggestion}")
        self.type_name = type_name
