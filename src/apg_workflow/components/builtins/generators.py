"""Flow helpers that make values: ids, the current time, random choices."""

from __future__ import annotations

import random
import secrets
import string
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator

from apg_workflow.components.base import Component, ComponentConfig, ComponentContext
from apg_workflow.components.builtins.data._base import INVALID_INPUT
from apg_workflow.components.builtins.helpers import VariableName, output_variable
from apg_workflow.components.errors import BpmnError
from apg_workflow.model.durations import DurationError, parse_duration

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_BASE62 = string.digits + string.ascii_letters


class IdConfig(ComponentConfig):
    kind: Literal["uuid4", "ulid", "short"] = Field(
        "uuid4",
        description="`uuid4`: a random UUID; `ulid`: 26 characters that sort by creation time; `short`: "
        "random letters and digits, `length` of them.",
    )
    length: int = Field(12, ge=6, le=64, description="Length of a `short` id.")
    prefix: str = Field("", max_length=50, description="Text put before the id, e.g. `ord_`.")
    output_variable: VariableName = output_variable("id")


def ulid(now: datetime) -> str:
    """A ULID (https://github.com/ulid/spec): 48 bits of milliseconds, 80 random bits, Crockford base32."""
    value = (int(now.timestamp() * 1000) << 80) | secrets.randbits(80)
    return "".join(_CROCKFORD[(value >> shift) & 31] for shift in range(125, -1, -5))


class GenerateId(Component[IdConfig]):
    type = "flow.id"
    category = "flow"
    title = "Generate an id"
    description = (
        "Generates a unique identifier: a random UUID, a ULID that sorts by creation time (from the "
        "execution's clock), or a short random id of letters and digits."
    )
    Config = IdConfig
    outputs = {"type": "object", "properties": {"id": {"type": "string"}}}
    examples = (
        {
            "config": {"kind": "short", "length": 8, "prefix": "ord_", "output_variable": "order_id"},
            "inputs": {},
            "outputs": {"order_id": "ord_x7Kq2LmA"},
        },
        {"config": {"kind": "ulid"}, "inputs": {}, "outputs": {"id": "01JN8GN2E030R799A4FQF4PAE8"}},
    )

    async def run(
        self, context: ComponentContext, config: IdConfig, inputs: Mapping[str, Any]
    ) -> Mapping[str, Any]:
        if config.kind == "uuid4":
            value = str(uuid.uuid4())
        elif config.kind == "ulid":
            value = ulid(context.now())
        else:
            value = "".join(secrets.choice(_BASE62) for _ in range(config.length))
        return {config.output_variable: config.prefix + value}


_FORMATS: dict[str, Callable[[datetime], str | int]] = {
    "iso": lambda t: t.isoformat(),
    "date": lambda t: t.date().isoformat(),
    "time": lambda t: t.time().isoformat(timespec="seconds"),
    "unix": lambda t: int(t.timestamp()),
    "unix_ms": lambda t: int(t.timestamp() * 1000),
}


class NowConfig(ComponentConfig):
    timezone: str = Field("UTC", description="An IANA time zone, e.g. `Europe/Paris`.")
    format: Literal["iso", "date", "time", "unix", "unix_ms", "custom"] = Field(
        "iso",
        description="`iso` (2025-03-01T09:30:00+01:00), `date` (2025-03-01), `time` (09:30:00), `unix` "
        "seconds, `unix_ms` milliseconds, or `custom` with `pattern`.",
    )
    pattern: str | None = Field(
        None, max_length=200, description="A strftime pattern for `custom`, e.g. `%d/%m/%Y %H:%M`."
    )
    offset: str | None = Field(
        None,
        description="A shift from now: an ISO 8601 duration (`P3D`, `PT2H`) or `2h`, `1d 30m`; a leading "
        "`-` goes back in time.",
    )
    output_variable: VariableName = output_variable("now")

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone '{value}' (use an IANA name like Europe/Paris)") from None
        return value

    @field_validator("offset")
    @classmethod
    def _offset(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                parse_duration(value.removeprefix("-"))
            except DurationError as exc:
                raise ValueError(str(exc)) from None
        return value

    @model_validator(mode="after")
    def _pattern(self) -> NowConfig:
        if (self.format == "custom") != (self.pattern is not None):
            raise ValueError("give a pattern when, and only when, format is 'custom'")
        return self

    def shift(self) -> timedelta:
        if self.offset is None:
            return timedelta()
        delta = parse_duration(self.offset.removeprefix("-"))
        return -delta if self.offset.startswith("-") else delta


class CurrentTime(Component[NowConfig]):
    type = "flow.now"
    category = "flow"
    title = "Current time"
    description = (
        "The current date and time from the execution's clock (virtual time in simulations), in a time "
        "zone and a format, optionally shifted: a due date three days from now, yesterday's date."
    )
    Config = NowConfig
    outputs = {"type": "object", "properties": {"now": {"type": ["string", "integer"]}}}
    examples = (
        {
            "config": {
                "timezone": "Europe/Paris",
                "format": "date",
                "offset": "P3D",
                "output_variable": "due",
            },
            "inputs": {},
            "outputs": {"due": "2025-03-04"},
        },
    )

    async def run(
        self, context: ComponentContext, config: NowConfig, inputs: Mapping[str, Any]
    ) -> Mapping[str, Any]:
        moment = (context.now() + config.shift()).astimezone(ZoneInfo(config.timezone))
        if config.pattern is not None:
            return {config.output_variable: moment.strftime(config.pattern)}
        return {config.output_variable: _FORMATS[config.format](moment)}


class RandomChoiceConfig(ComponentConfig):
    choices: list[Any] | None = Field(None, min_length=1, description="The values to choose from.")
    choices_input: VariableName | None = Field(
        None, description="Or the input variable that holds the list to choose from."
    )
    weights: list[float] | None = Field(
        None, description="The relative weight of each choice, in their order; equal by default."
    )
    count: int = Field(1, ge=1, le=10_000, description="How many to pick; more than 1 gives a list.")
    unique: bool = Field(False, description="Never pick the same item twice (for `count` > 1).")
    seed: int | str | None = Field(
        None,
        description="A seed for a repeatable choice. By default the job id, so a retried task picks "
        "the same as its first attempt.",
    )
    output_variable: VariableName = output_variable("choice")

    @model_validator(mode="after")
    def _source(self) -> RandomChoiceConfig:
        if (self.choices is None) == (self.choices_input is None):
            raise ValueError("give either choices or choices_input")
        if self.weights is not None and (any(w < 0 for w in self.weights) or not any(self.weights)):
            raise ValueError("weights cannot be negative, and at least one must be positive")
        if self.weights is not None and self.choices is not None and len(self.weights) != len(self.choices):
            raise ValueError(f"{len(self.weights)} weights are given for {len(self.choices)} choices")
        return self


def _pick(rng: random.Random, choices: list[Any], weights: list[float] | None, count: int) -> list[Any]:
    """``count`` different items, each drawn in proportion to its weight among those left."""
    if weights is None:
        return rng.sample(choices, count)
    pool, left, picked = list(choices), list(weights), []
    for _ in range(count):
        index = rng.choices(range(len(pool)), weights=left)[0] if any(left) else rng.randrange(len(pool))
        picked.append(pool.pop(index))
        left.pop(index)
    return picked


class RandomChoice(Component[RandomChoiceConfig]):
    type = "flow.random_choice"
    category = "flow"
    title = "Random choice"
    description = (
        "Picks a value (or `count` values) at random, optionally weighted: route a share of cases to a "
        "review, assign a reviewer. Seeded with the job id unless a seed is given, so a retried task "
        "makes the same choice. An input list that is missing, empty or too short for `count` unique "
        "picks raises the BPMN error `invalid-input`."
    )
    Config = RandomChoiceConfig
    outputs = {"type": "object", "properties": {"choice": {"description": "a value; a list when count > 1"}}}
    examples = (
        {
            "config": {"choices_input": "reviewers", "seed": "case-42", "output_variable": "reviewer"},
            "inputs": {"reviewers": ["ana", "ben", "chen"]},
            "outputs": {"reviewer": "ana"},
        },
        {
            "config": {"choices": ["manual", "auto"], "weights": [1, 9], "output_variable": "route"},
            "inputs": {},
            "outputs": {"route": "auto"},
        },
    )

    async def run(
        self, context: ComponentContext, config: RandomChoiceConfig, inputs: Mapping[str, Any]
    ) -> Mapping[str, Any]:
        choices = config.choices if config.choices_input is None else inputs.get(config.choices_input)
        if not isinstance(choices, list) or not choices:
            raise self._invalid(f"the input '{config.choices_input}' must be a non-empty list")
        if config.weights is not None and len(config.weights) != len(choices):
            raise self._invalid(f"{len(config.weights)} weights are given for {len(choices)} choices")
        if config.unique and config.count > len(choices):
            raise self._invalid(f"cannot pick {config.count} different values out of {len(choices)}")
        rng = random.Random(str(config.seed if config.seed is not None else context.job_id))
        if config.unique:
            picked = _pick(rng, choices, config.weights, config.count)
        else:
            picked = rng.choices(choices, weights=config.weights, k=config.count)
        return {config.output_variable: picked[0] if config.count == 1 else picked}

    def _invalid(self, message: str) -> BpmnError:
        return BpmnError(INVALID_INPUT, f"{self.type}: {message}")


COMPONENTS: tuple[type[Component[Any]], ...] = (GenerateId, CurrentTime, RandomChoice)

__all__ = ["COMPONENTS", "ulid"]
