"""An example plugin for APG Workflow: the ``example.greet`` component.

APG Workflow finds it through the ``apg_workflow.components`` entry point that ``pyproject.toml``
declares; nothing else is needed to make it available to service tasks.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from apg_workflow.components import BpmnError, Component, ComponentConfig, ComponentContext
from pydantic import Field

_DEFAULT_GREETINGS = {"en": "Hello", "fr": "Bonjour", "de": "Hallo"}


class GreetConfig(ComponentConfig):
    language: Literal["en", "fr", "de"] = Field("en", description="The language of the default greeting.")
    greeting: str | None = Field(
        None, max_length=100, description="The word to greet with; by default the language's own."
    )


class Greet(Component[GreetConfig]):
    type = "example.greet"
    category = "example"
    title = "Greet someone"
    description = (
        "Returns a greeting for the input `name`, in English, French or German. A missing or empty name "
        "raises the BPMN error `no-name`."
    )
    Config = GreetConfig
    inputs = {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}
    outputs = {"type": "object", "properties": {"greeting": {"type": "string"}}}
    examples = (
        {"config": {"language": "fr"}, "inputs": {"name": "Ada"}, "outputs": {"greeting": "Bonjour, Ada!"}},
        {
            "config": {"greeting": "Welcome"},
            "inputs": {"name": "Alan"},
            "outputs": {"greeting": "Welcome, Alan!"},
        },
    )

    async def run(
        self, context: ComponentContext, config: GreetConfig, inputs: Mapping[str, Any]
    ) -> Mapping[str, Any]:
        name = inputs.get("name")
        if not isinstance(name, str) or not name.strip():
            raise BpmnError("no-name", "example.greet needs a non-empty input 'name'")
        greeting = f"{config.greeting or _DEFAULT_GREETINGS[config.language]}, {name.strip()}!"
        context.logger.info(greeting)
        return {"greeting": greeting}


COMPONENTS = (Greet,)

__all__ = ["COMPONENTS", "Greet", "GreetConfig"]
