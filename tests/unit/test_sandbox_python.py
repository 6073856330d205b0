"""The Python subset: SpiffWorkflow-style conditions and scripts run unchanged in the sandbox."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from apg_workflow.expressions import errors
from apg_workflow.expressions.sandbox import ExpressionError, Limits, Sandbox

NOW = datetime(2024, 5, 3, 9, 30, tzinfo=UTC)  # a Friday
SANDBOX = Sandbox()

ORDER: dict[str, Any] = {
    "order_id": 42,
    "customer": {"name": "ada lovelace", "tier": "gold", "email": "ada@example.com"},
    "lines": [
        {"sku": "A-1", "qty": 2, "price": Decimal("19.99")},
        {"sku": "B-7", "qty": 1, "price": Decimal("250.00")},
        {"sku": "C-3", "qty": 10, "price": Decimal("4.50")},
    ],
    "tags": ["new", "priority"],
    "amount": 1500,
    "approved": True,
    "status": "ok",
}


def run(script: str, variables: dict[str, Any] | None = None, *, now: datetime = NOW) -> dict[str, Any]:
    return SANDBOX.execute(script, variables if variables is not None else copy.deepcopy(ORDER), now=now)


def value(text: str, variables: dict[str, Any] | None = None, language: str | None = None) -> Any:
    return SANDBOX.evaluate(text, language, variables if variables is not None else ORDER, now=NOW)


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("amount > 1000 and approved", True),
        ("status in ('ok', 'done')", True),
        ("len(lines) > 3", False),
        ("customer['tier'] == 'gold' and 'priority' in tags", True),
        ("not approved or amount < 100", False),
        ("any(line['qty'] > 5 for line in lines)", True),
        ("all(line['price'] > 0 for line in lines)", True),
        ("customer.get('vip', False)", False),
        ("sum(line['qty'] for line in lines) >= 13", True),
        ("max(line['price'] for line in lines) == Decimal('250.00')", True),
        ("customer['email'].endswith('@example.com')", True),
        ("1000 < amount <= 2000", True),
        ("isinstance(amount, int) and not isinstance(amount, (str, list))", True),
    ],
)
def test_conditions_evaluate_as_python(condition: str, expected: bool) -> None:
    assert value(condition) is expected


def test_mappings_return_python_values() -> None:
    assert value("[line['sku'] for line in lines if line['qty'] > 1]") == ["A-1", "C-3"]
    assert value("{line['sku']: line['qty'] for line in lines}") == {"A-1": 2, "B-7": 1, "C-3": 10}
    assert value("customer['name'].title()") == "Ada Lovelace"
    assert value("sorted(tags, reverse=True)[0]") == "priority"
    assert value("lines[-1]['sku'][:1]") == "C"
    assert value("{*tags, 'vip'} - {'new'}") == {"priority", "vip"}
    assert value("amount // 7, amount % 7, -amount, 2 ** 10") == (214, 2, -1500, 1024)


def test_a_script_works_on_lists_and_dicts() -> None:
    result = run(
        """
        total = Decimal("0")
        for line in lines:
            line["subtotal"] = line["qty"] * line["price"]
            total += line["subtotal"]
        big = [line["sku"] for line in lines if line["subtotal"] > 100]
        by_sku = {line["sku"]: line["qty"] for line in lines}
        tags.append("reviewed")
        first, *rest = tags
        del approved
        """
    )
    assert result["total"] == Decimal("334.98")
    assert result["big"] == ["B-7"]
    assert result["by_sku"] == {"A-1": 2, "B-7": 1, "C-3": 10}
    assert result["lines"][0]["subtotal"] == Decimal("39.98")
    assert result["tags"] == ["new", "priority", "reviewed"]
    assert (result["first"], result["rest"]) == ("new", ["priority", "reviewed"])
    assert "approved" not in result


def test_a_script_does_money_math_with_decimal() -> None:
    result = run(
        """
        price = Decimal("19.99")
        tax = (price * Decimal("0.2")).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        gross = price + tax
        split = [(gross / 3).quantize(Decimal("0.01"))] * 3
        """
    )
    assert result["tax"] == Decimal("4.00")
    assert result["gross"] == Decimal("23.99")
    assert result["split"] == [Decimal("8.00")] * 3


def test_dates_read_the_engine_clock() -> None:
    result = run(
        """
        due = now() + timedelta(days=3)
        is_weekend = now().weekday() >= 5
        deadline = datetime.datetime.now() + datetime.timedelta(hours=4)
        local = datetime.now(timezone(timedelta(hours=2)))
        today = date.today().isoformat()
        start = datetime.strptime("2024-04-01", "%Y-%m-%d")
        days_open = (datetime.now() - start).days
        christmas = datetime(2024, 12, 25, tzinfo=timezone.utc) - now()
        stamp = f"{now():%Y-%m-%d %H:%M}"
        """,
        {},
    )
    assert result["due"] == NOW + timedelta(days=3)
    assert result["is_weekend"] is False
    assert result["deadline"] == datetime(2024, 5, 3, 13, 30)
    assert result["local"].hour == 11
    assert result["today"] == "2024-05-03"
    assert result["days_open"] == 32
    assert result["christmas"].days == 235
    assert result["stamp"] == "2024-05-03 09:30"


def test_virtual_time_moves_with_the_caller() -> None:
    later = NOW + timedelta(days=30)
    assert SANDBOX.evaluate("now()", None, {}, now=NOW) == NOW
    assert SANDBOX.evaluate("now()", None, {}, now=later) == later
    assert SANDBOX.evaluate("date.today()", None, {}, now=later) == date(2024, 6, 2)
    assert SANDBOX.evaluate(
        "isinstance(now(), datetime) and isinstance(date.today(), date)", None, {}, now=NOW
    )


def test_strings_format_as_in_python() -> None:
    result = run(
        """
        greeting = f"Dear {customer['name'].title()}, order #{order_id:05d} has {len(lines)} lines"
        padded = f"{status!r:>6}|{amount:,}|{1/3:.3f}"
        classic = "{} of {}".format(1, 2) + " " + "{name}".format(name="x") + " " + "{0[a]}".format({"a": 7})
        old = "%s=%d" % ("n", 5)
        words = " ".join(w.capitalize() for w in "hello sandbox world".split())
        """
    )
    assert result["greeting"] == "Dear Ada Lovelace, order #00042 has 3 lines"
    assert result["padded"] == "  'ok'|1,500|0.333"
    assert result["classic"] == "1 of 2 x 7"
    assert result["old"] == "n=5"
    assert result["words"] == "Hello Sandbox World"


def test_functions_lambdas_and_control_flow() -> None:
    result = run(
        """
        def factorial(n):
            return 1 if n <= 1 else n * factorial(n - 1)

        people = [{"name": "b", "age": 40}, {"name": "A", "age": 30}]
        youngest = sorted(people, key=lambda p: p["age"])[0]["name"]
        names = sorted((p["name"] for p in people), key=str.lower)
        count = 0
        while True:
            count += 1
            if count % 2:
                continue
            if count > 6:
                break
        try:
            parsed = int("12x")
        except (ValueError, TypeError) as error:
            parsed = -1
            reason = str(error)
        else:
            reason = None
        fact = factorial(10)
        pairs = list(zip(range(3), "abc"))
        numbered = {i: n for i, n in enumerate(names, start=1)}
        print("no output", fact)
        """,
        {},
    )
    assert result["fact"] == 3628800
    assert result["youngest"] == "A"
    assert result["names"] == ["A", "b"]
    assert result["count"] == 8
    assert result["parsed"] == -1 and "invalid literal" in result["reason"]
    assert result["pairs"] == [(0, "a"), (1, "b"), (2, "c")]
    assert result["numbered"] == {1: "A", 2: "b"}
    assert "factorial" not in result  # functions are not variables (as in SpiffWorkflow)


def test_the_input_variables_are_never_changed() -> None:
    variables = copy.deepcopy(ORDER)
    before = copy.deepcopy(variables)
    run(
        """
        lines[0]["qty"] = 99
        lines.append({"sku": "Z"})
        customer["tier"] += "!"
        tags.sort(reverse=True)
        alias = tags
        alias.clear()
        amount += 1
        """,
        variables,
    )
    SANDBOX.evaluate("lines.pop() and tags.pop()", None, variables, now=NOW)
    assert variables == before


def test_the_result_holds_every_variable_after_the_script() -> None:
    variables = {"keep": [1, 2], "change": 1, "drop": "x"}
    result = SANDBOX.execute("change = change + 1\nnew = keep[0]\ndel drop", variables, now=NOW)
    assert result == {"keep": [1, 2], "change": 2, "new": 1}


def test_errors_carry_line_and_column() -> None:
    with pytest.raises(ExpressionError) as syntax:
        SANDBOX.execute("x = 1\ny = (2 +\n", {}, now=NOW)
    assert syntax.value.line is not None
    with pytest.raises(ExpressionError) as runtime:
        SANDBOX.execute("a = 1\nb = [1, 2]\nc = a + b[5]", {}, now=NOW)
    assert (runtime.value.line, runtime.value.column) == (3, 9)
    assert str(runtime.value) == "IndexError: list index out of range at line 3, column 9: `c = a + b[5]`"
    with pytest.raises(ExpressionError) as unknown:
        SANDBOX.evaluate("amount > limit", None, {"amount": 1}, now=NOW)
    assert unknown.value.message == "unknown variable 'limit'"
    assert (unknown.value.line, unknown.value.column) == (1, 10)
    with pytest.raises(ExpressionError) as indented:
        SANDBOX.execute("    x = 1\n    y = x.__class__", {}, now=NOW)
    assert (indented.value.line, indented.value.column) == (2, 9)
    with pytest.raises(ExpressionError) as missing:
        SANDBOX.evaluate("customer['phone']", None, ORDER, now=NOW)
    assert missing.value.message == "KeyError: no key 'phone'"


def test_every_failure_is_an_expression_error_of_the_package_root() -> None:
    for text in ("1 / 0", "undefined_name", "'a' + 1", "[][0]", "{}['k']", "int('x')"):
        with pytest.raises(errors.ExpressionError):
            SANDBOX.evaluate(text, None, {}, now=NOW)


@pytest.mark.parametrize("language", [None, "python", "Python", "text/x-python"])
def test_python_is_the_default_and_named_language(language: str | None) -> None:
    assert SANDBOX.evaluate("1 + 1", language, {}, now=NOW) == 2


def test_an_unsupported_language_is_refused() -> None:
    with pytest.raises(ExpressionError, match="expression language 'javascript' is not supported"):
        SANDBOX.evaluate("a > 1", "javascript", {}, now=NOW)


def test_compilation_is_cached_and_checks_early() -> None:
    sandbox = Sandbox(cache_size=2)
    first = sandbox.compile("a > 1", None, "expression")
    assert sandbox.compile("a > 1", None, "expression") is first
    assert sandbox.compile("a > 1", None, "script") is not first
    with pytest.raises(ExpressionError, match="class definitions are not allowed"):
        sandbox.compile("class A:\n    pass", None, "script")


def test_limits_are_configurable() -> None:
    sandbox = Sandbox(Limits(max_iterations=10))
    assert sandbox.execute("for i in range(5):\n    pass", {}, now=NOW) == {"i": 4}
    with pytest.raises(ExpressionError) as caught:
        sandbox.execute("for i in range(50):\n    pass", {}, now=NOW)
    assert caught.value.limit == "max_iterations"
    with pytest.raises(ValueError, match="max_length"):
        Limits(max_length=0)
