"""data.transform (JMESPath) and data.template (Jinja in a bounded sandbox)."""

from __future__ import annotations

import time

import pytest

from tests.unit.components.test_data_catalogue import fails, run

DATA = {"orders": [{"id": "A", "lines": [{"amount": 5}, {"amount": 7}]}, {"id": "B", "lines": []}]}


def test_transform_projects_filters_and_calls_functions() -> None:
    config = {"expression": "orders[].{id: id, total: sum(lines[].amount)}"}
    assert run("data.transform", config, {"data": DATA}) == {
        "result": [{"id": "A", "total": 12}, {"id": "B", "total": 0}]
    }
    assert run("data.transform", {"expression": "nowhere.deeper"}, {"data": DATA}) == {"result": None}


def test_a_jmespath_type_error_is_expression_failed() -> None:
    message = fails("data.transform", {"expression": "sum(orders)"}, {"data": DATA}, "expression-failed")
    assert message.startswith("data.transform: the JMESPath expression failed on 'data': ")


def template(source: str, inputs: dict[str, object] | None = None, **config: object) -> object:
    return run("data.template", {"template": source, **config}, inputs or {})["result"]


def test_text_templates_see_the_inputs_and_now() -> None:
    source = "{% for o in orders %}{{ o.id }}:{{ o.lines | sum(attribute='amount') }} {% endfor %}"
    source += "on {{ now.date() }}"
    assert template(source, DATA) == "A:12 B:0 on 2024-05-03"


def test_json_templates_give_values() -> None:
    source = '{"ids": {{ orders | map(attribute="id") | list | tojson }}, "n": {{ orders | length }}}'
    assert template(source, DATA, output="json") == {"ids": ["A", "B"], "n": 2}
    message = fails(
        "data.template", {"template": "{ids: {{ 1 }}}", "output": "json"}, {}, "expression-failed"
    )
    assert "the rendered text is not JSON (line 1, column 2" in message and "tojson" in message


def test_an_undefined_variable_is_an_error_naming_the_line_unless_lenient() -> None:
    message = fails("data.template", {"template": "Hello\n{{ customer.name }}"}, {}, "expression-failed")
    assert message == "data.template: the template failed at line 2: 'customer' is undefined"
    assert template("Hello {{ customer.name }}!", undefined="lenient") == "Hello !"


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("{{ ''.__class__.__mro__ }}", "unsafe"),
        ("{{ cycler.__init__.__globals__ }}", "unsafe"),
        ("{% set x = [1] %}{{ x.append(2) }}", "unsafe"),
        ("{{ 'x' * 100000000 }}", "more than 1,000,000"),
        ("{{ [0] * 10000000 }}", "more than 1,000,000"),
        ("{{ 9 ** 99999 }}", "more than 4,300 digits"),
        ("{{ '{:>999999999}'.format(1) }}", "format widths"),
        ("{{ '%999999999d' % 1 }}", "format widths"),
        ("{{ 'x'|center(999999999) }}", "more than 1,000,000"),
        ("{{ ('a' * 1000)|replace('a', 'b' * 10000) }}", "more than 1,000,000"),
        ("{% set s = 'x' * 600000 %}{{ s ~ s }}", "more than 1,000,000"),
        ("{% for i in range(99) %}{{ 'x' * 20000 }}{% endfor %}", "more than 1,000,000"),
    ],
)
def test_the_sandbox_refuses_escapes_and_huge_values(source: str, expected: str) -> None:
    message = fails("data.template", {"template": source}, {}, "expression-failed")
    assert expected in message


def test_a_template_that_loops_for_ever_is_stopped_by_its_timeout() -> None:
    source = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"
    started = time.monotonic()
    message = fails("data.template", {"template": source, "timeout": 0.3}, {}, "expression-failed")
    assert time.monotonic() - started < 2 and "ran longer than 0.3 s" in message


def test_the_output_limit_is_configurable() -> None:
    assert template("{{ 'ab' * 3 }}", max_length=6) == "ababab"
    assert "more than 5" in fails(
        "data.template", {"template": "{{ 'ab' * 3 }}", "max_length": 5}, {}, "expression-failed"
    )
