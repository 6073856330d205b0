"""data.math: formulas in the sandbox."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.unit.components.test_data_catalogue import fails, refused, run


@pytest.mark.parametrize(
    ("expression", "inputs", "result"),
    [
        ("price * qty - discount", {"price": 9.5, "qty": 3, "discount": 2}, 26.5),
        ("floor(log10(n)) + 1", {"n": 12345}, 5),
        ("hypot(3, 4) + pi - pi", {}, 5.0),
        ("max(scores) - min(scores)", {"scores": [3, 9, 4]}, 6),
        ("Decimal(amount) * Decimal('1.25')", {"amount": "10.10"}, Decimal("12.6250")),
        ("e", {"e": 2}, 2),
    ],
)
def test_formulas_over_the_inputs(expression: str, inputs: dict[str, object], result: object) -> None:
    assert run("data.math", {"expression": expression}, inputs) == {"result": result}


def test_results_can_be_rounded() -> None:
    assert run("data.math", {"expression": "10 / 3", "round_to": 2}, {}) == {"result": 3.33}


@pytest.mark.parametrize(
    ("expression", "inputs", "expected"),
    [
        ("a / b", {"a": 1, "b": 0}, "ZeroDivisionError"),
        ("sqrt(x)", {"x": -1}, "math domain error"),
        ("exp(x)", {"x": 1000}, "OverflowError"),
        ("x * 1e308 * 10", {"x": 10}, "not finite"),
        ("name", {"name": "Ada"}, "a string, not a number"),
        ("a > b", {"a": 1, "b": 0}, "a boolean, not a number"),
        ("10 ** 10 ** 10", {}, "4,300 digits"),
        ("missing + 1", {}, "unknown variable 'missing'"),
    ],
)
def test_failures_are_expression_failed_errors(
    expression: str, inputs: dict[str, object], expected: str
) -> None:
    message = fails("data.math", {"expression": expression}, inputs, "expression-failed")
    assert message.startswith("data.math: ") and expected in message


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("__import__('os').system('true')", "the name '__import__' is not available"),
        ("().__class__.__bases__", "the attribute '__bases__' is private"),
        ("sqrt.__self__", "the attribute '__self__' is private"),
        ("open('/etc/passwd')", "'open()' is not available"),
    ],
)
def test_nothing_but_arithmetic_is_reachable(expression: str, expected: str) -> None:
    assert f"expression: {expected}" in refused("data.math", {"expression": expression})


def test_functions_that_grow_without_bound_are_not_offered() -> None:
    message = fails("data.math", {"expression": "factorial(10 ** 6)"}, {}, "expression-failed")
    assert "unknown variable 'factorial'" in message
