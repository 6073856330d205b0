"""The catalogue of built-in components: each one documents itself (JSON Schema, description,
examples that its own configuration model accepts), follows the naming rules, and has a behavioural
test; ``apg-workflow components`` lists and shows them."""

from __future__ import annotations

import ast
import json
import re
from functools import cache
from typing import Any

import jsonschema
import pytest
from typer.testing import CliRunner

from apg_workflow.cli import app
from apg_workflow.components import Component
from apg_workflow.components.docs import shipped
from apg_workflow.runtime.registry import platform_registry
from tests.conftest import ROOT

BUILTINS = shipped(platform_registry())
FAMILIES = {
    "flow",
    "workflow",
    "data",
    "http",
    "sql",
    "file",
    "email",
    "chat",
    "s3",
    "redis",
    "ml",
    "text",
    "python",
    "decision",
}
UNDOTTED = {"noop", "log", "delay"}  # the first three built-ins keep their short names
TYPE_NAME = re.compile(r"^(?P<family>[a-z][a-z0-9]*)(\.[a-z][a-z0-9_]*)+$")
CATALOGUE_TESTS = {"test_catalogue.py", "test_docs_generated.py"}


def _ids(component: type[Component]) -> str:
    return component.type


def _described(schema: dict[str, Any]) -> list[str]:
    """The fields of an object schema and of its nested models that lack a description."""
    models = [schema, *(schema.get("$defs") or {}).values()]
    return [
        name
        for model in models
        for name, field in (model.get("properties") or {}).items()
        if not field.get("description")
    ]


@pytest.mark.parametrize("component", BUILTINS, ids=_ids)
def test_component_documents_itself(component: type[Component]) -> None:
    schema = component.Config.model_json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema.get("type") == "object"
    assert not _described(schema), f"configuration fields without a description: {_described(schema)}"
    for shape in (component.inputs, component.outputs):
        jsonschema.Draft202012Validator.check_schema(dict(shape))
    assert component.title.strip() and component.category.strip()
    assert len(component.description.strip()) >= 20


@pytest.mark.parametrize("component", BUILTINS, ids=_ids)
def test_component_examples_are_accepted_by_its_configuration(component: type[Component]) -> None:
    assert component.examples, "give at least one example"
    for example in component.examples:
        assert {"config", "inputs"} <= example.keys(), example
        assert ("outputs" in example) != ("error" in example), "an example has outputs or an error"
        component().parse_config(example["config"])
        json.dumps(dict(example))


@pytest.mark.parametrize("component", BUILTINS, ids=_ids)
def test_component_type_is_dotted_lower_case_in_a_known_family(component: type[Component]) -> None:
    if component.type in UNDOTTED:
        return
    match = TYPE_NAME.match(component.type)
    assert match, f"'{component.type}' is not a dotted lower-case name like 'http.request'"
    assert match["family"] in FAMILIES, f"'{match['family']}' is not a known family: {sorted(FAMILIES)}"


@cache
def _named_in_calls() -> frozenset[str]:
    """The texts and names passed to calls (at any depth of their arguments) in the test modules."""
    named: set[str] = set()
    for path in (ROOT / "tests").rglob("test_*.py"):
        if path.name in CATALOGUE_TESTS:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            for argument in [*node.args, *(k.value for k in node.keywords)]:
                for inner in ast.walk(argument):
                    if isinstance(inner, ast.Constant) and isinstance(inner.value, str):
                        named.add(inner.value)
                    elif isinstance(inner, ast.Name):
                        named.add(inner.id)
    return frozenset(named)


@pytest.mark.parametrize("component", BUILTINS, ids=_ids)
def test_component_has_a_behavioural_test(component: type[Component]) -> None:
    named = _named_in_calls()
    assert component.type in named or component.__name__ in named, (
        f"no test under tests/ runs '{component.type}' (name its type or class in a call)"
    )


def _cli(*args: str) -> Any:
    result = CliRunner().invoke(app, ["components", *args])
    return result.exit_code, result.stdout, result.stderr


def test_list_json_shows_the_whole_catalogue() -> None:
    code, out, _ = _cli("list", "--json")
    assert code == 0
    listed = json.loads(out.splitlines()[-1])
    builtins = [c for c in listed["components"] if c["builtin"]]
    assert len(builtins) >= 50, f"only {len(builtins)} built-in components"
    for entry in listed["components"]:
        assert {
            "type",
            "category",
            "title",
            "description",
            "schema",
            "inputs",
            "outputs",
            "examples",
        } <= entry.keys()
    assert listed["problems"] == []


def test_list_filters_by_category() -> None:
    code, out, _ = _cli("list", "--json", "--category", "flow")
    assert code == 0
    types = {c["type"] for c in json.loads(out)["components"]}
    assert {"noop", "flow.set", "flow.notify"} <= types
    assert all(t in UNDOTTED or t.startswith("flow.") for t in types)
    code, _, err = _cli("list", "--category", "flwo")
    assert code == 2
    assert "no category 'flwo'" in err


def test_list_prints_a_table() -> None:
    code, out, _ = _cli("list")
    assert code == 0
    assert re.search(r"flow\.set\s+flow\s+Set variables\s+built-in", out)


def test_show_prints_one_component() -> None:
    code, out, _ = _cli("show", "flow.now", "--json")
    assert code == 0
    shown = json.loads(out)
    assert shown == {**platform_registry().get("flow.now").describe(), "builtin": True}
    code, out, _ = _cli("show", "flow.now")
    assert code == 0
    assert "Current time" in out and "timezone" in out and "Europe/Paris" in out


def test_show_an_unknown_type_suggests_the_closest() -> None:
    code, _, err = _cli("show", "flow.nwo")
    assert code == 1
    assert "no component of type 'flow.nwo' is installed; did you mean 'flow.now'?" in err
