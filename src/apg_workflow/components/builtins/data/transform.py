"""Reshape data with a JMESPath expression, or render text and JSON with a Jinja template."""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import lru_cache
from typing import Any, Literal

from jinja2 import ChainableUndefined, Template, TemplateError, TemplateSyntaxError
from pydantic import Field, model_validator

from apg_workflow.components.base import ComponentConfig, ComponentContext
from apg_workflow.components.builtins.data._base import DataComponent, invalid_config, prop, shape
from apg_workflow.components.builtins.data._expressions import EXPRESSION_FAILED, JmesPath, search
from apg_workflow.components.builtins.data._jinja import BoundedEnvironment, bounded, render, template_line
from apg_workflow.components.errors import BpmnError

_ENVIRONMENTS = {"strict": BoundedEnvironment(), "lenient": BoundedEnvironment(undefined=ChainableUndefined)}


class TransformConfig(ComponentConfig):
    expression: JmesPath = Field(
        description="The JMESPath expression applied to `data`, e.g. "
        "`orders[?status=='paid'].{id: id, total: sum(lines[].amount)}`."
    )


class Transform(DataComponent[TransformConfig]):
    type = "data.transform"
    title = "Transform with JMESPath"
    description = (
        "Selects and reshapes data with a JMESPath expression (https://jmespath.org): projections, "
        "filters, multi-select objects and functions such as `sum`, `sort_by`, `join`. A path that "
        "leads nowhere gives null."
    )
    Config = TransformConfig
    inputs = shape(required=("data",), data=prop("the value the expression reads"))
    outputs = shape(result=prop("the expression's value"))
    examples = (
        {
            "config": {"expression": "orders[?total > `100`].id"},
            "inputs": {"data": {"orders": [{"id": "A", "total": 250}, {"id": "B", "total": 40}]}},
            "outputs": {"result": ["A"]},
        },
    )

    async def run(
        self, context: ComponentContext, config: TransformConfig, inputs: Mapping[str, Any]
    ) -> Mapping[str, Any]:
        return {"result": search(self.type, config.expression, self.value(inputs, "data"), "on 'data'")}


@lru_cache(maxsize=512)
def _compile(source: str, undefined: str) -> Template:
    return _ENVIRONMENTS[undefined].from_string(source)


class TemplateConfig(ComponentConfig):
    template: str = Field(
        min_length=1,
        max_length=100_000,
        description="A Jinja template (https://jinja.palletsprojects.com) over the inputs by name and "
        "`now`, e.g. `Dear {{ customer.name }}, your order {{ order_id }} ships {{ ship_date }}.`",
    )
    output: Literal["text", "json"] = Field(
        "text",
        description="`text`: the rendered string; `json`: the rendered text parsed as JSON (write values "
        "with the `tojson` filter).",
    )
    undefined: Literal["strict", "lenient"] = Field(
        "strict",
        description="`strict`: using a variable or field that does not exist is an error; `lenient`: it "
        "renders as empty text.",
    )
    max_length: int = Field(
        1_000_000, ge=1, le=16_000_000, description="Longest output (and longest value built), in characters."
    )
    timeout: float = Field(2.0, gt=0, le=30, description="Seconds the rendering may take.")

    @model_validator(mode="after")
    def _compiles(self) -> TemplateConfig:
        try:
            _compile(self.template, self.undefined)
        except TemplateSyntaxError as exc:
            raise invalid_config(f"template syntax error at line {exc.lineno}: {exc.message}") from None
        return self


class TemplateComponent(DataComponent[TemplateConfig]):
    type = "data.template"
    title = "Render a template"
    description = (
        "Renders a Jinja template with the inputs as variables, to text (an e-mail body, a message) or "
        "to JSON (a request payload). Runs in Jinja's immutable sandbox, bounded in time and size; a "
        "failure throws the BPMN error `expression-failed` naming the template line."
    )
    Config = TemplateConfig
    inputs = shape(variables="the template's variables, by name")
    outputs = shape(result=prop("the rendered text, or the JSON value it spells"))
    examples = (
        {
            "config": {
                "template": "Hello {{ name }}, {{ items | length }} items ({{ items | join(', ') }})."
            },
            "inputs": {"name": "Ada", "items": ["tea", "milk"]},
            "outputs": {"result": "Hello Ada, 2 items (tea, milk)."},
        },
        {
            "config": {
                "template": '{"to": {{ email | tojson }}, '
                '"skus": {{ lines | map(attribute="sku") | list | tojson }}}',
                "output": "json",
            },
            "inputs": {"email": "ada@example.org", "lines": [{"sku": "A-1"}, {"sku": "B-7"}]},
            "outputs": {"result": {"to": "ada@example.org", "skus": ["A-1", "B-7"]}},
        },
    )

    async def run(
        self, context: ComponentContext, config: TemplateConfig, inputs: Mapping[str, Any]
    ) -> Mapping[str, Any]:
        template = _compile(config.template, config.undefined)
        variables = {"now": context.now(), **inputs}
        try:
            with bounded(config.timeout, config.max_length) as budget:
                text = render(template, variables, budget)
        except Exception as exc:  # the template is user code: any failure is reported, located
            line = template_line(exc.__traceback__)
            at = f" at line {line}" if line else ""
            raise BpmnError(
                EXPRESSION_FAILED, f"{self.type}: the template failed{at}: {_describe(exc)}"
            ) from None
        if config.output == "text":
            return {"result": text}
        try:
            return {"result": json.loads(text)}
        except json.JSONDecodeError as exc:
            raise BpmnError(
                EXPRESSION_FAILED,
                f"{self.type}: the rendered text is not JSON (line {exc.lineno}, column {exc.colno}: "
                f"{exc.msg}); write values with the `tojson` filter",
            ) from None


def _describe(exc: Exception) -> str:
    message = str(exc).strip()
    if isinstance(exc, TemplateError) and message:
        return message
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__
