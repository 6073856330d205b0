"""Each hit policy, with and without matches, through the .dmn reader and the evaluator."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from xml.sax.saxutils import escape

import pytest

from apg_workflow.engine.decisions import DecisionError, evaluate_decision
from apg_workflow.formats.dmn import read_dmn
from apg_workflow.model.decisions import Decision

NOW = datetime(2026, 3, 1, 12, 0)
DMN13 = "https://www.omg.org/spec/DMN/20191111/MODEL/"


class NoPython:
    """These tables are FEEL only: the sandbox must never be asked."""

    def evaluate(self, *args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a FEEL table used the Python sandbox")


def table(
    rules: list[tuple[str, ...]],
    *,
    hit_policy: str | None = None,
    aggregation: str | None = None,
    outputs: tuple[str, ...] = ("result",),
    output_values: str | None = None,
    default: str | None = None,
) -> Decision:
    """A decision with one input column (``score``) and the given rules: (input entry, outputs…)."""
    attributes = (f' hitPolicy="{hit_policy}"' if hit_policy else "") + (
        f' aggregation="{aggregation}"' if aggregation else ""
    )
    columns = "".join(
        f'<output id="out_{name}" name="{name}">'
        + (f"<outputValues><text>{output_values}</text></outputValues>" if output_values and i == 0 else "")
        + (f"<defaultOutputEntry><text>{default}</text></defaultOutputEntry>" if default and i == 0 else "")
        + "</output>"
        for i, name in enumerate(outputs)
    )
    rows = "".join(
        f'<rule id="r{n}"><inputEntry><text>{escape(entry)}</text></inputEntry>'
        + "".join(f"<outputEntry><text>{escape(out)}</text></outputEntry>" for out in outs)
        + "</rule>"
        for n, (entry, *outs) in enumerate(rules, start=1)
    )
    xml = (
        f'<definitions xmlns="{DMN13}" id="d" name="d" namespace="urn:test">'
        f'<decision id="decision" name="Scoring"><decisionTable id="t"{attributes}>'
        '<input id="in" label="Score"><inputExpression><text>score</text></inputExpression></input>'
        f"{columns}{rows}</decisionTable></decision></definitions>"
    )
    return read_dmn(xml)


def decide(decision: Any, score: Any) -> Any:
    return evaluate_decision(decision.get("decision"), {"score": score}, sandbox=NoPython(), now=NOW)


RULES = [("> 10", '"high"'), ("> 5", '"medium"'), ("-", '"any"')]


def test_unique_answers_the_one_matching_rule() -> None:
    decision = table([("> 10", '"high"'), ("[6..10]", '"medium"'), ("<= 5", '"low"')], hit_policy="UNIQUE")
    assert decide(decision, 7).value == "medium"
    assert [m.rule_id for m in decide(decision, 7).matched_rules] == ["r2"]
    assert decide(decision, None).value is None


def test_unique_is_the_default_hit_policy() -> None:
    decision = table(RULES)
    with pytest.raises(DecisionError) as caught:
        decide(decision, 20)
    error = caught.value
    assert error.decision_id == "decision"
    assert error.rule_id == "r1"
    assert str(error) == (
        "decision 'Scoring' (decision): hit policy UNIQUE allows one matching rule, but rules 'r1' (row 1), "
        "'r2' (row 2) and 'r3' (row 3) all match; make their conditions exclusive or choose another hit "
        "policy (FIRST, PRIORITY, COLLECT)"
    )


def test_first_answers_the_first_match_in_rule_order() -> None:
    decision = table(RULES, hit_policy="FIRST")
    assert decide(decision, 20).value == "high"
    assert decide(decision, 7).value == "medium"
    assert decide(decision, 1).value == "any"


def test_any_accepts_matches_that_agree() -> None:
    decision = table([("> 10", '"yes"'), ("> 5", '"yes"'), ("<= 5", '"no"')], hit_policy="ANY")
    assert decide(decision, 20).value == "yes"
    assert len(decide(decision, 20).matched_rules) == 1


def test_any_refuses_matches_that_disagree() -> None:
    decision = table([("> 10", '"yes"'), ("> 5", '"no"')], hit_policy="ANY")
    with pytest.raises(DecisionError, match=r"hit policy ANY .* rules 'r1' \(row 1\) and 'r2' \(row 2\)"):
        decide(decision, 20)


def test_priority_picks_the_output_listed_first_in_output_values() -> None:
    decision = table(
        [("> 0", '"low"'), ("> 10", '"high"'), ("> 5", '"medium"')],
        hit_policy="PRIORITY",
        output_values='"high","medium","low"',
    )
    assert decide(decision, 20).value == "high"
    assert decide(decision, 7).value == "medium"
    assert decide(decision, 1).value == "low"
    assert [m.rule_id for m in decide(decision, 7).matched_rules] == ["r3"]


def test_collect_lists_every_match_in_rule_order() -> None:
    decision = table(RULES, hit_policy="COLLECT")
    assert decide(decision, 20).value == ["high", "medium", "any"]
    assert decide(decision, 20).variables == {"result": ["high", "medium", "any"]}
    assert [m.row for m in decide(decision, 20).matched_rules] == [1, 2, 3]


def test_collect_without_match_is_an_empty_list() -> None:
    decision = table([("> 10", '"high"')], hit_policy="COLLECT")
    assert decide(decision, 1).value == []


@pytest.mark.parametrize(
    ("aggregation", "score", "expected"),
    [
        ("SUM", 20, 111),
        ("SUM", 7, 11),
        ("SUM", -1, None),
        ("MIN", 20, 1),
        ("MAX", 20, 100),
        ("MAX", 7, 10),
        ("COUNT", 20, 3),
        ("COUNT", -1, 0),
    ],
)
def test_collect_with_aggregation(aggregation: str, score: int, expected: int | None) -> None:
    decision = table(
        [("> 10", "100"), ("> 5", "10"), ("> 0", "1")], hit_policy="COLLECT", aggregation=aggregation
    )
    assert decide(decision, score).value == expected


def test_collect_sum_of_something_else_than_numbers_is_an_error() -> None:
    decision = table([("> 0", '"one"'), ("> 0", "1")], hit_policy="COLLECT", aggregation="SUM")
    with pytest.raises(DecisionError, match="COLLECT SUM adds numbers"):
        decide(decision, 3)


def test_rule_order_lists_matches_in_rule_order() -> None:
    decision = table([("> 0", '"c"'), ("> 5", '"a"'), ("> 10", '"b"')], hit_policy="RULE ORDER")
    assert decide(decision, 20).value == ["c", "a", "b"]


def test_output_order_sorts_matches_by_output_values() -> None:
    decision = table(
        [("> 0", '"low"'), ("> 10", '"high"'), ("> 5", '"medium"')],
        hit_policy="OUTPUT ORDER",
        output_values='"high","medium","low"',
    )
    assert decide(decision, 20).value == ["high", "medium", "low"]
    assert [m.rule_id for m in decide(decision, 20).matched_rules] == ["r2", "r3", "r1"]


def test_multiple_outputs_give_dicts_keyed_by_output_name() -> None:
    rules = [("> 10", '"high"', "0.2"), ("> 5", '"medium"', "0.1")]
    single = table(rules, hit_policy="FIRST", outputs=("level", "discount"))
    assert decide(single, 20).value == {"level": "high", "discount": 0.2}
    collected = table(rules, hit_policy="COLLECT", outputs=("level", "discount"))
    assert decide(collected, 20).value == [
        {"level": "high", "discount": 0.2},
        {"level": "medium", "discount": 0.1},
    ]
    assert decide(collected, 20).variables == {"level": ["high", "medium"], "discount": [0.2, 0.1]}


def test_no_match_gives_the_default_output() -> None:
    decision = table([("> 10", '"high"')], hit_policy="UNIQUE", default='"none"')
    assert decide(decision, 1).value == "none"
    assert decide(decision, 1).matched_rules == ()
    assert decide(decision, 20).value == "high"


def test_an_empty_output_entry_is_null() -> None:
    decision = table([("-", "")], hit_policy="FIRST")
    assert decide(decision, 1).value is None


def test_compiled_tables_are_reused() -> None:
    decision = table(RULES, hit_policy="FIRST")
    results = [decide(decision, score).value for score in range(0, 15)]
    assert results.count("high") == 4
    assert results.count("medium") == 5
