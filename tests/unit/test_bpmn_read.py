"""Reading BPMN 2.0: every element family, preservation of what the model does not know, errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from apg_workflow.formats.bpmn import read_bpmn
from apg_workflow.formats.errors import FormatError
from apg_workflow.model import (
    AdHocSubProcess,
    Association,
    BoundaryEvent,
    CallActivity,
    DataObject,
    DataObjectReference,
    DataStoreReference,
    Definitions,
    EndEvent,
    ErrorDefinition,
    EscalationDefinition,
    Group,
    MessageDefinition,
    SignalDefinition,
    StandardLoop,
    StartEvent,
    SubProcess,
    TextAnnotation,
    Transaction,
    UnsupportedNode,
    UserTask,
)

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "bpmn"
MODEL = "http://www.omg.org/spec/BPMN/20100524/MODEL"


def _load(name: str) -> Definitions:
    return read_bpmn((FIXTURES / name).read_bytes(), source=name)


def _process(body: str, **attributes: str) -> str:
    extra = "".join(f' {key}="{value}"' for key, value in attributes.items())
    head = f'<definitions xmlns="{MODEL}" id="d" targetNamespace="urn:t">'
    return f'{head}<process id="p"{extra}>{body}</process></definitions>'


def test_collaboration_with_pools_lanes_and_message_flows() -> None:
    definitions = _load("collaboration_pools.bpmn")
    assert (definitions.id, definitions.name, definitions.target_namespace) == (
        "purchasing_defs",
        "Purchasing",
        "http://example.com/purchasing",
    )
    assert definitions.namespaces["tns"] == "http://example.com/purchasing"
    collaboration = definitions.collaborations[0]
    assert [(p.id, p.process_ref) for p in collaboration.participants] == [
        ("pool_buyer", "buyer"),
        ("pool_seller", "seller"),
    ]
    # a QName reference into this document's target namespace is a plain id
    assert collaboration.message_flows[0].message_ref == "msg_order"
    assert isinstance(collaboration.artifacts[0], TextAnnotation)
    assert collaboration.artifacts[0].text == "Orders above 10k need two approvals"
    assert isinstance(collaboration.artifacts[1], Association)
    assert [m.id for m in definitions.messages] == ["msg_order", "msg_invoice"]
    assert definitions.messages[0].item_ref == "order_item"
    assert (
        definitions.errors[0].error_code == "STOCK" and definitions.escalations[0].escalation_code == "LATE"
    )
    assert definitions.signals[0].name == "Stop"
    # root elements the model does not have are kept in schema order
    kept = definitions.preserved.children
    assert [xml.split()[0] for xml in kept] == ["<bpmn:itemDefinition", "<bpmn:dataStore", "<bpmn:category"]


def test_process_content_lanes_data_and_artifacts() -> None:
    buyer = _load("collaboration_pools.bpmn").process("buyer")
    assert buyer.is_executable and buyer.documentation == "Buys things."
    lanes = buyer.lane_sets[0].lanes
    assert lanes[0].flow_node_refs == ("buyer_start", "approve")
    assert lanes[0].child_lane_set.lanes[0].name == "Manager"
    assert [type(d) for d in buyer.data] == [DataObject, DataObjectReference, DataStoreReference]
    assert buyer.data[1].data_object_ref == "order_data" and buyer.data[2].data_store_ref == "erp"
    assert buyer.data[1].preserved.children == (
        f'<bpmn:dataState xmlns:bpmn="{MODEL}" id="order_state" name="draft"></bpmn:dataState>',
    )
    assert isinstance(buyer.artifacts[0], Group) and buyer.artifacts[0].category_value_ref == "cat_urgent"
    approve = buyer.node("approve")
    assert isinstance(approve, UserTask)
    kinds = [xml.split()[0] for xml in approve.preserved.children]
    assert kinds == ["<bpmn:dataOutputAssociation", "<bpmn:potentialOwner"]
    check = buyer.node("check_stock")
    assert isinstance(check, CallActivity) and check.called_element == "stock_check"
    assert check.loop == StandardLoop(
        condition=check.loop.condition, test_before=True, maximum=3, preserved=check.loop.preserved
    )
    assert (check.loop.condition.text, check.loop.condition.language) == ("not in_stock", "python")
    assert dict(check.loop.preserved.attributes) == {"id": "stock_loop"}
    boundary = buyer.node("no_stock")
    assert (
        isinstance(boundary, BoundaryEvent)
        and boundary.attached_to == "check_stock"
        and boundary.cancel_activity
    )
    assert boundary.definitions == (ErrorDefinition(id="no_stock_def", error_ref="err_stock"),)
    assert buyer.node("gave_up").definitions == (SignalDefinition(signal_ref="sig_stop"),)
    assert [f.id for f in buyer.incoming("check_stock")] == ["b2"]


def test_nested_sub_processes_transactions_and_unknown_flow_elements() -> None:
    seller = _load("collaboration_pools.bpmn").process("seller")
    assert not seller.is_executable
    assert seller.start_events[0].definitions == (MessageDefinition(message_ref="msg_order"),)
    fulfil = seller.node("fulfil")
    assert isinstance(fulfil, SubProcess) and not fulfil.triggered_by_event
    book = fulfil.node("book")
    assert isinstance(book, Transaction) and book.node("book_end").kind.value == "endEvent"
    assert dict(book.preserved.attributes) == {"method": "##Compensate"}
    event_sub = fulfil.node("on_late")
    assert isinstance(event_sub, SubProcess) and event_sub.triggered_by_event
    start = event_sub.nodes[0]
    assert isinstance(start, StartEvent) and not start.is_interrupting
    assert start.definitions == (EscalationDefinition(escalation_ref="esc_late"),)
    odd = seller.node("odd")
    assert isinstance(odd, UnsupportedNode) and odd.tag == f"{{{MODEL}}}choreographyTask" and odd.name
    assert odd.preserved.children[0].startswith("<bpmn:choreographyTask")
    assert "<bpmn:messageFlowRef>mf_order</bpmn:messageFlowRef>" in odd.preserved.children[0]


def test_diagram_interchange() -> None:
    diagram = _load("collaboration_pools.bpmn").diagrams[0]
    assert (diagram.id, diagram.name, diagram.plane.element_ref) == ("diagram", "Purchasing", "collab")
    shapes = {shape.element_ref: shape for shape in diagram.plane.shapes}
    assert shapes["pool_buyer"].is_horizontal and shapes["pool_buyer"].bounds.width == 900
    assert shapes["fulfil"].is_expanded is True and shapes["book"].is_expanded is False
    assert shapes["send_order"].is_expanded is None
    edge = diagram.plane.edges[0]
    assert edge.element_ref == "mf_order" and edge.source_element == "send_order_di"
    assert edge.message_visible_kind == "initiating"
    assert [(p.x, p.y) for p in edge.waypoints] == [(650.0, 310.0), (650.0, 400.0)]
    assert edge.label.id == "mf_order_label" and edge.label.bounds.height == 14


def test_adhoc_sub_process_and_gateways() -> None:
    body = """<adHocSubProcess id="a" ordering="Sequential" cancelRemainingInstances="false">
        <completionCondition>done</completionCondition><task id="t"/></adHocSubProcess>
      <eventBasedGateway id="e" instantiate="true" eventGatewayType="Parallel" gatewayDirection="Diverging"/>
      <complexGateway id="c" default="f">
        <activationCondition language="feel">count &gt; 1</activationCondition>
      </complexGateway>"""
    process = read_bpmn(_process(body)).processes[0]
    adhoc = process.node("a")
    assert isinstance(adhoc, AdHocSubProcess) and adhoc.ordering == "Sequential"
    assert adhoc.completion_condition.text == "done" and adhoc.node("t")
    assert dict(adhoc.preserved.attributes) == {"cancelRemainingInstances": "false"}
    gateway = process.node("e")
    assert gateway.instantiate and not gateway.exclusive and gateway.direction == "Diverging"
    complex_gateway = process.node("c")
    assert complex_gateway.default == "f" and complex_gateway.activation_condition.language == "feel"


def test_is_executable_defaults_to_true_and_documentation_is_kept_verbatim() -> None:
    xml = _process('<documentation>Line one\n  line two </documentation><endEvent id="e"/>')
    process = read_bpmn(xml).processes[0]
    assert process.is_executable
    assert process.documentation == "Line one\n  line two "
    assert isinstance(process.nodes[0], EndEvent)


def test_positions_point_at_the_start_tags() -> None:
    definitions = read_bpmn(
        f'<definitions xmlns="{MODEL}" id="d">\n  <process id="p">\n    <task id="t"/>\n'
        "  </process>\n</definitions>"
    )
    assert definitions.position_of("t") == (3, 5)
    assert definitions.position_of("p") == (2, 3)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('<task name="no id"/>', "<task> needs a id attribute"),
        ('<sequenceFlow id="f" sourceRef="a"/>', "<sequenceFlow> needs a targetRef attribute"),
        ('<boundaryEvent id="b"/>', "<boundaryEvent> needs a attachedToRef attribute"),
        (
            '<task id="t" isForCompensation="maybe"/>',
            'attribute isForCompensation="maybe" of <task>: expected true or false',
        ),
        ('<startEvent id="s" isInterrupting=""/>', "expected true or false"),
    ],
)
def test_invalid_elements_are_located_errors(body: str, message: str) -> None:
    with pytest.raises(FormatError) as caught:
        read_bpmn(_process(body), source="bad.bpmn")
    problem = caught.value.problems[0]
    assert message in problem.message
    assert problem.line == 1 and problem.source == "bad.bpmn"


def test_a_shape_without_bounds_is_an_error() -> None:
    xml = f"""<definitions xmlns="{MODEL}" xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" id="d">
      <bpmndi:BPMNDiagram><bpmndi:BPMNPlane>
        <bpmndi:BPMNShape bpmnElement="x"/>
      </bpmndi:BPMNPlane></bpmndi:BPMNDiagram>
    </definitions>"""
    with pytest.raises(FormatError, match="needs dc:Bounds"):
        read_bpmn(xml)


def test_process_children_that_are_not_flow_elements_stay_preserved() -> None:
    body = (
        '<documentation id="doc" textFormat="text/html">&lt;b&gt;x&lt;/b&gt;</documentation>'
        '<ioSpecification id="io"><inputSet id="in"/><outputSet id="out"/></ioSpecification>'
        '<property id="prop" name="p"/><task id="t"/>'
    )
    process = read_bpmn(_process(body)).processes[0]
    assert [node.id for node in process.nodes] == ["t"]
    assert process.documentation is None
    assert [xml.split()[0] for xml in process.preserved.children] == [
        "<documentation",
        "<ioSpecification",
        "<property",
    ]
