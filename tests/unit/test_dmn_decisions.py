"""Evaluating whole .dmn files as business-rule tasks do: Camunda-style FEEL, SpiffWorkflow-style
Python, DMN 1.1 and 1.4 files, required decisions, and errors that name the decision and rule."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from apg_workflow.engine.decisions import DecisionError, evaluate_decision
from apg_workflow.formats.dmn import read_dmn
from apg_workflow.model.decisions import DecisionDefinitions

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "dmn"
NOW = datetime(2026, 3, 1, 12, 0)
DMN13 = "https://www.omg.org/spec/DMN/20191111/MODEL/"


class _PythonDouble:
    """Stands in for the sandbox until :mod:`apg_workflow.expressions.sandbox` is importable."""

    _BUILTINS = {"round": round, "len": len, "min": min, "max": max, "sum": sum}

    def evaluate(
        self, text: str, language: str | None, variables: Mapping[str, Any], *, now: datetime
    ) -> Any:
        return eval(text, {"__builtins__": self._BUILTINS}, dict(variables))


class NoPython:
    def evaluate(self, *args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a FEEL decision used the Python sandbox")


@pytest.fixture(scope="module")
def sandbox() -> Any:
    try:
        from apg_workflow.expressions.sandbox import Sandbox
    except ImportError:
        return _PythonDouble()
    return Sandbox()


def load(name: str) -> DecisionDefinitions:
    return read_dmn((FIXTURES / name).read_bytes(), source=name)


# ---- Camunda Modeler, DMN 1.3, FEEL ---------------------------------------------------------------

LOAN = load("camunda_loan_approval.dmn")


@pytest.mark.parametrize(
    ("score", "amount", "rating", "approved", "reason"),
    [
        (800, 5000, "A", True, "rating A covers 5000"),
        (700, 9000, "B", True, "rating B covers 9000"),
        (800, 20000, "A", True, "large loan, excellent rating"),
        (700, 20000, "B", False, "too large for rating B"),
        (None, 500000, "C", False, "far too large"),
        (500, 100, "C", False, "rating C"),
    ],
)
def test_camunda_loan_approval(
    score: int | None, amount: int, rating: str, approved: bool, reason: str
) -> None:
    variables = {"applicant": {"creditScore": score}, "amount": amount}
    result = evaluate_decision(LOAN.get("loan_decision"), variables, sandbox=NoPython(), now=NOW)
    assert result.value == {"approved": approved, "reason": reason}
    assert result.variables == {"approved": approved, "reason": reason}
    assert result.required["credit_rating"].value == rating
    assert len(result.matched_rules) == 1


def test_matched_rules_record_history() -> None:
    result = evaluate_decision(
        LOAN.get("credit_rating"), {"applicant": {"creditScore": 900}}, sandbox=NoPython(), now=NOW
    )
    (matched,) = result.matched_rules
    assert matched.to_dict() == {
        "rule_id": "Rule_A",
        "row": 1,
        "annotations": ["Excellent history"],
        "outputs": {"rating": "A"},
    }


# ---- SpiffWorkflow style: Python expressions, `?`, operator-prefixed entries ----------------------

SHIPPING = load("spiff_shipping.dmn")


@pytest.mark.parametrize(
    ("order", "customer", "method", "cost"),
    [
        ({"total": 50, "country": "de"}, {}, "standard", 5.4),
        ({"total": 150, "country": "DE"}, {"tags": ["vip"]}, "express", 0),
        ({"total": 150, "country": "de"}, {}, "standard", 0),
        ({"total": 50, "country": "at"}, {}, "standard", 5.4),
        ({"total": 50, "country": "fr"}, {}, "international", 19.9),
        ({"total": 900, "country": "us"}, {"tags": []}, "international", 0),
    ],
)
def test_spiffworkflow_python_table(
    sandbox: Any, order: dict, customer: dict, method: str, cost: float
) -> None:
    decision = SHIPPING.get("shipping_options")
    result = evaluate_decision(decision, {"order": order, "customer": customer}, sandbox=sandbox, now=NOW)
    assert result.value == {"shipping_method": method, "shipping_cost": cost}


def test_spiffworkflow_python_failure_names_the_cell(sandbox: Any) -> None:
    decision = SHIPPING.get("shipping_options")
    with pytest.raises(DecisionError) as caught:
        evaluate_decision(decision, {"order": {"total": 5}, "customer": {}}, sandbox=sandbox, now=NOW)
    assert caught.value.decision_id == "shipping_options"
    assert "input column 2 ('Country')" in str(caught.value)


def test_python_declared_on_an_input_expression_makes_the_table_python(sandbox: Any) -> None:
    text = (
        f'<definitions xmlns="{DMN13}"><decision id="d"><decisionTable hitPolicy="COLLECT">'
        '<input><inputExpression expressionLanguage="python"><text>kind</text></inputExpression></input>'
        '<output name="n"/>'
        + "".join(
            f'<rule id="r{n}"><inputEntry><text>"{kind}"</text></inputEntry>'
            f"<outputEntry><text>{n}</text></outputEntry></rule>"
            for n, kind in ((1, "stooge"), (2, "stooge"), (3, "farmer"))
        )
        + "</decisionTable></decision></definitions>"
    )
    decision = read_dmn(text).get("d")
    assert evaluate_decision(decision, {"kind": "stooge"}, sandbox=sandbox, now=NOW).value == [1, 2]


# ---- DMN 1.1 and 1.4 ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("customer_type", "years", "percent"), [("Business", 7, 12.5), ("Private", 12, 5), ("Private", 1, None)]
)
def test_dmn11_collect_sum(customer_type: str, years: int, percent: float | None) -> None:
    decision = load("dmn11_discount.dmn").get("discount")
    result = evaluate_decision(
        decision, {"customerType": customer_type, "years": years}, sandbox=NoPython(), now=NOW
    )
    assert result.value == percent


@pytest.mark.parametrize(
    ("birth", "country", "expected", "age"),
    [
        ("1990-05-01", "de", "ELIGIBLE", 36),
        ("1940-05-01", "fr", "REVIEW", 86),  # two rules match: PRIORITY prefers REVIEW
        ("2015-05-01", "us", "INELIGIBLE", 11),
        ("1990-05-01", "us", "REVIEW", 36),  # no rule matches: the default output
    ],
)
def test_dmn14_literal_decision_and_priority(birth: str, country: str, expected: str, age: int) -> None:
    decision = load("dmn14_eligibility.dmn").get("Eligibility")
    result = evaluate_decision(
        decision, {"Applicant": {"birthDate": birth, "country": country}}, sandbox=NoPython(), now=NOW
    )
    assert result.value == expected
    assert result.required["age"].value == age
    assert result.required["age"].variables == {"Age": age}


# ---- errors never escape raw ----------------------------------------------------------------------


def _one_cell_table(entry: str, output: str = '"ok"', language: str | None = None) -> Any:
    declared = f' expressionLanguage="{language}"' if language else ""
    text = (
        f'<definitions xmlns="{DMN13}"><decision id="d" name="Check"><decisionTable>'
        '<input label="X"><inputExpression><text>x</text></inputExpression></input><output name="y"/>'
        f'<rule id="bad"><inputEntry{declared}><text>{entry}</text></inputEntry>'
        f"<outputEntry><text>{output}</text></outputEntry></rule>"
        "</decisionTable></decision></definitions>"
    )
    return read_dmn(text).get("d")


def test_a_cell_in_neither_feel_nor_python_is_a_decision_error(sandbox: Any) -> None:
    with pytest.raises(DecisionError) as caught:
        evaluate_decision(_one_cell_table("[1.."), {"x": 1}, sandbox=sandbox, now=NOW)
    assert caught.value.rule_id == "bad"
    assert "rule 'bad' (row 1), input entry for column 1 ('X')" in str(caught.value)
    assert "is not valid FEEL" in str(caught.value)


def test_an_unsupported_expression_language_is_a_decision_error(sandbox: Any) -> None:
    with pytest.raises(DecisionError, match="expression language 'javascript' is not supported"):
        evaluate_decision(_one_cell_table("x > 1", language="javascript"), {"x": 1}, sandbox=sandbox, now=NOW)


def test_a_failing_python_output_is_a_decision_error(sandbox: Any) -> None:
    decision = _one_cell_table("-", output="1 // 0")
    with pytest.raises(DecisionError) as caught:
        evaluate_decision(decision, {"x": 1}, sandbox=sandbox, now=NOW)
    assert caught.value.rule_id == "bad"
    assert "`1 // 0` failed" in str(caught.value)


# ---- the examples of docs/decisions.md ------------------------------------------------------------

DOC_EXAMPLES = re.findall(
    r"<!-- dmn example -->\s*```xml\n(.*?)\n```",
    (FIXTURES.parent.parent.parent / "docs" / "decisions.md").read_text(encoding="utf-8"),
    re.DOTALL,
)


def test_the_documented_camunda_example() -> None:
    decision = read_dmn(DOC_EXAMPLES[0]).get("Dish")
    assert evaluate_decision(
        decision, {"season": "Winter", "guestCount": 4}, sandbox=NoPython(), now=NOW
    ).value == ("Roastbeef")
    assert evaluate_decision(
        decision, {"season": "Fall", "guestCount": 12}, sandbox=NoPython(), now=NOW
    ).value == ("Stew")


def test_the_documented_spiffworkflow_example(sandbox: Any) -> None:
    decision = read_dmn(DOC_EXAMPLES[1]).get("fees")
    result = evaluate_decision(decision, {"payment": {"amount": 250}}, sandbox=sandbox, now=NOW)
    assert (result.value, result.variables) == (5.0, {"fee": 5.0})
    assert evaluate_decision(decision, {"payment": {"amount": 5}}, sandbox=sandbox, now=NOW).value == 0
    assert evaluate_decision(decision, {"payment": {"amount": 5000}}, sandbox=sandbox, now=NOW).value == 20


class RecordingJuel:
    """Answers JUEL the way Camunda 7 would for these two texts, and records what it was asked."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str | None, dict[str, Any]]] = []

    def evaluate(
        self, text: str, language: str | None, variables: Mapping[str, Any], *, now: datetime
    ) -> Any:
        self.calls.append((text, language, dict(variables)))
        if text == "${amount}":
            return variables["amount"]
        assert text == "${cellInput > 5}"
        return variables["cellInput"] > 5


def test_juel_cells_go_to_the_sandbox_with_the_input_bound() -> None:
    text = (
        f'<definitions xmlns="{DMN13}"><decision id="d"><decisionTable hitPolicy="FIRST">'
        "<input><inputExpression><text>${amount}</text></inputExpression></input><output name='y'/>"
        '<rule id="big"><inputEntry><text>${cellInput &gt; 5}</text></inputEntry>'
        '<outputEntry><text>"big"</text></outputEntry></rule>'
        '<rule id="other"><inputEntry><text>-</text></inputEntry>'
        '<outputEntry><text>"small"</text></outputEntry></rule>'
        "</decisionTable></decision></definitions>"
    )
    decision = read_dmn(text).get("d")
    sandbox = RecordingJuel()
    assert evaluate_decision(decision, {"amount": 9}, sandbox=sandbox, now=NOW).value == "big"
    assert evaluate_decision(decision, {"amount": 2}, sandbox=sandbox, now=NOW).value == "small"
    assert [(call[0], call[1]) for call in sandbox.calls[:2]] == [
        ("${amount}", "juel"),
        ("${cellInput > 5}", "juel"),
    ]
    assert sandbox.calls[1][2]["cellInput"] == 9
