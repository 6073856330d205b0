"""`apg-workflow validate`, `convert` and `schema` as a user runs them."""

from __future__ import annotations

import json

import pytest

from apg_workflow.formats import FORMATS, load
from tests.conftest import ROOT

EXAMPLES = sorted((ROOT / "examples").glob("*.*"))

GATEWAY_WITHOUT_CONDITIONS = """\
name: Approval
activities:
  - {id: start, type: startEvent}
  - {id: check, type: exclusiveGateway, name: Amount?}
  - {id: small, type: task}
  - {id: large, type: task}
  - {id: end, type: endEvent}
flows:
  - {from: start, to: check}
  - {from: check, to: small}
  - {from: check, to: large}
  - {from: small, to: end}
  - {from: large, to: end}
"""


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_the_examples_are_valid(cli, example) -> None:
    result = cli("validate", example, "--json")
    assert result.exit_code == 0, result.text
    assert result.json["valid"] is True
    assert result.json["errors"] == 0


def test_problems_are_reported_with_element_and_line(cli, write) -> None:
    result = cli("validate", write("approval.yaml", GATEWAY_WITHOUT_CONDITIONS), "--json")
    assert result.exit_code == 1
    problem = next(p for p in result.json["problems"] if p["code"] == "gateway-no-condition")
    assert problem["element_id"] == "check"
    assert problem["line"] == 4


def test_human_output_names_the_problem(cli, write) -> None:
    result = cli("validate", write("approval.yaml", GATEWAY_WITHOUT_CONDITIONS))
    assert result.exit_code == 1
    assert "gateway-no-condition" in result.stdout and "invalid" in result.stdout


MALFORMED = {
    "truncated.bpmn": (
        '<?xml version="1.0"?><definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL">'
        '<process id="p"><startEvent id="s"/>',
        "line 1",
    ),
    "bomb.bpmn": (
        '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;">'
        '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;">]><definitions>&c;</definitions>',
        "DOCTYPE",
    ),
    "wrong-types.json": (
        '{"name": "x", "activities": [{"id": "t", "type": "task", "retry": "three"}]}',
        "retry",
    ),
    "typo.apg": ('WORKFLOW "x"\n  START "s"\n  USERTASK "Review"\n  END "e"\n', "line 3"),
    "broken.yaml": ("name: x\nactivities: [\n  {id: s, type: startEvent\n", "line"),
}


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_unreadable_input_is_a_located_error_not_a_traceback(cli, write, name) -> None:
    content, expected = MALFORMED[name]
    result = cli("validate", write(name, content), "--json")
    assert result.exit_code == 1
    assert result.json["valid"] is False
    messages = " ".join(f"line {p['line']} {p['message']}" for p in result.json["problems"])
    assert expected in messages


def test_external_entities_are_never_read(cli, write, tmp_path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-VALUE")
    xxe = (
        f'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file://{secret}">]>'
        '<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"><process id="p" name="&x;"/>'
        "</definitions>"
    )
    result = cli("validate", write("xxe.bpmn", xxe), "--json")
    assert result.exit_code == 1
    assert "TOP-SECRET-VALUE" not in result.text


def test_a_missing_file_is_a_usage_error(cli, tmp_path) -> None:
    result = cli("validate", tmp_path / "nope.bpmn")
    assert result.exit_code == 2
    assert "cannot read" in result.text


@pytest.mark.parametrize("target", FORMATS)
@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_convert_keeps_semantics(cli, tmp_path, example, target) -> None:
    out = tmp_path / f"out.{target}"
    result = cli("convert", example, "--to", target, "-o", out)
    assert result.exit_code == 0, result.text
    original = load(example.read_bytes(), source=example.name)
    assert load(out.read_bytes(), format=target).without_diagrams() == original.without_diagrams()
    assert cli("validate", out).exit_code == 0


def test_convert_to_bpmn_adds_a_diagram(cli, tmp_path) -> None:
    out = tmp_path / "onboarding.bpmn"
    assert (
        cli("convert", ROOT / "examples" / "employee-onboarding.apg", "--to", "bpmn", "-o", out).exit_code
        == 0
    )
    converted = load(out.read_bytes())
    drawn = {shape.element_ref for d in converted.diagrams for shape in d.plane.shapes}
    assert {node.id for node in converted.main_process.nodes} <= drawn


def test_convert_rejects_an_unknown_format(cli) -> None:
    result = cli("convert", ROOT / "examples" / "order-fulfilment.json", "--to", "pdf")
    assert result.exit_code == 2
    assert "bpmn, json, yaml, dsl" in result.text


def test_schema_is_a_json_schema_for_the_json_format(cli) -> None:
    result = cli("schema")
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    assert schema["$schema"].startswith("https://json-schema.org/")
    assert "activities" in json.dumps(schema)


def test_unknown_component_types_are_reported_with_a_suggestion(cli, write) -> None:
    source = """\
name: Mail
activities:
  - {id: start, type: startEvent}
  - {id: send, type: serviceTask, component: email.sendd}
  - {id: end, type: endEvent}
flows: [{from: start, to: send}, {from: send, to: end}]
"""
    result = cli("validate", write("mail.yaml", source), "--json")
    assert result.exit_code == 0  # a warning: a plugin may provide it where the workflow runs
    problem = next(p for p in result.json["problems"] if p["code"] == "unknown-component")
    assert problem["element_id"] == "send" and "email.send" in problem["message"]
