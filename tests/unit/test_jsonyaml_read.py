"""Reading JSON and YAML definitions: what each key and short form becomes in the model."""

from __future__ import annotations

import pytest

from apg_workflow import model as m
from apg_workflow.formats.jsonyaml import definitions_from_dict, read_json, read_yaml
from tests.conftest import ROOT

FIXTURES = ROOT / "tests" / "fixtures" / "json"


@pytest.fixture(scope="module")
def every() -> m.Process:
    text = (FIXTURES / "every-element.yaml").read_text(encoding="utf-8")
    return read_yaml(text, source="every-element.yaml").main_process


def test_process_keys(every: m.Process) -> None:
    assert every.id == "Every_Element"  # made from the name
    assert every.name == "Every Element"
    assert every.documentation == "A process that uses every key of the format."
    assert every.version_tag == "2.1"
    assert every.is_executable


def test_user_task_keys_and_short_forms(every: m.Process) -> None:
    review = every["review"]
    assert isinstance(review, m.UserTask)
    assert review.documentation == "Check the order by hand."
    assert review.assignment == m.Assignment(
        assignee="${initiator}", candidate_users=("alice", "bob"), candidate_groups=("reviewers",)
    )
    assert review.form == m.Form(key="review-form")
    assert (review.due, review.sla, review.priority) == ("PT2H", "P1DT4H", 5)
    assert review.inputs == (
        m.DataMapping("amount", m.Expression('order["total"]')),
        m.DataMapping("region", m.Expression("=customer.region", "feel")),
    )
    # The list form keeps repeated targets and languages, in order.
    assert review.outputs == (
        m.DataMapping("approved", m.Expression('decision == "yes"')),
        m.DataMapping("approved", m.Expression("${ok}", "juel")),
    )


def test_service_task_component_retry_and_loop(every: m.Process) -> None:
    task = every["call_api"]
    assert isinstance(task, m.ServiceTask)
    assert task.component == m.ComponentRef(
        type="http.request", config=m.freeze({"method": "POST", "url": "https://api.example.com/orders"})
    )
    assert task.retry == m.RetryPolicy(
        max_attempts=4, initial_backoff="PT30S", multiplier=1.5, max_backoff="PT10M", jitter=False
    )
    assert task.loop == m.StandardLoop(condition=m.Expression("not done"), test_before=True, maximum=10)
    assert (task.result_variable, task.implementation) == ("reply", "com.example.Delegate")


def test_short_component_form_takes_config_beside_it(every: m.Process) -> None:
    task = every["notify"]
    assert isinstance(task, m.SendTask)
    assert task.component == m.ComponentRef(type="email.send", config=m.freeze({"to": "ops@example.com"}))
    assert task.message_ref == "OrderPlaced"


def test_other_tasks(every: m.Process) -> None:
    assert every["wait_reply"] == m.ReceiveTask(
        id="wait_reply", message_ref="Reply", correlation_key=m.Expression("order_id"), instantiate=True
    )
    compute = every["compute"]
    assert isinstance(compute, m.ScriptTask)
    assert compute.script == m.Script("total = sum(items)\nvat = total * 0.2\n", "python")
    assert every["decide"] == m.BusinessRuleTask(
        id="decide", decision_ref="discount_table", result_variable="discount"
    )
    assert every["manual"] == m.ManualTask(id="manual", is_for_compensation=True)
    assert every["call_billing"] == m.CallActivity(
        id="call_billing", called_element="billing", propagate_all=True
    )
    each = every["each_item"]
    assert isinstance(each, m.Task)
    assert each.loop == m.MultiInstance(
        sequential=True,
        cardinality=m.Expression("5"),
        input_collection=m.Expression('order["items"]'),
        input_element="item",
        output_collection="results",
        output_element=m.Expression("item.id", "feel"),
        completion_condition=m.Expression("len(results) >= 3"),
    )


def test_gateways_and_default_flows(every: m.Process) -> None:
    xor = every["xor"]
    assert isinstance(xor, m.ExclusiveGateway)
    assert xor.direction == "Diverging"
    assert xor.default == "Flow_xor_end"  # from the flow marked ``default: true``
    assert every["or"] == m.InclusiveGateway(id="or", default="Flow_or_end")
    assert every["events"] == m.EventBasedGateway(id="events", instantiate=True, exclusive=False)
    assert every["complex"] == m.ComplexGateway(
        id="complex", activation_condition=m.Expression("_activeTokens >= 2")
    )


@pytest.mark.parametrize(
    ("node_id", "definition"),
    [
        (
            "Order_Placed",
            m.MessageDefinition(message_ref="OrderPlaced", correlation_key=m.Expression("order_id")),
        ),
        ("wait_timer", m.TimerDefinition(timer=m.TimerKind.DURATION, expression=m.Expression("PT10M"))),
        (
            "wait_date",
            m.TimerDefinition(timer=m.TimerKind.DATE, expression=m.Expression("2026-12-01T10:00:00Z")),
        ),
        ("every_hour", m.TimerDefinition(timer=m.TimerKind.CYCLE, expression=m.Expression("R3/PT1H"))),
        ("wait_condition", m.ConditionalDefinition(condition=m.Expression("stock > 0"))),
        ("catch_link", m.LinkDefinition(link_name="again")),
        ("throw_signal", m.SignalDefinition(signal_ref="Alarm")),
        ("throw_escalation", m.EscalationDefinition(escalation_ref="Late")),
        ("throw_compensation", m.CompensateDefinition(activity_ref="manual", wait_for_completion=False)),
        ("on_error", m.ErrorDefinition()),
        ("end", m.TerminateDefinition()),
    ],
)
def test_trigger_short_forms(every: m.Process, node_id: str, definition: m.EventDefinition) -> None:
    event = every[node_id]
    assert isinstance(event, m.Event)
    assert event.definitions == (definition,)


def test_several_triggers(every: m.Process) -> None:
    either = every["either"]
    assert isinstance(either, m.IntermediateCatchEvent)
    assert either.parallel_multiple
    assert either.definitions == (
        m.TimerDefinition(timer=m.TimerKind.DURATION, expression=m.Expression("PT1H")),
        m.MessageDefinition(message_ref="Reply"),
        m.SignalDefinition(),
    )


def test_boundary_events(every: m.Process) -> None:
    late = every["on_late"]
    assert isinstance(late, m.BoundaryEvent)
    assert late.attached_to == "review"  # written by name: "Review"
    assert not late.cancel_activity
    on_error = every["on_error"]
    assert isinstance(on_error, m.BoundaryEvent)
    assert on_error.cancel_activity


def test_sub_processes(every: m.Process) -> None:
    cleanup = every["cleanup"]
    assert isinstance(cleanup, m.SubProcess)
    assert cleanup.triggered_by_event
    start = cleanup["cleanup_start"]
    assert isinstance(start, m.StartEvent)
    assert not start.is_interrupting
    assert start.definitions == (m.ErrorDefinition(error_ref="Failure"),)
    assert cleanup.flows == (
        m.SequenceFlow(id="Flow_cleanup_start_cleanup_end", source="cleanup_start", target="cleanup_end"),
    )
    payment = every["payment"]
    assert isinstance(payment, m.Transaction)
    assert payment.flows[0].id == "payment_flow"
    assert every["ad_hoc"] == m.AdHocSubProcess(
        id="ad_hoc", ordering="Sequential", completion_condition=m.Expression("all_done")
    )


def test_flows(every: m.Process) -> None:
    flows = {flow.id: flow for flow in every.flows}
    assert flows["Flow_Order_Placed_review"].source == "Order_Placed"  # "from: Order Placed", by name
    assert flows["to_xor"] == m.SequenceFlow(
        id="to_xor", name="Reviewed", documentation="After the review.", source="review", target="xor"
    )
    assert flows["Flow_xor_call_api"].condition == m.Expression("approved")
    assert flows["Flow_call_api_or"].condition == m.Expression("= ok", "feel")


def test_catalogues() -> None:
    text = (FIXTURES / "every-element.yaml").read_text(encoding="utf-8")
    definitions = read_yaml(text)
    assert definitions.messages == (
        m.Message(id="OrderPlaced", name="order-placed"),
        m.Message(id="Reply", name="Reply"),
    )
    assert definitions.signals == (m.Signal(id="Alarm", name="alarm"),)
    assert definitions.errors == (m.Error(id="Failure", name="Failure", error_code="E42"),)
    assert definitions.escalations == (m.Escalation(id="Late", escalation_code="LATE"),)


def test_ids_are_made_from_names_else_types_and_never_collide() -> None:
    definitions = read_json(
        """{"name": "Onboarding", "activities": [
             {"type": "startEvent"}, {"type": "userTask", "name": "Fill in forms!"},
             {"type": "userTask", "name": "Fill in forms"}, {"id": "startEvent_1_2", "type": "endEvent"},
             {"type": "startEvent"}],
           "flows": [{"from": "startEvent_1", "to": "Fill_in_forms"}]}"""
    )
    process = definitions.main_process
    assert process.id == "Onboarding"
    assert [node.id for node in process.nodes] == [
        "startEvent_1",
        "Fill_in_forms",
        "Fill_in_forms_2",
        "startEvent_1_2",
        "startEvent",
    ]
    assert process.flows[0].id == "Flow_startEvent_1_Fill_in_forms"


def test_a_file_with_a_main_process_and_the_process_it_calls() -> None:
    definitions = read_json((FIXTURES / "main-and-called.json").read_text(encoding="utf-8"))
    assert definitions.id == "invoicing"
    assert definitions.main_process.id == "monthly_invoicing"
    called = definitions.process("send_invoice")
    assert not called.is_executable
    invoice_each = definitions.main_process["invoice_each"]
    assert isinstance(invoice_each, m.CallActivity)
    assert invoice_each.called_element == "send_invoice"
    assert invoice_each.loop == m.MultiInstance(
        input_collection=m.Expression("customers"), input_element="customer"
    )
    render = called["render"]
    assert isinstance(render, m.ServiceTask)
    assert render.retry == m.RetryPolicy(max_attempts=5)
    assert definitions.signals == (m.Signal(id="InvoicesDone", name="invoices-done"),)


def test_several_processes_and_definitions_keys() -> None:
    definitions = read_json(
        """{"definitions_id": "defs", "definitions_name": "Billing",
            "processes": [
              {"id": "main", "activities": [{"id": "call", "type": "callActivity", "called_element": "sub"}]},
              {"id": "sub", "name": "Sub", "executable": false}]}"""
    )
    assert (definitions.id, definitions.name) == ("defs", "Billing")
    assert [p.id for p in definitions.processes] == ["main", "sub"]
    assert not definitions.process("sub").is_executable
    assert read_json('{"processes": []}').processes == ()


def test_extension_keys_are_ignored_but_config_is_kept_whole() -> None:
    definitions = read_yaml(
        "x-generated-by: tool\n"
        "activities:\n"
        "  - {id: t, type: serviceTask, x-colour: red, component: http.request,\n"
        "     config: {x-api-version: 2, headers: {x-trace: on}}}\n"
    )
    task = definitions.main_process["t"]
    assert isinstance(task, m.ServiceTask) and task.component is not None
    assert task.component.config == {"x-api-version": 2, "headers": {"x-trace": True}}


def test_yaml_dates_stay_text_as_in_json() -> None:
    definitions = read_yaml(
        "activities:\n"
        "  - {id: wait, type: intermediateCatchEvent, timer: {date: 2026-12-01T10:00:00Z}}\n"
        "  - {id: t, type: serviceTask, component: noop, config: {since: 2024-01-31}}\n"
    )
    wait = definitions.main_process["wait"]
    assert isinstance(wait, m.Event)
    assert wait.definitions == (
        m.TimerDefinition(timer=m.TimerKind.DATE, expression=m.Expression("2026-12-01T10:00:00Z")),
    )
    task = definitions.main_process["t"]
    assert isinstance(task, m.ServiceTask) and task.component is not None
    assert task.component.config == {"since": "2024-01-31"}


def test_durations_friendly_forms_become_iso_and_iso_is_kept_as_written() -> None:
    definitions = read_yaml(
        "activities:\n"
        "  - {id: a, type: userTask, sla: PT90M, due: '${deadline}', retry: {initial_backoff: 1m 30s}}\n"
        "  - {id: b, type: userTask, sla: 90 minutes, due: 2026-01-01T09:00:00Z}\n"
    )
    a, b = definitions.main_process.nodes
    assert isinstance(a, m.UserTask) and isinstance(b, m.UserTask)
    assert (a.sla, a.due, a.retry) == ("PT90M", "${deadline}", m.RetryPolicy(initial_backoff="PT1M30S"))
    assert (b.sla, b.due) == ("PT1H30M", "2026-01-01T09:00:00Z")


def test_positions_of_elements_are_recorded_for_the_validator() -> None:
    text = '{\n  "name": "P",\n  "activities": [\n    {"id": "s", "type": "startEvent"}\n  ]\n}'
    assert read_json(text).position_of("s") == (4, 5)
    assert read_yaml("name: P\nactivities:\n  - id: s\n    type: startEvent\n").position_of("s") == (3, 5)
    assert definitions_from_dict({"activities": [{"id": "s", "type": "startEvent"}]}).position_of("s") is None
