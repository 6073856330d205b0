"""What every data component shares: the base class, reading inputs, and the errors bad data gets.

Inputs come from the element's input mappings. A value of the wrong shape is a business error
(``BpmnError("invalid-input")``) that names the component, the input and, inside a list, the item:
data is what varies between executions, so an error boundary event may want to catch it.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator, Hashable, Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any, ClassVar, TypeVar

from pydantic_core import PydanticCustomError

from apg_workflow.components.base import Component, ComponentConfig
from apg_workflow.components.errors import BpmnError

INVALID_INPUT = "invalid-input"
"""The BPMN error code of an input of the wrong shape."""

_YIELD_EVERY = 256

ConfigT = TypeVar("ConfigT", bound=ComponentConfig)
T = TypeVar("T")


class DataComponent(Component[ConfigT]):
    """A pure data component: no I/O, same inputs give the same outputs, so retries are safe."""

    category: ClassVar[str] = "data"
    idempotent: ClassVar[bool] = True

    def invalid(self, message: str) -> BpmnError:
        """The business error for bad input data, prefixed with the component type."""
        return BpmnError(INVALID_INPUT, f"{self.type}: {message}")

    def value(self, inputs: Mapping[str, Any], name: str) -> Any:
        """The input ``name``; a missing input is an error that says which one."""
        if name not in inputs:
            given = ", ".join(sorted(inputs)) or "none"
            raise self.invalid(f"the input '{name}' is missing (inputs given: {given})")
        return inputs[name]

    def items(self, inputs: Mapping[str, Any], name: str = "items") -> list[Any]:
        """The list input ``name``."""
        value = self.value(inputs, name)
        if not isinstance(value, list | tuple):
            raise self.invalid(f"the input '{name}' must be a list, not {kind(value)}")
        return list(value)

    def records(self, inputs: Mapping[str, Any], name: str = "items") -> list[Mapping[str, Any]]:
        """The list input ``name`` whose items must all be objects."""
        values = self.items(inputs, name)
        for index, item in enumerate(values):
            if not isinstance(item, Mapping):
                raise self.invalid(f"{name}[{index}] must be an object, not {kind(item)}")
        return values

    def text(self, inputs: Mapping[str, Any], name: str = "text") -> str:
        """The string input ``name``."""
        value = self.value(inputs, name)
        if not isinstance(value, str):
            raise self.invalid(f"the input '{name}' must be a string, not {kind(value)}")
        return value


def kind(value: Any) -> str:
    """How an error message names the type of a JSON-like ``value``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float | Decimal):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list | tuple):
        return "a list"
    return f"a {type(value).__name__} value"


def is_number(value: Any) -> bool:
    """True for a finite int, float or Decimal (booleans are not numbers here)."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    if isinstance(value, float):
        return math.isfinite(value)
    return isinstance(value, Decimal) and value.is_finite()


async def paced(values: Iterable[T]) -> AsyncIterator[tuple[int, T]]:
    """``(index, value)`` pairs of ``values``, handing control back to the event loop every few
    hundred items, so that a long loop over data (a sandbox expression per item) lets other jobs
    run and lets the runtime cancel the component."""
    for index, value in enumerate(values):
        if index and index % _YIELD_EVERY == 0:
            await asyncio.sleep(0)
        yield index, value


def identity(value: Any) -> Hashable:
    """A hashable stand-in for a JSON-like value: equal values (``1`` and ``1.0`` too) give equal
    identities, and ``true`` stays different from ``1``."""
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, Mapping):
        return ("object", tuple(sorted((str(key), identity(item)) for key, item in value.items())))
    if isinstance(value, list | tuple):
        return ("list", tuple(identity(item) for item in value))
    if isinstance(value, set | frozenset):
        return ("set", frozenset(identity(item) for item in value))
    return value if isinstance(value, Hashable) else ("other", repr(value))


def invalid_config(message: str) -> PydanticCustomError:
    """The error a configuration validator raises: shown as ``field: message`` in the
    ``ConfigurationError``, without pydantic's "Value error, " prefix."""
    return PydanticCustomError("invalid_config", "{message}", {"message": message})


def exactly_one(config: ComponentConfig, *names: str) -> None:
    """Raise the configuration error unless exactly one of the fields ``names`` of ``config`` is set."""
    given = [name for name in names if getattr(config, name) is not None]
    if len(given) != 1:
        choices = " or ".join(f"'{name}'" for name in names)
        problem = f"{' and '.join(given)} are set" if given else "none is set"
        raise invalid_config(f"set exactly one of {choices}: {problem}")


def shape(
    *, required: Sequence[str] = (), variables: str | None = None, **properties: Mapping[str, Any]
) -> dict[str, Any]:
    """An ``inputs`` / ``outputs`` declaration: an object with these ``properties``; ``variables``
    describes the further inputs, by any name, that an expression or template may use."""
    declared: dict[str, Any] = {"type": "object", "properties": dict(properties)}
    if required:
        declared["required"] = list(required)
    if variables:
        declared["additionalProperties"] = {"description": variables}
    return declared


def prop(description: str, json_type: str | list[str] | None = None, **more: Any) -> dict[str, Any]:
    """One property of a :func:`shape`: its description, JSON type and any further keywords."""
    return ({"type": json_type} if json_type else {}) | {"description": description} | more
