"""Flow helpers: set variables, raise a BPMN error, check a condition, notify people.

Texts in their configurations take ``${name}`` placeholders (``${order.id}``, ``${items.0}``) filled
from the inputs, as the integration components' do; expressions run in the expression sandbox, as
the data components' do.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from apg_workflow.components.base import Component, ComponentConfig, ComponentContext
from apg_workflow.components.builtins.data._expressions import Expression, evaluate
from apg_workflow.components.builtins.integration.support import render
from apg_workflow.components.errors import BpmnError

IDENTIFIER = r"^[A-Za-z_][A-Za-z0-9_]*$"
ASSERTION_FAILED = "assertion-failed"

VariableName = Annotated[str, Field(pattern=IDENTIFIER, max_length=100)]
"""The name of a process variable: letters, digits and ``_``, not starting with a digit."""


def output_variable(default: str) -> Any:
    """The ``output_variable`` field of a component that produces one value."""
    return Field(default, description="Name of the output variable that receives the result.")


def render_text(template: str, inputs: Mapping[str, Any], field: str) -> str:
    """``template`` with its ``${…}`` placeholders filled in (values that are not text as JSON)."""
    value = render(template, inputs, field)
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)


class SetConfig(ComponentConfig):
    values: dict[VariableName, Any] = Field(
        default_factory=dict,
        description="Variables set to these JSON values; a text that is exactly `${name}` takes the input's "
        "value with its type, `${name}` inside a longer text inserts it as text.",
    )
    expressions: dict[VariableName, Expression] = Field(
        default_factory=dict,
        description="Variables set to the value of an expression over the inputs (Python; `${…}` JUEL "
        'or `=…` FEEL also work), e.g. `{"total": "sum(i[\'price\'] for i in items)"}`.',
    )

    @model_validator(mode="after")
    def _something(self) -> SetConfig:
        if not self.values and not self.expressions:
            raise ValueError("give at least one variable in values or expressions")
        return self


class SetVariables(Component[SetConfig]):
    type = "flow.set"
    category = "flow"
    title = "Set variables"
    description = (
        "Sets process variables to fixed values, to input values or to the values of expressions over "
        "the task's inputs. Expressions see the inputs only, not the variables set by the same task; "
        "an expression that fails on the data raises the BPMN error `expression-failed`."
    )
    Config = SetConfig
    outputs = {"type": "object", "description": "the variables set"}
    examples = (
        {
            "config": {
                "values": {"status": "approved", "approver": "${manager.email}"},
                "expressions": {"total": "price * quantity"},
            },
            "inputs": {"price": 2.5, "quantity": 4, "manager": {"email": "ana@example.com"}},
            "outputs": {"status": "approved", "approver": "ana@example.com", "total": 10.0},
        },
    )

    async def run(
        self, context: ComponentContext, config: SetConfig, inputs: Mapping[str, Any]
    ) -> Mapping[str, Any]:
        now = context.now()
        values = render(config.values, inputs, "values")
        for name, text in config.expressions.items():
            values[name] = evaluate(self.type, text, inputs, now, f"for '{name}'")
        return values


class RaiseErrorConfig(ComponentConfig):
    code: str = Field(
        min_length=1, max_length=200, description="The BPMN error code an error boundary event catches."
    )
    message: str = Field(
        "", max_length=10_000, description="The error message; `${name}` placeholders take input values."
    )


class RaiseError(Component[RaiseErrorConfig]):
    type = "flow.raise_error"
    category = "flow"
    title = "Raise a BPMN error"
    description = (
        "Ends the task with a BPMN error: the error boundary event (or error event sub-process) whose "
        "code matches catches it; without one the execution fails. A BPMN error is never retried."
    )
    Config = RaiseErrorConfig
    outputs = {"type": "object", "description": "none: the task always ends with the error"}
    examples = (
        {
            "config": {"code": "out-of-stock", "message": "No stock left for ${item.sku}"},
            "inputs": {"item": {"sku": "A-100"}},
            "error": {"code": "out-of-stock", "message": "No stock left for A-100"},
        },
    )

    async def run(
        self, context: ComponentContext, config: RaiseErrorConfig, inputs: Mapping[str, Any]
    ) -> Mapping[str, Any]:
        raise BpmnError(config.code, render_text(config.message, inputs, "message") or None)


class AssertConfig(ComponentConfig):
    condition: Expression = Field(
        description="A condition over the inputs that must hold (Python; `${…}` JUEL or `=…` FEEL also "
        "work), e.g. `amount > 0 and currency in ('EUR', 'USD')`."
    )
    error_code: str = Field(
        ASSERTION_FAILED, min_length=1, max_length=200, description="The BPMN error code when it does not."
    )
    message: str = Field(
        "",
        max_length=10_000,
        description="The error message when it does not hold (`${name}` placeholders take input values); "
        "by default it quotes the condition.",
    )


class Assert(Component[AssertConfig]):
    type = "flow.assert"
    category = "flow"
    title = "Check a condition"
    description = (
        "Evaluates a condition over the inputs in the expression sandbox. When it holds the task "
        "completes with no output; when it does not, the task ends with a BPMN error (catch it with an "
        "error boundary event). A condition that cannot be evaluated raises `expression-failed`."
    )
    Config = AssertConfig
    outputs = {"type": "object", "description": "nothing: the task completes, or ends with the error"}
    examples = (
        {
            "config": {"condition": "amount <= limit", "error_code": "over-limit"},
            "inputs": {"amount": 120, "limit": 500},
            "outputs": {},
        },
        {
            "config": {
                "condition": "amount <= limit",
                "error_code": "over-limit",
                "message": "${amount} exceeds the limit of ${limit}",
            },
            "inputs": {"amount": 900, "limit": 500},
            "error": {"code": "over-limit", "message": "900 exceeds the limit of 500"},
        },
    )

    async def run(
        self, context: ComponentContext, config: AssertConfig, inputs: Mapping[str, Any]
    ) -> Mapping[str, Any]:
        if evaluate(self.type, config.condition, inputs, context.now(), "over the inputs"):
            return {}
        message = (
            render_text(config.message, inputs, "message") or f"the condition failed: {config.condition}"
        )
        raise BpmnError(config.error_code, message)


class NotifyConfig(ComponentConfig):
    message: str = Field(
        min_length=1, max_length=10_000, description="The text; `${name}` placeholders take input values."
    )
    title: str = Field("", max_length=500, description="A short title, with the same placeholders.")
    level: Literal["info", "success", "warning", "error"] = Field(
        "info", description="How important it is; `success` is logged as info."
    )
    output_variable: VariableName = output_variable("notification")


class Notify(Component[NotifyConfig]):
    type = "flow.notify"
    category = "flow"
    title = "Notification"
    description = (
        "Renders a human-readable notification from the inputs, writes it to the execution's log and "
        "returns it (title, message, level, time) for the UI, a later e-mail or a webhook."
    )
    Config = NotifyConfig
    outputs = {
        "type": "object",
        "properties": {
            "notification": {
                "type": "object",
                "properties": {
                    "title": {"type": "string"},
                    "message": {"type": "string"},
                    "level": {"type": "string"},
                    "at": {"type": "string", "format": "date-time"},
                },
            }
        },
    }
    examples = (
        {
            "config": {
                "title": "Order ${order.id}",
                "message": "Shipped to ${order.city}",
                "level": "success",
            },
            "inputs": {"order": {"id": 7, "city": "Lyon"}},
            "outputs": {
                "notification": {
                    "title": "Order 7",
                    "message": "Shipped to Lyon",
                    "level": "success",
                    "at": "2025-03-01T09:30:00+00:00",
                }
            },
        },
    )

    async def run(
        self, context: ComponentContext, config: NotifyConfig, inputs: Mapping[str, Any]
    ) -> Mapping[str, Any]:
        title = render_text(config.title, inputs, "title")
        message = render_text(config.message, inputs, "message")
        log = context.logger.info if config.level == "success" else getattr(context.logger, config.level)
        log(f"{title}: {message}" if title else message)
        notification = {
            "title": title,
            "message": message,
            "level": config.level,
            "at": context.now().isoformat(),
        }
        return {config.output_variable: notification}


COMPONENTS: tuple[type[Component[Any]], ...] = (SetVariables, RaiseError, Assert, Notify)

__all__ = ["ASSERTION_FAILED", "COMPONENTS", "IDENTIFIER", "VariableName", "output_variable", "render_text"]
