"""Camunda expressions in the sandbox: JUEL (``${…}``) and FEEL (``=…``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from apg_workflow.expressions.sandbox import ExpressionError, Limits, Sandbox

NOW = datetime(2024, 5, 3, 9, 30, tzinfo=UTC)
SANDBOX = Sandbox()
VARIABLES: dict[str, Any] = {
    "amount": 1500,
    "approved": True,
    "status": "ok",
    "list": [],
    "items": [{"sku": "A"}, {"sku": "B"}],
    "customer": {"name": "Ada", "address": {"city": "London"}},
    "nothing": None,
    "x": 3,
}


def value(text: str, language: str | None = None) -> Any:
    return SANDBOX.evaluate(text, language, VARIABLES, now=NOW)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("${amount > 1000 && approved}", True),
        ("${amount gt 2000 || !approved}", False),
        ("${status == 'ok'}", True),
        ('${status eq "ok" and not approved}', False),
        ("${empty list}", True),
        ("${not empty items}", True),
        ("${empty nothing}", True),
        ("${customer.name}", "Ada"),
        ("${customer.address.city}", "London"),
        ("${customer.phone == null}", True),
        ("${items[1].sku}", "B"),
        ("${items[5] == null}", True),
        ("${items.size() > 1 ? 'many' : 'few'}", "many"),
        ("${customer.name.startsWith('A') && items.isEmpty() == false}", True),
        ("${customer.containsKey('name')}", True),
        ("${amount div 4 + amount mod 7 - -1}", 378.0),
        ("${x * 2 le 6}", True),
        ("#{status != 'failed'}", True),
        ("  ${approved}  ", True),
    ],
)
def test_juel_expressions(text: str, expected: Any) -> None:
    assert value(text) == expected


def test_juel_templates_mix_text_and_expressions() -> None:
    assert value("Hello ${customer.name}, ${amount > 1000} (${nothing})") == "Hello Ada, true ()"
    assert value("Hello ${'world'}") == "Hello world"


def test_declared_juel_without_braces_is_one_expression() -> None:
    assert value("x * 2 > 5 && status == 'ok'", "juel") is True
    with pytest.raises(ExpressionError, match="unexpected `words`"):
        value("two words", "juel")


def test_juel_by_declared_language() -> None:
    assert value("${x + 1}", "juel") == 4


def test_juel_names_are_not_python_keywords() -> None:
    assert SANDBOX.evaluate(
        "${class == 'gold' && in.size() > 0}", None, {"class": "gold", "in": [1]}, now=NOW
    )
    with pytest.raises(ExpressionError, match="unknown variable 'fn:contains'"):
        value("${fn:contains(status, 'o')}")  # a function no one registered


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("= amount > 1000", True),
        ('= status = "ok"', True),
        ("= x != null", True),
        ("= nothing = null", True),
        ("= amount > 1000 and not(approved)", False),
        ("= customer.address.city", "London"),
        ("= customer.phone", None),
        ("= nothing.anything", None),
        ("= items[1].sku", "A"),
        ("= items[-1].sku", "B"),
        ("= items[3]", None),
        ("= count(items) + 1", 3),
        ("= x between 1 and 5", True),
        ("= x in [1, 2, 3]", True),
        ('= if amount > 2000 then "high" else "normal"', "normal"),
        ("= 2 ** 3 * (x - 1)", 16),
        ('= "Hello " + customer.name', "Hello Ada"),
        ("= -x / 2", -1.5),
        ("= [1, 2, x]", [1, 2, 3]),
        ("= upper case(status)", "OK"),
        ("= floor(x / 2)", 1),
        ('= items[sku = "B"].sku', ["B"]),
        ('= some item in items satisfies item.sku = "A"', True),
        ("= every n in [1, 2, x] satisfies n < 3", False),
        ("= x > 1 // a comment\n and /* another */ approved", True),
        ("= now()", NOW),
        ("= items.sku", ["A", "B"]),
        ("= items[-2].sku", "A"),
        ("= customer[1].name", "Ada"),  # a value that is not a list is a list of itself
        ("= items[nothing]", []),
        ("= nothing[1]", None),
    ],
)
def test_feel_expressions(text: str, expected: Any) -> None:
    assert value(text) == expected


def test_feel_by_declared_language() -> None:
    assert value("amount < 2000 or false", "feel") is True
    assert value("status", "https://www.omg.org/spec/DMN/20191111/FEEL/") == "ok"


@pytest.mark.parametrize(
    ("text", "message", "column"),
    [
        ("${amount >}", "unexpected end of expression", 11),
        ("${amount > 1000", "`${` is never closed", 1),
        ("${'open}", "the string is never closed", 3),
        ("${__class__}", "the name '__class__' is not available", 3),
        ("${customer.__class__}", "the name '__class__' is not available", 12),
        ("= amount >", "unexpected end of expression", 11),
        ("= frobnicate(x)", "unknown function 'frobnicate'", 3),
        ("= x @ 1", "unexpected character `@`", 5),
        ("= x == 1", "FEEL compares with `=`, not `==`", 5),
    ],
)
def test_translation_errors_are_located(text: str, message: str, column: int) -> None:
    with pytest.raises(ExpressionError) as caught:
        value(text)
    assert message in str(caught.value)
    assert (caught.value.line, caught.value.column) == (1, column)


def test_runtime_errors_in_translated_expressions_are_located() -> None:
    with pytest.raises(ExpressionError) as caught:
        value("${unknown > 1}")
    assert caught.value.message == "unknown variable 'unknown'"
    assert caught.value.column == 3


def test_guards_hold_in_translated_expressions() -> None:
    with pytest.raises(ExpressionError) as caught:
        value("${customer.name.encode()}")
    assert "access to 'str.encode' is not allowed" in str(caught.value)
    with pytest.raises(ExpressionError) as huge:
        value("${status * 2000000}")
    assert huge.value.limit == "max_length"


def test_feel_evaluation_is_bounded() -> None:
    # An integer beyond 4300 digits is out of FEEL's range: null, found before it is computed.
    assert value("= 10 ** 5000") is None
    assert value("= ((2 ** 512) ** 512) ** 512") is None
    assert value('= "ab" * 1000') is None  # FEEL has no string repetition
    # Filters and quantifiers pay for every item they visit, from the sandbox's iteration limit.
    sandbox = Sandbox(Limits(max_iterations=1000))
    nested = "= some a in xs, b in xs satisfies a + b < 0"
    assert sandbox.evaluate(nested, None, {"xs": list(range(30))}, now=NOW) is False
    with pytest.raises(ExpressionError) as caught:
        sandbox.evaluate(nested, None, {"xs": list(range(100))}, now=NOW)
    assert caught.value.limit == "max_iterations"
    # Nesting is bounded when compiled, and deep quantifiers do not recurse when evaluated.
    with pytest.raises(ExpressionError, match="nested too deeply"):
        value("= 1" + " + (1" * 300 + ")" * 300)
    many = ", ".join(f"a{i} in [1]" for i in range(600))
    assert value(f"= every {many} satisfies a0 = 1 and a599 = 1") is True


def test_scripts_are_python_only() -> None:
    with pytest.raises(ExpressionError, match="scripts in JUEL are not supported"):
        SANDBOX.compile("${x}", "juel", "script")
