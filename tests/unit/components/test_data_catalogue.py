"""The data family as the catalogue shows it, and the helpers the other ``test_data_*`` modules use:
every component documented, every example true, bad configuration and bad input reported plainly."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import pytest

from apg_workflow.components import (
    BpmnError,
    ComponentContext,
    ComponentRegistry,
    ConfigurationError,
)
from apg_workflow.components.builtins.data import COMPONENTS

NOW = datetime(2024, 5, 3, 9, 30, tzinfo=UTC)
REGISTRY = ComponentRegistry(COMPONENTS)


def run(
    type_name: str, config: Mapping[str, Any], inputs: Mapping[str, Any], now: datetime = NOW
) -> dict[str, Any]:
    """The outputs of the data component ``type_name`` run once, as a worker runs it."""
    component = REGISTRY.create(type_name)
    context = ComponentContext(
        job_id="job-1",
        attempt=1,
        execution_id="execution-1",
        element_id="task-1",
        logger=logging.getLogger("tests.data"),
        clock=lambda: now,
    )
    return dict(asyncio.run(component.run(context, component.parse_config(config), dict(inputs))))


def fails(type_name: str, config: Mapping[str, Any], inputs: Mapping[str, Any], code: str) -> str:
    """The message of the BPMN error ``code`` that running the component throws."""
    with pytest.raises(BpmnError) as caught:
        run(type_name, config, inputs)
    assert caught.value.code == code, caught.value.message
    return caught.value.message


def refused(type_name: str, config: Mapping[str, Any]) -> str:
    """The message of the ConfigurationError that parsing ``config`` raises."""
    with pytest.raises(ConfigurationError) as caught:
        REGISTRY.create(type_name).parse_config(config)
    return caught.value.message


EXAMPLES = [
    pytest.param(component.type, example, id=f"{component.type}-{number}")
    for component in COMPONENTS
    for number, example in enumerate(component.examples)
]


def test_the_family_has_its_26_components_in_the_data_category() -> None:
    assert len(REGISTRY.types()) == 26
    assert all(c.type.startswith("data.") and c.category == "data" and c.idempotent for c in COMPONENTS)


@pytest.mark.parametrize("component", COMPONENTS, ids=lambda c: c.type)
def test_every_component_documents_itself(component: Any) -> None:
    entry = component.describe()
    json.dumps(entry)  # the catalogue is served as JSON
    assert entry["title"] and len(entry["description"]) > 40 and entry["examples"]
    schema = entry["schema"]
    for name, field in schema.get("properties", {}).items():
        assert "description" in field or "$ref" in field or "allOf" in field, f"{component.type}.{name}"


@pytest.mark.parametrize(("type_name", "example"), EXAMPLES)
def test_every_example_is_what_the_component_does(type_name: str, example: Mapping[str, Any]) -> None:
    assert run(type_name, example["config"], example["inputs"]) == example["outputs"]


@pytest.mark.parametrize(
    ("type_name", "config", "expected"),
    [
        ("data.filter", {"expression": "item['x'] >"}, "unexpected end"),
        (
            "data.filter",
            {"expression": "x", "jmespath": "x"},
            "set exactly one of 'expression' or 'jmespath'",
        ),
        ("data.map", {}, "none is set"),
        ("data.transform", {"expression": "orders[?"}, "invalid JMESPath expression"),
        ("data.template", {"template": "{% for x in %}"}, "template syntax error at line 1"),
        ("data.regex_extract", {"pattern": "(unclosed"}, "invalid regular expression"),
        ("data.regex_extract", {"pattern": "a" * 1001}, "at most 1000 characters"),
        ("data.validate", {"json_schema": {"type": "nonsense"}}, "not a valid JSON Schema"),
        ("data.date", {"operation": "now", "timezone": "Mars/Olympus"}, "unknown time zone 'Mars/Olympus'"),
        ("data.date", {"operation": "shift"}, "needs a non-zero 'shift'"),
        ("data.sort", {"keys": []}, "keys"),
        ("data.aggregate", {"metrics": [{"name": "s", "op": "sum"}]}, "needs a 'field'"),
        ("data.aggregate", {"metrics": [{"name": "p", "op": "percentile", "field": "x"}]}, "'p'"),
        ("data.join", {"on": ["a", "b"], "right_on": ["c"]}, "'right_on' names 1 fields but 'on' names 2"),
        ("data.math", {"expression": "__import__('os')"}, "data.math"),
        ("data.chunk", {"size": 0}, "size"),
        ("data.pick", {"fields": ["a..b"]}, "fields.0"),
    ],
)
def test_a_configuration_that_cannot_work_is_refused_when_parsed(
    type_name: str, config: dict[str, Any], expected: str
) -> None:
    message = refused(type_name, config)
    assert message.startswith(f"invalid configuration for '{type_name}'")
    assert expected in message


@pytest.mark.parametrize(
    ("type_name", "config", "inputs", "expected"),
    [
        (
            "data.filter",
            {"expression": "True"},
            {},
            "data.filter: the input 'items' is missing (inputs given: none)",
        ),
        (
            "data.sort",
            {"keys": [{"field": "a"}]},
            {"items": {"a": 1}},
            "the input 'items' must be a list, not an object",
        ),
        (
            "data.sort",
            {"keys": [{"field": "a"}]},
            {"items": [{"a": 1}, 7]},
            "items[1] must be an object, not a number",
        ),
        ("data.json_parse", {}, {"text": 12}, "the input 'text' must be a string, not a number"),
        ("data.merge", {}, {"objects": [{}, "x"]}, "objects[1] must be an object, not a string"),
        (
            "data.pick",
            {"fields": ["a"]},
            {"data": [{"a": 1}, None]},
            "in data[1]: expected an object, not null",
        ),
    ],
)
def test_input_of_the_wrong_shape_is_a_business_error_naming_it(
    type_name: str, config: dict[str, Any], inputs: dict[str, Any], expected: str
) -> None:
    assert expected in fails(type_name, config, inputs, "invalid-input")
