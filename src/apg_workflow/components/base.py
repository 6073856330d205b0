"""The component contract: what every built-in and plugin component declares and implements."""

from __future__ import annotations

import asyncio
import logging
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from apg_workflow.components.errors import ConfigurationError


class ComponentConfig(BaseModel):
    """Base of every component's configuration model (its JSON Schema is what the designer renders)."""

    model_config = ConfigDict(extra="forbid")


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(slots=True)
class ComponentContext:
    """What a running component may use. ``job_id`` is the idempotency key: it stays the same across
    the retries of one job, while ``attempt`` counts them. ``tenant_id`` is the tenant the job runs
    for (``None`` in the in-memory runner): file components confine themselves to its directory of
    ``storage_root``, so that no tenant reaches another's files."""

    job_id: str
    attempt: int
    execution_id: str
    element_id: str
    logger: logging.Logger | logging.LoggerAdapter[logging.Logger]
    deadline: datetime | None = None
    cancelled: asyncio.Event = field(default_factory=asyncio.Event)
    connections: Callable[[str], Mapping[str, Any]] | None = None
    storage_root: Path | None = None
    tenant_id: str | None = None
    clock: Callable[[], datetime] = _utcnow
    sleeper: Callable[[float], Awaitable[None]] = asyncio.sleep

    def connection(self, name: str) -> Mapping[str, Any]:
        """The named connection's settings, secrets decrypted (never log or return them)."""
        if self.connections is None:
            raise ConfigurationError(
                f"connection '{name}' is not available here: no connections are configured"
            )
        return self.connections(name)

    def now(self) -> datetime:
        return self.clock()

    async def sleep(self, seconds: float) -> None:
        """Wait, honouring cancellation; under virtual time the runner decides what waiting means."""
        await self.sleeper(seconds)


ConfigT = TypeVar("ConfigT", bound=ComponentConfig)


class Component(ABC, Generic[ConfigT]):
    """A service-task implementation. Subclasses set the class attributes and implement :meth:`run`;
    ``Component[MyConfig]`` types the ``config`` that :meth:`run` receives."""

    type: ClassVar[str]
    category: ClassVar[str]
    title: ClassVar[str]
    description: ClassVar[str]
    Config: ClassVar[type[ComponentConfig]] = ComponentConfig
    inputs: ClassVar[Mapping[str, Any]] = {"type": "object"}
    outputs: ClassVar[Mapping[str, Any]] = {"type": "object"}
    idempotent: ClassVar[bool] = True
    examples: ClassVar[tuple[Mapping[str, Any], ...]] = ()

    def parse_config(self, raw: Mapping[str, Any]) -> ConfigT:
        try:
            return self.Config.model_validate(dict(raw))  # type: ignore[return-value]
        except ValidationError as exc:
            details = "; ".join(
                f"{'.'.join(str(p) for p in err['loc']) or 'config'}: {err['msg']}" for err in exc.errors()
            )
            raise ConfigurationError(f"invalid configuration for '{self.type}': {details}") from None

    @abstractmethod
    async def run(
        self, context: ComponentContext, config: ConfigT, inputs: Mapping[str, Any]
    ) -> Mapping[str, Any]:
        """Do the work; return the output variables. Raise BpmnError / RetryableError as documented."""

    @classmethod
    def describe(cls) -> dict[str, Any]:
        """The catalogue entry: type, category, title, description, config JSON Schema, inputs, outputs."""
        return {
            "type": cls.type,
            "category": cls.category,
            "title": cls.title,
            "description": cls.description,
            "schema": cls.Config.model_json_schema(),
            "inputs": dict(cls.inputs),
            "outputs": dict(cls.outputs),
            "idempotent": cls.idempotent,
            "examples": [dict(e) for e in cls.examples],
        }
