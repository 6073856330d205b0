"""Writing BPMN 2.0: schema order, our extensions' exact XML, prefixes, determinism, diagrams."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from lxml import etree

from apg_workflow.formats.bpmn import read_bpmn, write_bpmn
from apg_workflow.formats.errors import FormatError
from apg_workflow.model import (
    Assignment,
    BoundaryEvent,
    ComponentRef,
    DataMapping,
    Definitions,
    EndEvent,
    ExclusiveGateway,
    Expression,
    Form,
    MessageDefinition,
    MultiInstance,
    Preserved,
    Process,
    RetryPolicy,
    SequenceFlow,
    ServiceTask,
    StartEvent,
    TimerDefinition,
    TimerKind,
    UserTask,
    freeze,
)

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "bpmn"
MODEL = "http://www.omg.org/spec/BPMN/20100524/MODEL"
NS = {"bpmn": MODEL, "apg": "urn:apg-workflow:bpmn:1.0", "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI"}

IO_SPEC = (
    f'<bpmn:ioSpecification xmlns:bpmn="{MODEL}" id="io"><bpmn:inputSet id="in"></bpmn:inputSet>'
    '<bpmn:outputSet id="out"></bpmn:outputSet></bpmn:ioSpecification>'
)


def _rich() -> Definitions:
    user = UserTask(
        id="review",
        name="Review",
        documentation="Look at it",
        inputs=(DataMapping("amount", Expression("order.total", "python")),),
        outputs=(DataMapping("approved", Expression("decision == 'yes'")),),
        retry=RetryPolicy(
            max_attempts=4, initial_backoff="PT10S", multiplier=1.5, max_backoff="PT1H", jitter=False
        ),
        sla="PT4H",
        assignment=Assignment(
            assignee="${initiator}", candidate_users=("alice", "bob"), candidate_groups=("a,b",)
        ),
        form=Form(
            key="review-form", schema=freeze({"type": "object", "properties": {"ok": {"type": "boolean"}}})
        ),
        due="P2D",
        priority=0,
        loop=MultiInstance(
            sequential=True,
            input_collection=Expression("orders", "feel"),
            input_element="order",
            output_collection="results",
            output_element=Expression("result"),
            cardinality=Expression("3"),
        ),
        preserved=Preserved(children=(IO_SPEC,), attributes=freeze({"{urn:vendor}flag": "x"})),
    )
    service = ServiceTask(
        id="call",
        component=ComponentRef(
            type="http.request", config=freeze({"url": "https://example.com", "retries": [1, 2]})
        ),
        result_variable="response",
    )
    process = Process(
        id="p",
        nodes=(
            StartEvent(
                id="s",
                definitions=(MessageDefinition(message_ref="m", correlation_key=Expression("order.id")),),
            ),
            user,
            service,
            ExclusiveGateway(id="g", default="f4"),
            EndEvent(id="e"),
            BoundaryEvent(
                id="b",
                attached_to="review",
                definitions=(TimerDefinition(timer=TimerKind.DURATION, expression=Expression("PT1H")),),
            ),
        ),
        flows=(
            SequenceFlow(id="f1", source="s", target="review"),
            SequenceFlow(id="f2", source="review", target="call"),
            SequenceFlow(id="f3", source="call", target="g"),
            SequenceFlow(id="f4", source="g", target="e"),
            SequenceFlow(id="f5", source="g", target="e", condition=Expression("x > 1", "python")),
            SequenceFlow(id="f6", source="b", target="e"),
        ),
    )
    return Definitions(id="defs", processes=(process,))


def _local(element: etree._Element) -> str:
    return etree.QName(element).localname


def test_children_follow_the_xsd_sequence() -> None:
    root = etree.fromstring(write_bpmn(_rich()).encode())
    review = root.find(".//bpmn:userTask", NS)
    assert [_local(child) for child in review] == [
        "documentation", "extensionElements", "incoming", "outgoing", "ioSpecification",
        "multiInstanceLoopCharacteristics",
    ]  # fmt: skip
    loop = review.find("bpmn:multiInstanceLoopCharacteristics", NS)
    assert [_local(child) for child in loop] == ["extensionElements", "loopCardinality"]
    boundary = root.find(".//bpmn:boundaryEvent", NS)
    assert [_local(child) for child in boundary] == ["outgoing", "timerEventDefinition"]
    process = root.find("bpmn:process", NS)
    kinds = [_local(child) for child in process]
    assert kinds.index("sequenceFlow") > kinds.index("boundaryEvent")
    assert [_local(child) for child in root][-1] == "BPMNDiagram"


def test_apg_extensions_have_the_documented_form() -> None:
    xml = write_bpmn(_rich())
    expected = """        <apg:input target="amount" source="order.total" language="python"/>
        <apg:output target="approved" source="decision == 'yes'"/>
        <apg:retry maxAttempts="4" initialBackoff="PT10S" multiplier="1.5" maxBackoff="PT1H" jitter="false"/>
        <apg:sla>PT4H</apg:sla>
        <apg:assignee>${initiator}</apg:assignee>
        <apg:candidateUsers>alice, bob</apg:candidateUsers>
        <apg:candidateGroups>["a,b"]</apg:candidateGroups>
        <apg:form key="review-form">{"type": "object", "properties": {"ok": {"type": "boolean"}}}</apg:form>
        <apg:due>P2D</apg:due>
        <apg:priority>0</apg:priority>"""
    assert expected in xml
    assert (
        '<apg:multiInstance inputCollection="orders" inputCollectionLanguage="feel" inputElement="order" '
        'outputCollection="results" outputElement="result"/>'
    ) in xml
    assert '<apg:component type="http.request">' in xml
    assert '<apg:config>{"url": "https://example.com", "retries": [1, 2]}</apg:config>' in xml
    assert "<apg:resultVariable>response</apg:resultVariable>" in xml
    assert (
        '<bpmn:messageEventDefinition messageRef="m">' in xml
        and "<apg:correlationKey>order.id</apg:correlationKey>" in xml
    )
    assert (
        '<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression" language="python">x &gt; 1'
        "</bpmn:conditionExpression>" in xml
    )
    assert read_bpmn(xml).without_diagrams() == _rich()


def test_output_is_deterministic_with_the_standard_prefixes_and_a_diagram() -> None:
    first = write_bpmn(_rich())
    assert first == write_bpmn(_rich())
    root = etree.fromstring(first.encode())
    assert {p: root.nsmap[p] for p in ("bpmn", "bpmndi", "dc", "di", "xsi", "apg")} == {
        "bpmn": MODEL,
        "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
        "dc": "http://www.omg.org/spec/DD/20100524/DC",
        "di": "http://www.omg.org/spec/DD/20100524/DI",
        "xsi": "http://www.w3.org/2001/XMLSchema-instance",
        "apg": "urn:apg-workflow:bpmn:1.0",
    }
    drawn = {shape.get("bpmnElement") for shape in root.iterfind(".//bpmndi:BPMNShape", NS)}
    assert {"s", "review", "call", "g", "e", "b"} <= drawn
    assert root.find("bpmn:process", NS).get("isExecutable") == "true"


def test_source_prefixes_are_declared_again() -> None:
    xml = write_bpmn(read_bpmn((FIXTURES / "camunda7_invoice.bpmn").read_bytes()))
    root = etree.fromstring(xml.encode())
    assert root.nsmap["camunda"] == "http://camunda.org/schema/1.0/bpmn"
    assert 'camunda:asyncBefore="true"' in xml
    # preserved fragments do not repeat what the root declares
    assert "<camunda:properties>" in xml


def test_characters_xml_cannot_hold_are_refused() -> None:
    model = Definitions(processes=(Process(id="p", name="bad\x01name"),))
    with pytest.raises(FormatError, match="U\\+0001"):
        write_bpmn(model)


def _schema() -> etree.XMLSchema:
    spec = importlib.util.find_spec("SpiffWorkflow")
    if spec is None or spec.origin is None:
        pytest.skip("the BPMN 2.0 XSD ships with SpiffWorkflow, which is not installed")
    xsd = Path(spec.origin).parent / "bpmn" / "parser" / "schema" / "BPMN20.xsd"
    return etree.XMLSchema(etree.parse(str(xsd)))


@pytest.mark.parametrize("source", ["rich", "collaboration_pools.bpmn", "camunda8_order.bpmn"])
def test_written_files_are_valid_against_the_bpmn_xsd(source: str) -> None:
    model = _rich() if source == "rich" else read_bpmn((FIXTURES / source).read_bytes())
    document = etree.fromstring(write_bpmn(model).encode())
    schema = _schema()
    assert schema.validate(document), schema.error_log
