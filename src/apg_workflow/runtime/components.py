"""Components that need the engine or the formats, which the ``components`` layer may not import.

``decision.evaluate`` reads DMN with :mod:`apg_workflow.formats.dmn` and evaluates it with
:mod:`apg_workflow.engine.decisions`, the code that runs business-rule tasks. They join the
catalogue through :func:`apg_workflow.runtime.registry.platform_registry`, which every runner uses.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import Field, field_validator, model_validator

from apg_workflow.components import Component, ComponentConfig, ComponentContext, ConfigurationError
from apg_workflow.components.builtins.helpers import VariableName, output_variable
from apg_workflow.components.builtins.ml import storage_file
from apg_workflow.engine.decisions import DecisionError, evaluate_decision
from apg_workflow.expressions.sandbox import Sandbox
from apg_workflow.formats import FormatError
from apg_workflow.formats.dmn import read_dmn
from apg_workflow.model.decisions import Decision, DecisionDefinitions

_SANDBOX = Sandbox()


class DecisionConfig(ComponentConfig):
    file: str | None = Field(
        None, max_length=1000, description="A `.dmn` file, relative to the storage root."
    )
    xml: str | None = Field(None, max_length=5_000_000, description="Or the DMN XML itself (DMN 1.1 to 1.5).")
    decision: str | None = Field(
        None,
        max_length=500,
        description="The id or name of the decision to evaluate; by default the one no other decision "
        "requires, when there is exactly one.",
    )
    output_variable: VariableName = output_variable("result")
    matched_rules_variable: VariableName | None = Field(
        None,
        description="When set, the output variable that lists the rules that matched (id, row, "
        "annotations, outputs), for audit.",
    )

    @field_validator("file")
    @classmethod
    def _file(cls, value: str | None) -> str | None:
        if value is not None and not value.lower().endswith(".dmn"):
            raise ValueError(f"'{value}' must be a .dmn file")
        return value

    @model_validator(mode="after")
    def _source(self) -> DecisionConfig:
        if (self.file is None) == (self.xml is None):
            raise ValueError("give either file or xml")
        if self.xml is not None:
            try:  # a malformed document is refused with the configuration
                _parsed_text(self.xml)
            except ConfigurationError as exc:
                raise ValueError(exc.message) from None
        return self


def _read(data: bytes | str, source: str) -> DecisionDefinitions:
    try:
        return read_dmn(data, source=source)
    except FormatError as exc:
        details = "; ".join(p.message for p in exc.problems) or str(exc)
        raise ConfigurationError(f"{source} is not a usable DMN file: {details}") from None


@lru_cache(maxsize=64)
def _parsed_text(xml: str) -> DecisionDefinitions:
    return _read(xml.encode("utf-8"), f"inline DMN {hashlib.sha256(xml.encode()).hexdigest()[:8]}")


@lru_cache(maxsize=64)
def _parsed_file(path: Path, modified: int, size: int) -> DecisionDefinitions:
    """The file's decisions, read again when its modification time or size changes."""
    return _read(path.read_bytes(), path.name)


def _choose(definitions: DecisionDefinitions, ref: str | None) -> Decision:
    if ref is not None:
        found = definitions.find(ref)
        if found is None:
            known = ", ".join(d.id for d in definitions) or "none"
            raise ConfigurationError(f"there is no decision '{ref}' (decisions: {known})")
        return found
    required = {r.id for d in definitions for r in d.required_decisions}
    tops = [d for d in definitions if d.id not in required]
    if len(tops) != 1:
        names = ", ".join(d.id for d in tops) or "none"
        raise ConfigurationError(f"say which decision to evaluate: the file offers {names}")
    return tops[0]


class EvaluateDecision(Component[DecisionConfig]):
    type = "decision.evaluate"
    category = "advanced"
    title = "Evaluate a DMN decision"
    description = (
        "Evaluates a DMN decision table or literal expression (and the decisions it requires) over the "
        "inputs, from a `.dmn` file in the storage root or XML in the configuration: the same "
        "evaluation as a business-rule task, for definitions that keep their rules beside the process. "
        "FEEL and Python cells, every hit policy. A table that cannot decide (a UNIQUE table with two "
        "matches, a failing cell) opens an incident that names the rule."
    )
    Config = DecisionConfig
    outputs = {
        "type": "object",
        "properties": {
            "result": {"description": "the decision's value: one value, an object of outputs, or a list"}
        },
    }
    examples = (
        {
            "config": {"file": "rules/discount.dmn", "output_variable": "discount_percent"},
            "inputs": {"customerType": "Business", "years": 6},
            "outputs": {"discount_percent": 12.5},
        },
    )

    async def run(
        self, context: ComponentContext, config: DecisionConfig, inputs: Mapping[str, Any]
    ) -> Mapping[str, Any]:
        if config.xml is not None:
            definitions = _parsed_text(config.xml)
        else:
            path = storage_file(context, config.file or "", "file")
            stat = path.stat()
            definitions = _parsed_file(path, stat.st_mtime_ns, stat.st_size)
        decision = _choose(definitions, config.decision)
        try:
            result = evaluate_decision(decision, inputs, sandbox=_SANDBOX, now=context.now())
        except DecisionError as exc:
            raise ConfigurationError(f"the decision {decision.label} failed: {exc.message}") from None
        outputs: dict[str, Any] = {config.output_variable: result.value}
        if config.matched_rules_variable is not None:
            outputs[config.matched_rules_variable] = [rule.to_dict() for rule in result.matched_rules]
        return outputs


COMPONENTS: tuple[type[Component[Any]], ...] = (EvaluateDecision,)

__all__ = ["COMPONENTS", "EvaluateDecision"]
