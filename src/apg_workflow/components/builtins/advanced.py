"""Advanced components: a sandboxed Python script, text classification by rules, and a scikit-learn
model's predictions (``ml.predict``, in :mod:`.ml`)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from apg_workflow.components.base import Component, ComponentConfig, ComponentContext
from apg_workflow.components.builtins.data._base import INVALID_INPUT
from apg_workflow.components.builtins.data._expressions import SANDBOX
from apg_workflow.components.builtins.helpers import VariableName, output_variable
from apg_workflow.components.builtins.ml import Predict
from apg_workflow.components.errors import BpmnError, ConfigurationError
from apg_workflow.expressions.sandbox import ExpressionError, Limits, Sandbox

_MB = 1024 * 1024


@lru_cache(maxsize=16)
def _sandbox(timeout: float, memory_mb: int) -> Sandbox:
    return Sandbox(Limits(script_timeout=timeout, max_memory=memory_mb * _MB))


class ScriptConfig(ComponentConfig):
    script: str = Field(
        min_length=1,
        max_length=100_000,
        description="Python statements run over the inputs, e.g. `total = sum(i['price'] for i in items)`. "
        "The safe subset of docs/expressions.md: no imports, no files, no network.",
    )
    timeout_seconds: float = Field(
        5.0, gt=0, le=60, description="The longest the script may run, in seconds."
    )
    max_memory_mb: int = Field(
        64, ge=1, le=1024, description="The most memory its strings and collections may take, in MB."
    )
    outputs: list[VariableName] | None = Field(
        None, description="The variables to return; by default every variable the script creates or changes."
    )

    @field_validator("script")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            SANDBOX.compile(value, None, "script")
        except ExpressionError as exc:
            raise ValueError(f"the script cannot run: {exc}") from None
        return value


class PythonScript(Component[ScriptConfig]):
    type = "python.script"
    category = "advanced"
    title = "Python script"
    description = (
        "Runs a Python script in the expression sandbox, within a time and a memory limit, over a copy of "
        "the inputs; the variables it creates or changes become the task's outputs. A script that fails "
        "or oversteps a limit opens an incident (retrying would fail the same way)."
    )
    Config = ScriptConfig
    outputs = {"type": "object", "description": "the variables the script created or changed"}
    examples = (
        {
            "config": {
                "script": "total = sum(line['price'] * line['qty'] for line in lines)\n"
                "free_shipping = total >= 50",
            },
            "inputs": {"lines": [{"price": 20, "qty": 2}, {"price": 15, "qty": 1}]},
            "outputs": {"total": 55, "free_shipping": True},
        },
    )

    async def run(
        self, context: ComponentContext, config: ScriptConfig, inputs: Mapping[str, Any]
    ) -> Mapping[str, Any]:
        sandbox = _sandbox(config.timeout_seconds, config.max_memory_mb)
        try:
            after = await asyncio.to_thread(sandbox.execute, config.script, inputs, now=context.now())
        except ExpressionError as exc:
            raise ConfigurationError(f"the script failed: {exc}") from None
        if config.outputs is not None:
            missing = [name for name in config.outputs if name not in after]
            if missing:
                raise ConfigurationError(f"the script did not set {', '.join(missing)}")
            return {name: after[name] for name in config.outputs}
        return {name: value for name, value in after.items() if name not in inputs or inputs[name] != value}


class Rule(BaseModel):
    """A row of the rules table: the label it gives, and the keywords or pattern that make it match."""

    model_config = ConfigDict(extra="forbid")

    label: str = Field(min_length=1, max_length=200, description="The label this rule gives.")
    keywords: list[str] = Field(
        default_factory=list, description="Words or phrases, any of which makes the rule match."
    )
    pattern: str | None = Field(
        None, max_length=1000, description="A regular expression (Python syntax) that makes the rule match."
    )
    priority: int = Field(0, description="Among matching rules the highest priority wins.")

    @field_validator("pattern")
    @classmethod
    def _regex(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"invalid regular expression: {exc}") from None
        return value

    @model_validator(mode="after")
    def _something(self) -> Rule:
        if not self.pattern and not any(k.strip() for k in self.keywords):
            raise ValueError(f"the rule for '{self.label}' needs keywords or a pattern")
        return self


class ClassifyConfig(ComponentConfig):
    rules: list[Rule] = Field(min_length=1, max_length=1000, description="The rules, tried on every text.")
    default: str | None = Field(None, description="The label when no rule matches (else null).")
    text_input: VariableName = Field("text", description="The input variable holding the text.")
    case_sensitive: bool = Field(False, description="Match keywords and patterns with case.")
    whole_words: bool = Field(True, description="Keywords match whole words only (`bill` not in `billing`).")
    max_chars: int = Field(
        100_000, ge=1, le=10_000_000, description="How many of the text's first characters are read."
    )
    output_variable: VariableName = output_variable("label")
    matches_variable: VariableName = Field(
        "matches",
        description="The output variable listing every matching rule, best first: label, priority, terms.",
    )


@lru_cache(maxsize=4096)
def _matcher(
    keywords: tuple[str, ...], pattern: str | None, flags: int, whole_words: bool
) -> re.Pattern[str]:
    parts = [re.escape(k.strip()) for k in keywords if k.strip()]
    alternatives = []
    if parts:
        joined = "|".join(sorted(parts, key=len, reverse=True))
        alternatives.append(rf"(?<!\w)(?:{joined})(?!\w)" if whole_words else f"(?:{joined})")
    if pattern:
        alternatives.append(f"(?:{pattern})")
    return re.compile("|".join(alternatives), flags)


class ClassifyText(Component[ClassifyConfig]):
    type = "text.classify"
    category = "advanced"
    title = "Classify text by rules"
    description = (
        "Labels a text with a table of rules: each rule gives a label when any of its keywords or its "
        "regular expression occurs. The matching rule of highest priority wins (then the one with most "
        "matches, then the first); with no match the default label. A missing or non-text input raises "
        "the BPMN error `invalid-input`."
    )
    Config = ClassifyConfig
    outputs = {
        "type": "object",
        "properties": {
            "label": {"type": ["string", "null"]},
            "matches": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "label": {"type": "string"},
                        "priority": {"type": "integer"},
                        "terms": {"type": "array", "items": {"type": "string"}},
                    },
                },
            },
        },
    }
    examples = (
        {
            "config": {
                "rules": [
                    {"label": "billing", "keywords": ["invoice", "refund", "charged twice"]},
                    {"label": "urgent", "pattern": r"\b(asap|urgent(ly)?)\b", "priority": 10},
                    {"label": "technical", "keywords": ["error", "crash", "login"]},
                ],
                "default": "general",
            },
            "inputs": {"text": "I was charged twice, please refund ASAP"},
            "outputs": {
                "label": "urgent",
                "matches": [
                    {"label": "urgent", "priority": 10, "terms": ["ASAP"]},
                    {"label": "billing", "priority": 0, "terms": ["charged twice", "refund"]},
                ],
            },
        },
    )

    async def run(
        self, context: ComponentContext, config: ClassifyConfig, inputs: Mapping[str, Any]
    ) -> Mapping[str, Any]:
        text = inputs.get(config.text_input)
        if not isinstance(text, str):
            raise BpmnError(INVALID_INPUT, f"{self.type}: the input '{config.text_input}' must be a text")
        text = text[: config.max_chars]
        flags = 0 if config.case_sensitive else re.IGNORECASE
        found = []
        for order, rule in enumerate(config.rules):
            matcher = _matcher(tuple(rule.keywords), rule.pattern, flags, config.whole_words)
            terms = [m.group(0) for m in matcher.finditer(text) if m.group(0)]
            if terms:
                found.append((-rule.priority, -len(terms), order, rule, list(dict.fromkeys(terms))))
        found.sort(key=lambda hit: hit[:3])
        matches = [
            {"label": rule.label, "priority": rule.priority, "terms": terms} for *_, rule, terms in found
        ]
        label = matches[0]["label"] if matches else config.default
        return {config.output_variable: label, config.matches_variable: matches}


COMPONENTS: tuple[type[Component[Any]], ...] = (PythonScript, ClassifyText, Predict)

__all__ = ["COMPONENTS"]
