"""Camunda 7, Camunda 8 (Zeebe), SpiffWorkflow and Signavio files: mapped fields and what is kept."""

from __future__ import annotations

from pathlib import Path

from apg_workflow.formats.bpmn import read_bpmn, write_bpmn
from apg_workflow.model import (
    Assignment,
    ComponentRef,
    DataMapping,
    Definitions,
    Expression,
    MultiInstance,
    RetryPolicy,
    Script,
    TimerKind,
)
from tests.conftest import MIWG

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "bpmn"
FEEL = "feel"


def _load(name: str) -> Definitions:
    return read_bpmn((FIXTURES / name).read_bytes(), source=name)


def _round_trips(definitions: Definitions) -> str:
    xml = write_bpmn(definitions)
    assert read_bpmn(xml) == definitions
    return xml


def test_camunda7_extensions_map_onto_model_fields() -> None:
    definitions = _load("camunda7_invoice.bpmn")
    process = definitions.process("invoice")
    assert process.version_tag == "2.1"
    approve = process.node("approve")
    assert approve.assignment == Assignment(
        assignee="${approver}", candidate_groups=("accounting", "management")
    )
    assert (approve.due, approve.priority, approve.form.key) == ("${dueDate}", 60, "approve-form")
    assert approve.form.schema.thaw() == {
        "type": "object",
        "properties": {
            "amount": {"type": "integer", "title": "Amount", "default": 100, "minimum": 1},
            "approved": {"type": "boolean", "title": "Approved?"},
            "category": {"type": "string", "title": "Category", "enum": ["travel", "office"]},
        },
        "required": ["amount"],
    }
    assert "camunda}taskListener" not in str(approve.preserved.attributes)
    assert approve.preserved.extensions[0].startswith("<camunda:taskListener")
    archive = process.node("archive")
    assert archive.component == ComponentRef(type="invoice-archive")
    assert archive.retry == RetryPolicy(
        max_attempts=5, initial_backoff="PT10M", multiplier=1.0, max_backoff="PT10M", jitter=False
    )
    assert archive.inputs == (DataMapping("invoiceId", Expression("${invoice.id}")),)
    assert archive.outputs == (DataMapping("archiveKey", Expression("${key}")),)
    # the list parameter has no model form: it stays, alone, in the preserved inputOutput
    assert (
        "recipients" in archive.preserved.extensions[0] and "invoiceId" not in archive.preserved.extensions[0]
    )
    assert dict(archive.preserved.attributes) == {"{http://camunda.org/schema/1.0/bpmn}asyncBefore": "true"}
    notify = process.node("notify")
    assert (notify.implementation, notify.result_variable) == ("org.example.NotifyDelegate", "notified")
    classify = process.node("classify")
    assert (classify.decision_ref, classify.result_variable) == ("invoice-classification", "category")
    pay = process.node("pay")
    assert pay.propagate_all and pay.called_element == "payment"
    assert pay.loop.input_collection == Expression("${lines}") and pay.loop.input_element == "line"
    audit = process.node("audit")
    assert audit.inputs == (
        DataMapping("document", Expression("invoice")),
        DataMapping("double", Expression("${amount * 2}")),
    )
    assert audit.outputs == (DataMapping("auditVerdict", Expression("verdict")),)
    assert "businessKey" in audit.preserved.extensions[0]
    xml = _round_trips(definitions)
    assert "<apg:retry " in xml and "camunda:failedJobRetryTimeCycle" not in xml


def test_camunda8_zeebe_extensions_map_onto_model_fields() -> None:
    process = _load("camunda8_order.bpmn").process("order")
    assert process.version_tag == "v3"
    assert process.preserved.extensions[0].startswith("<zeebe:userTaskForm")
    charge = process.node("charge")
    assert charge.component == ComponentRef(
        type="payment-charge", config={"provider": "stripe", "currency": "EUR"}
    )
    assert charge.retry == RetryPolicy(max_attempts=5)
    assert charge.inputs == (DataMapping("amount", Expression("=order.total", FEEL)),)
    assert charge.outputs == (DataMapping("receiptId", Expression("=receipt.id", FEEL)),)
    assert charge.preserved.extensions == ()
    pack = process.node("pack")
    assert pack.assignment == Assignment(assignee="=order.owner", candidate_groups=("warehouse", "shipping"))
    assert pack.form.key == "pack-form" and pack.priority == 75
    assert pack.due == '=now() + duration("P1D")'
    assert [xml.split()[0] for xml in pack.preserved.extensions] == ["<zeebe:userTask", "<zeebe:taskSchedule"]
    assert "followUpDate" in pack.preserved.extensions[1] and "dueDate" not in pack.preserved.extensions[1]
    route = process.node("route")
    assert (route.decision_ref, route.result_variable) == ("carrier", "carrier")
    ship = process.node("ship")
    assert ship.called_element == "shipping" and ship.propagate_all
    assert 'propagateAllParentVariables="false"' in ship.preserved.extensions[0]
    assert ship.loop == MultiInstance(
        input_collection=Expression("=order.parcels", FEEL),
        input_element="parcel",
        output_collection="labels",
        output_element=Expression("=label", FEEL),
    )
    summarise = process.node("summarise")
    assert summarise.script == Script("=count(labels)", FEEL) and summarise.result_variable == "parcelCount"
    late = process.node("late")
    assert not late.cancel_activity and late.attached_to == "pack"
    timer = late.definitions[0]
    assert (timer.id, timer.timer, timer.expression) == ("late_timer", TimerKind.DURATION, Expression("PT4H"))
    _round_trips(_load("camunda8_order.bpmn"))


def test_spiffworkflow_scripts_conditions_and_multi_instance_read_as_they_are() -> None:
    process = _load("spiff_multiinstance.bpmn").process("order_review")
    prepare = process.node("prepare")
    assert prepare.script.text.startswith("items = [") and prepare.script.format is None
    assert (prepare.pre_script, prepare.post_script) == ("started = True", "count = len(items)")
    assert prepare.preserved.extensions == ()
    review = process.node("review_item")
    assert review.loop == MultiInstance(
        sequential=True,
        input_collection=Expression("items"),
        input_element="item",
        output_collection="reviews",
        output_element=Expression("review"),
        preserved=review.loop.preserved,
    )
    assert dict(review.loop.preserved.attributes) == {"id": "review_loop"}
    assert "instructionsForEndUser" in review.preserved.extensions[0]
    assert process.node("decide").decision_ref == "discount_table"
    flow = next(f for f in process.flows if f.id == "flow_big")
    assert flow.condition == Expression("total > 100 and len(reviews) == len(items)")
    assert process.node("big_order").default == "flow_small"
    xml = _round_trips(_load("spiff_multiinstance.bpmn"))
    assert '<apg:multiInstance inputCollection="items" inputElement="item"' in xml


def test_signavio_export_keeps_its_metadata() -> None:
    definitions = _load("signavio_export.bpmn")
    assert definitions.exporter is None and definitions.exporter_version is None
    assert definitions.namespaces[""] == "http://www.omg.org/spec/BPMN/20100524/MODEL"
    process = definitions.processes[0]
    assert not process.is_executable
    start = process.node("sid-start")
    assert start.name == "Claim\nreceived"
    assert 'metaKey="bgcolor"' in start.preserved.extensions[0]
    assert process.node("sid-assess").preserved.children[0].startswith("<ioSpecification")
    yes, no = process.flows[2], process.flows[3]
    assert yes.condition.text == "covered = true" and dict(yes.condition.preserved.attributes) == {
        "id": "sid-yes-condition"
    }
    # an informal expression keeps its type
    assert (
        no.condition.preserved.attributes["{http://www.w3.org/2001/XMLSchema-instance}type"] == "tExpression"
    )
    xml = _round_trips(definitions)
    assert 'name="Claim&#10;received"' in xml and "signavio:signavioMetaData" in xml


def test_miwg_camunda_invoice_loads_and_maps_its_activiti_attributes() -> None:
    definitions = read_bpmn((MIWG / "Reference" / "C.1.0.bpmn").read_bytes())
    process = definitions.process("bpmn-miwg-test-case-c.1.0")
    assign = process.node("assignApprover")
    assert assign.assignment.assignee == "demo" and assign.form.key == "app:assignApprover.jsf"
    assert definitions.namespaces["camunda"] == "http://activiti.org/bpmn"
    _round_trips(definitions)


def test_apg_extensions_win_over_dialects_that_say_the_same() -> None:
    xml = """<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
      xmlns:apg="urn:apg-workflow:bpmn:1.0" xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="d">
      <bpmn:process id="p"><bpmn:userTask id="u" camunda:assignee="camunda-user">
        <bpmn:extensionElements><apg:assignee>apg-user</apg:assignee></bpmn:extensionElements>
      </bpmn:userTask></bpmn:process></bpmn:definitions>"""
    definitions = read_bpmn(xml)
    task = definitions.processes[0].nodes[0]
    assert task.assignment.assignee == "apg-user"
    assert dict(task.preserved.attributes) == {"{http://camunda.org/schema/1.0/bpmn}assignee": "camunda-user"}
    again = read_bpmn(write_bpmn(definitions))
    assert again.without_diagrams() == definitions
