"""The published JSON Schema: valid draft 2020-12, equal to its static copy, and in agreement with the
reader on the example files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from apg_workflow.formats.jsonyaml import json_schema
from apg_workflow.formats.jsonyaml.schema import STATIC_SCHEMA, schema_text
from apg_workflow.formats.jsonyaml.yamltext import parse_yaml
from apg_workflow.model import ElementKind
from tests.conftest import ROOT

FILES = [
    ROOT / "examples" / "order-fulfilment.json",
    ROOT / "examples" / "order-fulfilment.yaml",
    ROOT / "tests" / "fixtures" / "json" / "every-element.yaml",
    ROOT / "tests" / "fixtures" / "json" / "main-and-called.json",
]


@pytest.fixture(scope="module")
def validator() -> Draft202012Validator:
    schema = json_schema()
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def load(path: Path) -> Any:
    text = path.read_text(encoding="utf-8")
    return json.loads(text) if path.suffix == ".json" else parse_yaml(text)[0]


def test_the_static_copy_is_up_to_date() -> None:
    assert STATIC_SCHEMA.read_text(encoding="utf-8") == schema_text(), (
        "regenerate it: .venv/bin/python -c 'from apg_workflow.formats.jsonyaml.schema import schema_text; "
        'print(schema_text(), end="")\' > src/apg_workflow/formats/jsonyaml/workflow.schema.json'
    )


def test_it_is_a_draft_2020_12_schema_with_documentation() -> None:
    schema = json_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    user_task = schema["$defs"]["UserTaskEntry"]
    assert user_task["properties"]["type"]["const"] == "userTask"
    assert user_task["description"].startswith("Work for a person")
    assert user_task["properties"]["candidate_users"]["description"] == "Users who may claim the task."


def test_every_element_type_of_the_subset_is_offered() -> None:
    schema = json_schema()
    offered = {
        definition["properties"]["type"]["const"]
        for definition in schema["$defs"].values()
        if definition.get("title", "").endswith("Entry")
        and "const" in definition["properties"].get("type", {})
    }
    not_flow_nodes = {"sequenceFlow", "dataObject", "dataObjectReference", "dataStoreReference"}
    not_flow_nodes |= {"textAnnotation", "association", "group", "unsupported"}
    assert offered == {kind.value for kind in ElementKind} - not_flow_nodes


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_the_example_files_are_valid(validator: Draft202012Validator, path: Path) -> None:
    errors = [f"{list(error.absolute_path)}: {error.message}" for error in validator.iter_errors(load(path))]
    assert errors == []


@pytest.mark.parametrize(
    "document",
    [
        {"name": "x", "activities": [{"type": "userTask", "retyr": 3}]},
        {"name": "x", "activities": [{"type": "usrTask"}]},
        {"name": "x", "activities": [{"type": "serviceTask", "retry": {"max_attempts": "three"}}]},
        {"name": "x", "flows": [{"from": "a"}]},
        {"name": "x", "activities": [], "processes": []},
    ],
)
def test_what_the_reader_refuses_the_schema_refuses(validator: Draft202012Validator, document: Any) -> None:
    assert not validator.is_valid(document)


def test_extension_keys_are_allowed(validator: Draft202012Validator) -> None:
    assert validator.is_valid({"x-team": "a", "activities": [{"type": "task", "x-colour": "red"}]})
