"""Writing JSON and YAML: nothing of the semantic subset is lost, and the text is pleasant to read."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings

from apg_workflow import model as m
from apg_workflow.formats.errors import FormatError
from apg_workflow.formats.jsonyaml import (
    definitions_to_dict,
    read_json,
    read_yaml,
    write_json,
    write_yaml,
)
from tests.conftest import ROOT
from tests.strategies import definitions

PROPERTY = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
EXAMPLES = ROOT / "examples"
FIXTURES = ROOT / "tests" / "fixtures" / "json"


@PROPERTY
@given(model=definitions())
def test_random_models_survive_json_exactly(model: m.Definitions) -> None:
    text = write_json(model)
    assert read_json(text) == model
    assert write_json(read_json(text)) == text


@PROPERTY
@given(model=definitions())
def test_random_models_survive_yaml_exactly(model: m.Definitions) -> None:
    text = write_yaml(model)
    assert read_yaml(text) == model
    assert write_yaml(read_yaml(text)) == text


@pytest.fixture(scope="module")
def order() -> m.Definitions:
    return read_yaml((EXAMPLES / "order-fulfilment.yaml").read_text(encoding="utf-8"))


def test_the_json_and_yaml_examples_are_the_same_workflow(order: m.Definitions) -> None:
    assert read_json((EXAMPLES / "order-fulfilment.json").read_text(encoding="utf-8")) == order
    assert order.main_process.id == "order_fulfilment"


def test_the_documented_json_and_yaml_examples_are_the_same_workflow() -> None:
    doc = (ROOT / "docs" / "formats.md").read_text(encoding="utf-8")
    section = doc[doc.index("<!-- section:json -->") : doc.index("<!-- /section:json -->")]
    blocks = dict(re.findall(r"<!-- example -->\n```(json|yaml)\n(.*?)\n```", section, re.DOTALL))
    assert read_json(blocks["json"]) == read_yaml(blocks["yaml"])


@pytest.mark.parametrize(
    "path",
    [EXAMPLES / "order-fulfilment.yaml", FIXTURES / "every-element.yaml", FIXTURES / "main-and-called.json"],
    ids=lambda path: path.name,
)
def test_hand_written_files_round_trip(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    model = read_json(text) if path.suffix == ".json" else read_yaml(text)
    assert read_yaml(write_yaml(model)) == model
    assert read_json(write_json(model)) == model


def test_json_is_indented_by_two_and_keeps_text_as_is(order: m.Definitions) -> None:
    text = write_json(order)
    assert text.startswith('{\n  "id": "order_fulfilment",\n  "name": "Order Fulfilment",\n')
    assert text.endswith("}\n")
    assert json.loads(text) == definitions_to_dict(order)


def test_yaml_writes_multi_line_text_as_literal_blocks(order: m.Definitions) -> None:
    text = write_yaml(order)
    assert "    script: |\n      count = sum(" in text
    assert "description: |\n  Checks and reserves stock" in text
    assert "    candidate_groups: [warehouse]\n" in text
    assert yaml.safe_load(text) == definitions_to_dict(order)


def test_writer_key_order_ids_and_omitted_defaults() -> None:
    process = m.Process(
        id="p",
        nodes=(
            m.StartEvent(id="s", name="Start"),
            m.ExclusiveGateway(id="g", default="f2"),
            m.ServiceTask(id="t", retry=m.RetryPolicy(), component=m.ComponentRef(type="noop")),
            m.EndEvent(id="e"),
        ),
        flows=(
            m.SequenceFlow(id="f1", source="s", target="g"),
            m.SequenceFlow(id="f2", source="g", target="t"),
            m.SequenceFlow(id="f3", source="g", target="e", condition=m.Expression("x > 1", "feel")),
            m.SequenceFlow(id="f4", source="t", target="e"),
        ),
    )
    written = definitions_to_dict(m.Definitions(processes=(process,)))
    assert written == {
        "id": "p",
        "activities": [
            {"id": "s", "type": "startEvent", "name": "Start"},
            {"id": "g", "type": "exclusiveGateway"},
            {"id": "t", "type": "serviceTask", "component": "noop", "retry": 3},
            {"id": "e", "type": "endEvent"},
        ],
        "flows": [
            {"id": "f1", "from": "s", "to": "g"},
            {"id": "f2", "from": "g", "to": "t", "default": True},
            {"id": "f3", "from": "g", "to": "e", "condition": {"expression": "x > 1", "language": "feel"}},
            {"id": "f4", "from": "t", "to": "e"},
        ],
    }


def test_a_default_that_is_no_outgoing_flow_stays_on_the_element() -> None:
    gateway = m.ExclusiveGateway(id="g", default="elsewhere")
    written = definitions_to_dict(m.Definitions(processes=(m.Process(id="p", nodes=(gateway,)),)))
    assert written["activities"] == [{"id": "g", "type": "exclusiveGateway", "default": "elsewhere"}]


def test_short_forms_are_used_only_when_they_say_everything() -> None:
    start = m.StartEvent(
        id="s",
        definitions=(m.MessageDefinition(message_ref="M", correlation_key=m.Expression("k")),),
    )
    task = m.UserTask(
        id="u",
        retry=m.RetryPolicy(max_attempts=5, jitter=False),
        form=m.Form(key="k", schema=m.freeze({"type": "object"})),
        inputs=(m.DataMapping("a", m.Expression("1")), m.DataMapping("a", m.Expression("2"))),
    )
    written = definitions_to_dict(m.Definitions(processes=(m.Process(id="p", nodes=(start, task)),)))
    assert written["activities"] == [
        {"id": "s", "type": "startEvent", "message": {"ref": "M", "correlation_key": "k"}},
        {
            "id": "u",
            "type": "userTask",
            "form": {"key": "k", "schema": {"type": "object"}},
            "inputs": [{"target": "a", "source": "1"}, {"target": "a", "source": "2"}],
            "retry": {"max_attempts": 5, "jitter": False},
        },
    ]


def test_several_or_no_processes_use_the_processes_list() -> None:
    two = m.Definitions(id="d", processes=(m.Process(id="a"), m.Process(id="b", is_executable=False)))
    assert definitions_to_dict(two) == {
        "definitions_id": "d",
        "processes": [{"id": "a"}, {"id": "b", "executable": False}],
    }
    assert read_json(write_json(two)) == two
    none = m.Definitions()
    assert definitions_to_dict(none) == {"processes": []}
    assert read_yaml(write_yaml(none)) == none


def test_elements_without_an_equivalent_are_refused_by_name() -> None:
    odd = m.UnsupportedNode(id="chor", tag="{http://www.omg.org/spec/BPMN/20100524/MODEL}choreographyTask")
    with pytest.raises(FormatError, match="element 'chor'"):
        write_yaml(m.Definitions(processes=(m.Process(id="p", nodes=(odd,)),)))
