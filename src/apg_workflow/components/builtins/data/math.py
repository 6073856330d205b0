"""Arithmetic: evaluate a formula over the inputs, in the expression sandbox."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from pydantic import Field

from apg_workflow.components.base import ComponentConfig, ComponentContext
from apg_workflow.components.builtins.data._base import DataComponent, is_number, kind, prop, shape
from apg_workflow.components.builtins.data._expressions import EXPRESSION_FAILED, Expression, evaluate
from apg_workflow.components.errors import BpmnError

FUNCTIONS: dict[str, Any] = {
    **{
        name: getattr(math, name)
        for name in (
            "sqrt", "floor", "ceil", "trunc", "exp", "log", "log10", "log2", "sin", "cos", "tan", "asin",
            "acos", "atan", "atan2", "hypot", "degrees", "radians", "fsum", "isclose", "copysign",
        )
    },
    "pi": math.pi,
    "e": math.e,
    "tau": math.tau,
}  # fmt: skip
"""What formulas may use besides the sandbox's built-ins (`abs`, `round`, `min`, `max`, `sum`, …).
Functions whose result can grow without bound (`factorial`, `comb`, `perm`) are left out."""


class MathConfig(ComponentConfig):
    expression: Expression = Field(
        description="The formula, over the inputs by name, e.g. `round(net * (1 + vat_rate), 2)` or "
        "`sqrt(x ** 2 + y ** 2)`. Available: + - * / // % **, abs, round, min, max, sum, Decimal and "
        + ", ".join(f"`{name}`" for name in FUNCTIONS)
        + "."
    )
    round_to: int | None = Field(
        None, ge=0, le=15, description="Round the result to this many decimal places (empty: as computed)."
    )


class Math(DataComponent[MathConfig]):
    type = "data.math"
    title = "Calculate"
    description = (
        "Evaluates an arithmetic formula over the inputs in the expression sandbox (no `eval`: only "
        "arithmetic, the listed functions and the inputs are reachable, within time and size limits). "
        "The result must be a finite number; a failure throws the BPMN error `expression-failed`."
    )
    Config = MathConfig
    inputs = shape(variables="the formula's variables, by name (they hide functions of the same name)")
    outputs = shape(result=prop("the value", "number"))
    examples = (
        {
            "config": {"expression": "net * (1 + vat_rate)", "round_to": 2},
            "inputs": {"net": 199.99, "vat_rate": 0.2},
            "outputs": {"result": 239.99},
        },
        {
            "config": {"expression": "sqrt(x ** 2 + y ** 2)"},
            "inputs": {"x": 3, "y": 4},
            "outputs": {"result": 5.0},
        },
    )

    async def run(
        self, context: ComponentContext, config: MathConfig, inputs: Mapping[str, Any]
    ) -> Mapping[str, Any]:
        result = evaluate(self.type, config.expression, FUNCTIONS | dict(inputs), context.now())
        if not is_number(result):
            problem = "not finite" if isinstance(result, float) else f"{kind(result)}, not a number"
            raise BpmnError(EXPRESSION_FAILED, f"{self.type}: the formula's value is {problem}")
        return {"result": round(result, config.round_to) if config.round_to is not None else result}
