"""What evaluating a decision gives back, and the one error it raises."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


class DecisionError(Exception):
    """A decision cannot be evaluated: a bad expression, a hit-policy violation, a failing script.

    ``decision_id`` names the decision and ``rule_id`` the rule when one is to blame; the engine
    turns this into an incident on the business-rule task.
    """

    def __init__(self, message: str, decision_id: str, rule_id: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.decision_id = decision_id
        self.rule_id = rule_id


@dataclass(frozen=True, slots=True)
class MatchedRule:
    """A rule that matched and was used, for history: its id, row (1-based), annotations and outputs."""

    rule_id: str | None
    row: int
    annotations: tuple[str, ...]
    outputs: Mapping[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule_id": self.rule_id,
            "row": self.row,
            "annotations": list(self.annotations),
            "outputs": dict(self.outputs),
        }


@dataclass(frozen=True, slots=True)
class DecisionResult:
    """The outcome of a decision.

    ``value`` is what a business-rule task writes into its result variable: one value (single-output
    table, single-hit policy), a dict keyed by output name (several outputs), a list of either
    (COLLECT without aggregation, RULE ORDER, OUTPUT ORDER) or an aggregate (COLLECT with SUM, MIN,
    MAX, COUNT). No match gives ``None`` (``[]`` for a multi-hit table) unless the outputs have
    default values. ``variables`` is the same outcome keyed by output name, as SpiffWorkflow merges
    it into the task data when there is no result variable (a list per output for multi-hit
    tables). ``required`` holds the results of the decisions this one required, by decision id.
    """

    decision_id: str
    value: Any
    variables: Mapping[str, Any]
    matched_rules: tuple[MatchedRule, ...] = ()
    required: Mapping[str, DecisionResult] = field(default_factory=dict)
