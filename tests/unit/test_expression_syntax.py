"""Syntax checks of expressions and scripts: Python (the default, with the sandbox rules), JUEL
(``${…}``) and FEEL (``=…``), each parsed by the code that evaluates it, and languages the engine
does not run."""

from __future__ import annotations

import pytest

from apg_workflow.expressions import (
    Dialect,
    ExpressionSyntaxError,
    check_syntax,
    dialect_of,
    parse_python,
    syntax_error,
)
from apg_workflow.expressions.feel_eval import compile_expression
from apg_workflow.model.validation.support import is_executed_language

# --- Python ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("amount > 1000 and customer['vip']", "condition"),
        ("len(items) > 0 if items else False", "condition"),
        ("sorted(items, key=lambda i: i['price'])[0]", "expression"),
        ("[i * 2 for i in range(3)]", "expression"),
        ("\n    amount > 5\n  ", "condition"),  # as written inside an XML element
        ("total = sum(i['price'] for i in items)\ndiscount = total * 0.1", "script"),
        ("    if amount > 100:\n        level = 'high'\n    else:\n        level = 'low'\n", "script"),
        ("def double(x):\n    return x * 2\nresult = double(4)", "script"),
        ("pattern = '\\d+'", "script"),  # an invalid escape is Python's warning, not our error
    ],
)
def test_valid_python(text: str, kind: str) -> None:
    assert syntax_error(text, kind=kind) is None  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "kind", "message"),
    [
        ("amount >", "condition", "unexpected end of expression at column 9: `amount >`"),
        ("amount = 5", "condition", "`=` assigns a value; compare with `==` at column 8: `amount = 5`"),
        ("(a", "expression", "'(' was never closed at column 1: `(a`"),
        ("'abc", "expression", "unterminated string literal (detected at line 1) at column 1: `'abc`"),
        ("x = 1", "expression", "`=` assigns a value; compare with `==` at column 3: `x = 1`"),
        ("a = 1\nb = a +\n", "script", "unexpected end of expression at line 2, column 8: `b = a +`"),
        ("  a = 1\n  b = (a +\n", "script", "'(' was never closed at line 2, column 7: `b = (a +`"),
        ("return 1", "script", "'return' outside function at column 1: `return 1`"),
        ("", "condition", "the expression is empty"),
        ("  \n", "script", "the script is empty"),
        ("a\x00b", "expression", "source code string cannot contain null bytes"),
        ("a = 1 +\nb = 2", "script", "unexpected end of line at line 1, column 8: `a = 1 +`"),
    ],
)
def test_python_errors_name_the_position(text: str, kind: str, message: str) -> None:
    assert syntax_error(text, kind=kind) == message  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "kind", "message"),
    [
        ("import os", "script", "imports are not allowed at column 1"),
        ("x = 1\nfrom os import path", "script", "imports are not allowed at line 2, column 1"),
        ("().__class__.__bases__", "expression", "the attribute '__bases__' is private"),
        ("order._secret", "expression", "the attribute '_secret' is private"),
        ("__import__('os')", "expression", "the name '__import__' is not available"),
        ("eval('1 + 1')", "expression", "'eval()' is not available at column 1"),
        ("x = open('/etc/passwd').read()", "script", "'open()' is not available at column 5"),
        ("getattr(order, 'total')", "expression", "'getattr()' is not available"),
    ],
)
def test_the_sandbox_refuses_the_doors_out(text: str, kind: str, message: str) -> None:
    found = syntax_error(text, kind=kind)  # type: ignore[arg-type]
    assert found is not None and found.startswith(message), found


def test_a_variable_named_like_a_refused_builtin_is_fine_when_not_called() -> None:
    assert syntax_error("open and not vars", kind="condition") is None


def test_parse_python_returns_the_tree_the_evaluator_runs() -> None:
    tree = parse_python("  a = 1\n  b = a + 1\n", script=True)
    assert len(tree.body) == 2  # type: ignore[union-attr]
    with pytest.raises(ExpressionSyntaxError) as caught:
        parse_python("a +", script=False)
    assert (caught.value.line, caught.value.column, caught.value.reason) == (
        1,
        4,
        "unexpected end of expression",
    )


# --- JUEL -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "${amount > 1000 && approved}",
        "${amount gt 1000 and not rejected || vip}",
        "${a eq 'x' ? b : c}",
        "${empty items}",
        "${!approved}",
        "${x ne null and y le 3 and z ge 1 and w lt 2}",
        "${order.total div 2 mod 3}",
        "${execution.getVariable(\"x\") == 'y'}",
        "${items[0].price}",
        "${fn:contains(name, 'x')}",
        "#{deferred}",
        "Dear ${name}, your order ${order.id} is ready",
        "${class.in}",  # names that are Python keywords are fine in JUEL
    ],
)
def test_valid_juel(text: str) -> None:
    assert syntax_error(text, kind="condition") is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("${amount >}", "unexpected end of expression at column 11: `${amount >}`"),
        ("${a = b}", "`=` is not an operator in JUEL: compare with `==` or `eq` at column 5: `${a = b}`"),
        ("${a && }", "unexpected end of expression at column 8"),
        ("${ a ? b }", "`?` needs a matching `:` at column 6"),
        ("Hello ${name} and ${", "`${` is never closed at column 19"),
        ("${}", "the expression is empty at column 1"),
        ("${x.__class__}", "the name '__class__' is not available at column 5"),
        ("${'abc}", "the string is never closed at column 3"),
        ("${a ** b}", "unexpected `*` at column 6"),
        ("${eval('1')}", "'eval()' is not available at column 3"),
        ("${" + "(" * 40 + "1" + ")" * 40 + "}", "the expression is nested too deeply"),
    ],
)
def test_juel_errors_point_into_the_text_as_written(text: str, message: str) -> None:
    found = syntax_error(text, kind="condition")
    assert found is not None and found.startswith(message), found


def test_juel_declared_by_language_needs_no_braces() -> None:
    assert syntax_error("amount gt 5", "juel", kind="condition") is None
    assert (
        syntax_error("amount gt", "juel", kind="condition")
        == "unexpected end of expression at column 10: `amount gt`"
    )


# --- FEEL -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "=amount > 1000",
        '=if age >= 18 then "adult" else "minor"',
        "=x in [1..10)",
        "=x in ]0..1[",
        "=x in (0..1]",
        "={a: 1, b: [1, 2]}.b[1]",
        '=name = "a == b"',  # operators inside strings do not count
        "=`order id` != null",
        "=// a comment\n a + b",
        "=/* block */ a - -1",
        "=some x in items satisfies x.price > 10",
        "=every x in [1, 2], y in x.parts satisfies y > 0",
        "=items[price > 10].sku",
        "=string length(name) > 3 and date and time(at) < now()",
    ],
)
def test_valid_feel(text: str) -> None:
    assert syntax_error(text, kind="condition") is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("=a == b", "FEEL compares with `=`, not `==` at column 4"),
        ("=a && b", "FEEL writes `and`, not `&&`"),
        ("=a || b", "FEEL writes `or`, not `||`"),
        ("=!a", "FEEL negates with `not(…)`, not `!`"),
        ("=(a > b", "`(` is never closed at column 2"),
        ("=[1,2)", "`)` cannot close the `[` of column 2 at column 6"),
        ("=a)", "`)` closes nothing at column 3"),
        ('= "abc', "the string is never closed at column 3"),
        ("=amount >", "unexpected end of expression at column 10"),
        ("= > 5", "unexpected `>` at column 3"),
        ("=a and or b", "unexpected `or` at column 8"),
        ("=/* open", "the comment is never closed at column 2"),
        ("=", "the expression is empty"),
        ("=upper kase(name)", "unknown function 'upper kase' at column 2"),
        ("=items[1", "`[` is never closed at column 7"),
        ('=order["total"]', 'FEEL reads an entry with `.total`, not `["total"]` at column 8'),
        ("=items[0]", "FEEL counts list positions from 1 (and from -1 at the end) at column 8"),
    ],
)
def test_feel_errors(text: str, message: str) -> None:
    found = syntax_error(text, kind="condition")
    assert found is not None and found.startswith(message), found


def test_feel_comments_are_read_in_camunda_expressions_but_not_in_decision_tables() -> None:
    assert syntax_error("=total // the order's total", kind="condition") is None
    # A cell of a SpiffWorkflow table writes `//` for Python's floor division.
    with pytest.raises(ExpressionSyntaxError, match="unexpected `/`"):
        compile_expression("total // 2")


def test_feel_declared_by_language_needs_no_equals_sign() -> None:
    assert syntax_error("amount > 5", "feel", kind="condition") is None
    assert syntax_error("amount > 5", "https://www.omg.org/spec/DMN/20191111/FEEL/", kind="condition") is None
    assert syntax_error("amount ==", "FEEL", kind="condition") is not None


# --- languages ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "language", "dialect"),
    [
        ("amount > 5", None, Dialect.PYTHON),
        ("  ${amount > 5}", None, Dialect.JUEL),
        ("Dear ${name}", None, Dialect.JUEL),
        ("=amount > 5", None, Dialect.FEEL),
        ("x", "python", Dialect.PYTHON),
        ("x", "text/x-python", Dialect.PYTHON),
        ("x", "Python3", Dialect.PYTHON),
        ("x", "juel", Dialect.JUEL),
        ("x", "http://www.omg.org/spec/FEEL/20140401", Dialect.FEEL),
        ("x", "javascript", None),
        ("x", "groovy", None),
        ("x", "http://www.w3.org/1999/XPath", None),
    ],
)
def test_the_dialect_comes_from_the_language_or_the_text(
    text: str, language: str | None, dialect: Dialect | None
) -> None:
    assert dialect_of(text, language) is dialect
    # The validator decides "not executed" on its own (the model layer cannot import this one):
    # both must agree on every language.
    assert is_executed_language(language) is (dialect is not None)


def test_other_languages_are_not_checked() -> None:
    assert syntax_error("var x = ;", "javascript", kind="script") is None


def test_an_unknown_kind_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="kind must be one of"):
        check_syntax("x", kind="statement")  # type: ignore[arg-type]


def test_errors_in_multi_line_text_give_line_and_column() -> None:
    error = ExpressionSyntaxError.at_offset("bad", "first\nsecond line", 9)
    assert (error.line, error.column, error.snippet) == (2, 4, "second line")
    assert str(error) == "bad at line 2, column 4: `second line`"
    long_line = "x" * 200
    assert str(ExpressionSyntaxError.at_offset("bad", long_line, 0)).endswith("x…`")
