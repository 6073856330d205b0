"""Expressions inside data-component configurations: sandboxed Python/JUEL/FEEL, and JMESPath.

Both are checked when the configuration is parsed (a syntax error is a ``ConfigurationError``
that says where), and a failure while evaluating over data is ``BpmnError("expression-failed")``.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from functools import lru_cache
from typing import Annotated, Any

import jmespath
from jmespath.exceptions import JMESPathError
from jmespath.parser import ParsedResult
from pydantic import AfterValidator, Field

from apg_workflow.components.builtins.data._base import invalid_config
from apg_workflow.components.errors import BpmnError
from apg_workflow.expressions.sandbox import ExpressionError, Sandbox

EXPRESSION_FAILED = "expression-failed"
"""The BPMN error code of an expression that fails on the data it is given."""

SANDBOX = Sandbox()
"""The evaluator of the data components' expressions, with the platform's default limits."""


def _check_expression(text: str) -> str:
    try:
        SANDBOX.compile(text, None)
    except ExpressionError as exc:
        raise invalid_config(str(exc)) from None
    return text


@lru_cache(maxsize=1024)
def _compile_jmespath(text: str) -> ParsedResult:
    return jmespath.compile(text)


def _check_jmespath(text: str) -> str:
    try:
        _compile_jmespath(text)
    except JMESPathError as exc:
        raise invalid_config(f"invalid JMESPath expression: {' '.join(str(exc).split())}") from None
    return text


Expression = Annotated[
    str,
    Field(min_length=1, max_length=10_000),
    AfterValidator(_check_expression),
]
"""A sandboxed expression (Python subset; `${…}` JUEL and `=…` FEEL are recognised too)."""

JmesPath = Annotated[str, Field(min_length=1, max_length=10_000), AfterValidator(_check_jmespath)]
"""A JMESPath expression (https://jmespath.org)."""


def evaluate(
    type_name: str, text: str, variables: Mapping[str, Any], now: _dt.datetime, where: str | None = None
) -> Any:
    """The value of the sandboxed expression ``text`` over ``variables``; ``where`` says which
    item it was evaluated for, in the error."""
    try:
        return SANDBOX.evaluate(text, None, variables, now=now)
    except ExpressionError as exc:
        at = f" {where}" if where else ""
        raise BpmnError(EXPRESSION_FAILED, f"{type_name}: the expression failed{at}: {exc}") from None


def search(type_name: str, text: str, data: Any, where: str) -> Any:
    """The result of the JMESPath expression ``text`` applied to ``data``."""
    try:
        return _compile_jmespath(text).search(data)
    except JMESPathError as exc:
        message = " ".join(str(exc).split())
        raise BpmnError(
            EXPRESSION_FAILED, f"{type_name}: the JMESPath expression failed {where}: {message}"
        ) from None


def jmespath_truthy(value: Any) -> bool:
    """JMESPath's truth: false, null and empty strings, lists and objects are false; 0 is true."""
    if value is None or value is False:
        return False
    if isinstance(value, str | list | tuple | Mapping):
        return len(value) > 0
    return True
