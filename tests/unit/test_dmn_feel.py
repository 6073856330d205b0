"""FEEL as decision tables use it: unary tests in input entries, expressions elsewhere."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from apg_workflow.expressions.errors import ExpressionSyntaxError
from apg_workflow.expressions.feel_eval import compile_expression, compile_unary_tests, evaluate, matches

NOW = datetime(2026, 3, 1, 12, 0)


@pytest.mark.parametrize(
    ("tests", "value", "expected"),
    [
        ("-", 42, True),
        ("-", None, True),
        ("", "anything", True),
        ("42", 42, True),
        ("42", 42.0, True),
        ("42", "42", False),
        ('"gold"', "gold", True),
        ('"gold"', "Gold", False),
        ("true", True, True),
        ("true", 1, False),
        ("false", False, True),
        ("null", None, True),
        ("null", 0, False),
        ('"gold"', None, False),
        ("< 5", 4, True),
        ("< 5", 5, False),
        ("<= 5", 5, True),
        ("> 5", 5, False),
        (">= 10", 10, True),
        (">= 10", 9.99, False),
        ("= 3", 3, True),
        ("!= 3", 4, True),
        ("[1..10]", 1, True),
        ("[1..10]", 10, True),
        ("[1..10]", 10.5, False),
        ("(1..10)", 1, False),
        ("(1..10)", 2, True),
        ("]1..10[", 10, False),
        ("]1..10[", 9, True),
        ("[1..10[", 10, False),
        ("[1..10)", 10, False),
        ('"a","b"', "b", True),
        ('"a","b"', "c", False),
        ("1, [5..7], > 100", 6, True),
        ("1, [5..7], > 100", 8, False),
        ('not("a","b")', "c", True),
        ('not("a","b")', "a", False),
        ("not(< 5)", 7, True),
        ("not(null)", 1, True),
        ('date("2026-01-01")', date(2026, 1, 1), True),
        ('date("2026-01-01")', "2026-01-01", True),
        ('> date("2026-01-01")', date(2026, 2, 1), True),
        ('[date("2026-01-01")..date("2026-12-31")]', "2026-06-30", True),
        ('< date and time("2026-01-01T09:00:00")', datetime(2026, 1, 1, 8, 59), True),
        ("? > 5 and ? < 10", 7, True),
        ("? > 5 and ? < 10", 10, False),
        ('"vip" in ?', ["new", "vip"], True),
        ('["a","b"]', "a", True),
        ("-5", -5, True),
        ("< limit", 3, True),
        ("< limit", 4, False),
        ("age >= 18", 0, True),
    ],
)
def test_unary_tests(tests: str, value: object, expected: bool) -> None:
    assert matches(tests, value, {"limit": 4, "age": 20}, now=NOW) is expected


@pytest.mark.parametrize(
    ("tests", "value"),
    [("< 5", "four"), ("[1..10]", "x"), ('> date("2026-01-01")', 5), ("not(< 5)", "x"), ("< 5", None)],
)
def test_a_test_between_values_of_different_kinds_does_not_match(tests: str, value: object) -> None:
    assert matches(tests, value) is False


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("customer.type", "gold"),
        ("customer.address.city", "Lyon"),
        ("customer.missing", None),
        ("unknown", None),
        ("order total * 2", 250),
        ("`tax-rate` * 100", 20.0),
        ("1 + 2 * 3", 7),
        ("(1 + 2) * 3", 9),
        ("10 / 4", 2.5),
        ("10 / 5", 2),
        ("2 ** 10", 1024),
        ("-amount + 1", -99),
        ('"order " + customer.type', "order gold"),
        ('amount > 50 and customer.type = "gold"', True),
        ("amount > 500 or false", False),
        ("amount between 1 and 100", True),
        ("amount in [1..99]", False),
        ('customer.type in ["gold", "silver"]', True),
        ('if amount > 50 then "big" else "small"', "big"),
        ("not(amount > 50)", False),
        ('string length("hello")', 5),
        ('upper case("abc")', "ABC"),
        ('lower case("ABC")', "abc"),
        ('contains("abcdef", "cd")', True),
        ('starts with("abc", "ab")', True),
        ('substring("abcdef", 2, 3)', "bcd"),
        ('date("2026-01-31")', date(2026, 1, 31)),
        ("date(2026, 1, 31)", date(2026, 1, 31)),
        ('date("2026-01-05").weekday', 1),
        ('number("12.5") + 1', 13.5),
        ("string(12)", "12"),
        ("sum([1, 2, 3])", 6),
        ("sum(1, 2, 3)", 6),
        ("count(items)", 3),
        ("min(items)", 1),
        ("max([3, 9, 4])", 9),
        ('max("pear", "apple")', "pear"),
        ("mean([1, 2, 3])", 2),
        ("decimal(1.005, 2)", 1.0),
        ("today()", date(2026, 3, 1)),
        ('{name: "x", "the total": amount}', {"name": "x", "the total": 100}),
        ("= amount + 1", 101),
        ("null", None),
    ],
)
def test_expressions(expression: str, expected: object) -> None:
    variables = {
        "customer": {"type": "gold", "address": {"city": "Lyon"}},
        "amount": 100,
        "order total": 125,
        "tax-rate": 0.2,
        "items": [3, 1, 2],
    }
    assert evaluate(expression, variables, now=NOW) == expected


@pytest.mark.parametrize(
    "expression",
    [
        '"a" * 3',
        "1 / 0",
        'amount + "x"',
        "null + 1",
        "true + 1",
        "10 ** 10 ** 10",
        'date("not a date")',
        'sum(["a"])',
        "count(5)",
        'amount < "text"',
    ],
)
def test_operations_on_the_wrong_kinds_give_null(expression: str) -> None:
    assert evaluate(expression, {"amount": 5}) is None


def test_three_valued_logic() -> None:
    assert evaluate("true and null") is None
    assert evaluate("false and null") is False
    assert evaluate("true or null") is True
    assert evaluate("false or null") is None


def test_compiled_once_and_reused() -> None:
    assert compile_unary_tests("[1..5]") is compile_unary_tests("[1..5]")
    assert compile_expression("a + 1") is compile_expression("a + 1")
    assert compile_expression("? > 1").uses_input


@pytest.mark.parametrize(
    ("text", "reason", "column"),
    [
        ("amount >", "unexpected end of expression", 9),
        ("amount == 5", "FEEL compares with `=`, not `==`", 8),
        ("a && b", "FEEL writes `and`, not `&&`", 3),
        ('"open', "the string is never closed", 1),
        ("frobnicate(1)", "unknown function 'frobnicate'", 1),
        ('string length("a", "b")', "'string length' takes 1 argument(s), not 2", 1),
        ("1 +* 2", "unexpected `*`", 4),
    ],
)
def test_syntax_errors_are_located(text: str, reason: str, column: int) -> None:
    with pytest.raises(ExpressionSyntaxError) as caught:
        compile_expression(text)
    assert caught.value.reason == reason
    assert caught.value.column == column


def test_unary_test_syntax_errors() -> None:
    with pytest.raises(ExpressionSyntaxError, match="unexpected end of expression"):
        compile_unary_tests("[1..")
    with pytest.raises(ExpressionSyntaxError, match="belongs in an input entry"):
        compile_expression("not(< 5)")


def test_paths_never_reach_python_attributes() -> None:
    class Secret:
        password = "hunter2"

    assert evaluate("thing.password", {"thing": Secret()}) is None
    assert evaluate('"abc".upper') is None
