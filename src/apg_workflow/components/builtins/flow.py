"""Flow helpers: do nothing, write to the execution's log, wait."""

from __future__ import annotations

from collections.abc import Mapping
from string import Template
from typing import Any, Literal

from pydantic import Field

from apg_workflow.components.base import Component, ComponentConfig, ComponentContext


class Noop(Component[ComponentConfig]):
    type = "noop"
    category = "flow"
    title = "No operation"
    description = "Does nothing and returns its inputs unchanged; a placeholder while a process is designed."
    outputs = {"type": "object", "description": "the inputs, unchanged"}
    examples = ({"config": {}, "inputs": {"x": 1}, "outputs": {"x": 1}},)

    async def run(
        self, context: ComponentContext, config: ComponentConfig, inputs: Mapping[str, Any]
    ) -> Mapping[str, Any]:
        return dict(inputs)


class LogConfig(ComponentConfig):
    message: str = Field(description="Text to log; `$name` / `${name}` are replaced by input variables.")
    level: Literal["debug", "info", "warning", "error"] = Field("info", description="Log level.")


class Log(Component[LogConfig]):
    type = "log"
    category = "flow"
    title = "Log a message"
    description = "Writes a message, with input variables substituted, to the execution's log."
    Config = LogConfig
    outputs = {"type": "object", "properties": {"logged": {"type": "string"}}}
    examples = (
        {
            "config": {"message": "Order $order_id received"},
            "inputs": {"order_id": 7},
            "outputs": {"logged": "Order 7 received"},
        },
    )

    async def run(
        self, context: ComponentContext, config: LogConfig, inputs: Mapping[str, Any]
    ) -> Mapping[str, Any]:
        text = Template(config.message).safe_substitute({k: str(v) for k, v in inputs.items()})
        getattr(context.logger, config.level)(text)
        return {"logged": text}


class DelayConfig(ComponentConfig):
    seconds: float = Field(
        ge=0,
        le=3600,
        description="How long to wait, in seconds (at most an hour; use a timer event for longer waits).",
    )


class Delay(Component[DelayConfig]):
    type = "delay"
    category = "flow"
    title = "Delay"
    description = "Waits for a number of seconds, then continues. Cancellable."
    Config = DelayConfig
    outputs = {"type": "object", "properties": {"waited_seconds": {"type": "number"}}}
    examples = ({"config": {"seconds": 0.1}, "inputs": {}, "outputs": {"waited_seconds": 0.1}},)

    async def run(
        self, context: ComponentContext, config: DelayConfig, inputs: Mapping[str, Any]
    ) -> Mapping[str, Any]:
        await context.sleep(config.seconds)
        return {"waited_seconds": config.seconds}
