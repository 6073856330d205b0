"""Model → BPMN XML → model gives the same model, for every model in the semantic subset."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from lxml import etree

from apg_workflow.formats.bpmn import read_bpmn, write_bpmn
from apg_workflow.model import (
    Bounds,
    Definitions,
    Diagram,
    EndEvent,
    Expression,
    IntermediateCatchEvent,
    MessageDefinition,
    Plane,
    Process,
    SequenceFlow,
    Shape,
    StartEvent,
    TimerDefinition,
    TimerKind,
)
from tests.strategies import definitions

PROPERTY = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(model=definitions())
def test_every_model_in_the_semantic_subset_survives_bpmn(model: Definitions) -> None:
    again = read_bpmn(write_bpmn(model))
    assert again.without_diagrams() == model


@PROPERTY
@given(model=definitions())
def test_writing_what_was_read_gives_the_same_xml(model: Definitions) -> None:
    first = write_bpmn(model)
    assert write_bpmn(read_bpmn(first)) == first


def _drawn(process: Process) -> Definitions:
    """A definition whose process is drawn, so that the writer adds no layout."""
    shapes = tuple(
        Shape(element_ref=node.id, bounds=Bounds(100.0 * i, 50.0, 36.0, 36.0))
        for i, node in enumerate(process.nodes)
    )
    return Definitions(
        processes=(process,), diagrams=(Diagram(plane=Plane(element_ref=process.id, shapes=shapes)),)
    )


def test_ids_the_model_does_not_have_are_not_invented() -> None:
    process = Process(
        id="p",
        nodes=(
            StartEvent(id="s", definitions=(MessageDefinition(message_ref="m"),)),
            IntermediateCatchEvent(
                id="wait",
                definitions=(
                    TimerDefinition(timer=TimerKind.DATE, expression=Expression("2030-01-01T00:00:00Z")),
                ),
            ),
            EndEvent(id="e"),
        ),
        flows=(
            SequenceFlow(id="f1", source="s", target="wait"),
            SequenceFlow(id="f2", source="wait", target="e"),
        ),
    )
    model = _drawn(process)
    xml = write_bpmn(model)
    root = etree.fromstring(xml.encode())
    assert root.get("id") is None
    ids = {element.get("id") for element in root.iter() if element.get("id")}
    assert ids == {"p", "s", "wait", "e", "f1", "f2"}
    assert read_bpmn(xml) == model


def test_timer_without_time_element_and_condition_ids_survive() -> None:
    xml = """<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="urn:x">
      <process id="p"><intermediateCatchEvent id="t"><timerEventDefinition id="td"/></intermediateCatchEvent>
      <exclusiveGateway id="g"/><endEvent id="e"/>
      <sequenceFlow id="f" sourceRef="g" targetRef="e">
        <conditionExpression id="c" language="python" xmlns:v="urn:vendor" v:hint="fast">
          x &gt; 1</conditionExpression>
      </sequenceFlow></process></definitions>"""
    first = read_bpmn(xml)
    timer = first.processes[0].nodes[0].definitions[0]
    assert timer == TimerDefinition(id="td", timer=TimerKind.DURATION, expression=Expression(""))
    condition = first.processes[0].flows[0].condition
    assert (condition.text.strip(), condition.language) == ("x > 1", "python")
    assert dict(condition.preserved.attributes) == {"id": "c", "{urn:vendor}hint": "fast"}
    again = write_bpmn(first)
    assert 'id="c"' in again and '<bpmn:timerEventDefinition id="td"/>' in again
    assert read_bpmn(again).without_diagrams() == first.without_diagrams()
