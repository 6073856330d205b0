"""Hit policies: from the rules that matched to the decision's value. Pure functions.

Single hit: UNIQUE (more than one match is an error naming the rules), FIRST, ANY (the matches
must agree), PRIORITY (the output values list ranks the matches). Multiple hits: COLLECT (rule
order, optionally aggregated with SUM, MIN, MAX or COUNT), RULE ORDER and OUTPUT ORDER (ranked by
the output values lists, then rule order).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from apg_workflow.expressions.feel_eval import feel_compare, feel_equal, is_number
from apg_workflow.model.decisions import Aggregation, Decision, DecisionTable, HitPolicy, Rule


@dataclass(frozen=True, slots=True)
class Hit:
    """A matching rule with its row (1-based) and its evaluated outputs, one per output column."""

    rule: Rule
    row: int
    outputs: tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class Outcome:
    value: Any
    variables: dict[str, Any]
    used: tuple[Hit, ...]


class PolicyViolation(Exception):
    """The matches break the table's hit policy; ``rule_id`` is the first rule involved."""

    def __init__(self, message: str, rule_id: str | None) -> None:
        super().__init__(message)
        self.rule_id = rule_id


def decide(
    decision: Decision,
    table: DecisionTable,
    hits: Sequence[Hit],
    defaults: tuple[Any, ...] | None,
    ranks: Sequence[Sequence[Any] | None],
) -> Outcome:
    """The outcome of ``hits`` under the table's hit policy.

    ``defaults`` are the output columns' default values (``None`` when no column has one) and
    ``ranks`` each column's output values, most important first.
    """
    policy = table.hit_policy
    keys = tuple(output.key for output in table.outputs)
    if policy.single_hit:
        chosen = _SINGLE[policy](decision, hits, ranks)
        if chosen is None:
            if defaults is None:
                return Outcome(None, {}, ())
            return Outcome(_shape(keys, defaults), dict(zip(keys, defaults, strict=True)), ())
        return Outcome(_shape(keys, chosen.outputs), dict(zip(keys, chosen.outputs, strict=True)), (chosen,))
    ordered = list(hits)
    if policy is HitPolicy.OUTPUT_ORDER:
        ordered.sort(key=lambda hit: _rank(hit, ranks))
    rows = [hit.outputs for hit in ordered]
    if not rows and defaults is not None:
        rows = [defaults]
    if table.aggregation is not None:
        value = _aggregate(decision, table.aggregation, [row[0] for row in rows], ordered)
        return Outcome(value, {keys[0]: value}, tuple(ordered))
    columns = {key: [row[i] for row in rows] for i, key in enumerate(keys)}
    return Outcome([_shape(keys, row) for row in rows], columns, tuple(ordered))


def _shape(keys: tuple[str, ...], outputs: tuple[Any, ...]) -> Any:
    return outputs[0] if len(keys) == 1 else dict(zip(keys, outputs, strict=True))


def _names(hits: Sequence[Hit]) -> str:
    labels = [f"{hit.rule.label} (row {hit.row})" for hit in hits]
    return ", ".join(labels[:-1]) + " and " + labels[-1]


def _unique(decision: Decision, hits: Sequence[Hit], ranks: Any) -> Hit | None:
    if len(hits) > 1:
        raise PolicyViolation(
            f"decision {decision.label}: hit policy UNIQUE allows one matching rule, but rules "
            f"{_names(hits)} all match; make their conditions exclusive or choose another hit policy "
            "(FIRST, PRIORITY, COLLECT)",
            hits[0].rule.id,
        )
    return hits[0] if hits else None


def _first(decision: Decision, hits: Sequence[Hit], ranks: Any) -> Hit | None:
    return hits[0] if hits else None


def _any(decision: Decision, hits: Sequence[Hit], ranks: Any) -> Hit | None:
    for hit in hits[1:]:
        if not all(feel_equal(a, b) for a, b in zip(hits[0].outputs, hit.outputs, strict=True)):
            raise PolicyViolation(
                f"decision {decision.label}: hit policy ANY needs the matching rules to agree, but rules "
                f"{_names([hits[0], hit])} give different outputs",
                hit.rule.id,
            )
    return hits[0] if hits else None


def _priority(decision: Decision, hits: Sequence[Hit], ranks: Sequence[Sequence[Any] | None]) -> Hit | None:
    return min(hits, key=lambda hit: _rank(hit, ranks)) if hits else None


_SINGLE: dict[HitPolicy, Callable[[Decision, Sequence[Hit], Sequence[Sequence[Any] | None]], Hit | None]] = {
    HitPolicy.UNIQUE: _unique,
    HitPolicy.FIRST: _first,
    HitPolicy.ANY: _any,
    HitPolicy.PRIORITY: _priority,
}


def _rank(hit: Hit, ranks: Sequence[Sequence[Any] | None]) -> tuple[int, ...]:
    """Position of each output in its column's output values (unlisted values rank last)."""
    order = []
    for value, listed in zip(hit.outputs, ranks, strict=True):
        if listed is None:
            continue
        order.append(next((i for i, item in enumerate(listed) if feel_equal(value, item)), len(listed)))
    return tuple(order)


def _aggregate(decision: Decision, aggregation: Aggregation, values: list[Any], hits: Sequence[Hit]) -> Any:
    if aggregation is Aggregation.COUNT:
        return len(values)
    present = [value for value in values if value is not None]
    if not present:
        return None
    if aggregation is Aggregation.SUM:
        wrong = next((value for value in present if not is_number(value)), None)
        if wrong is not None:
            raise PolicyViolation(
                f"decision {decision.label}: COLLECT SUM adds numbers, but a matching rule gives {wrong!r}",
                _rule_giving(hits, wrong),
            )
        return sum(present)
    best = present[0]
    sign = -1 if aggregation is Aggregation.MIN else 1
    for value in present[1:]:
        order = feel_compare(value, best)
        if order is None:
            raise PolicyViolation(
                f"decision {decision.label}: COLLECT {aggregation.value} cannot compare {value!r} "
                f"with {best!r}",
                _rule_giving(hits, value),
            )
        if order == sign:
            best = value
    return best


def _rule_giving(hits: Sequence[Hit], value: Any) -> str | None:
    return next((hit.rule.id for hit in hits if hit.outputs and hit.outputs[0] is value), None)
