"""Activity rules, expression syntax through the injected checker, and what the engine does not
execute."""

from __future__ import annotations

import pytest

from apg_workflow import model as m
from apg_workflow.model import Severity
from tests.unit.test_validation import chain, codes, flow, one, problems_of, process, sub_process


def _alone(node: m.FlowNode, **fields: object) -> tuple[m.Problem, ...]:
    """Problems of start → node → end."""
    return problems_of(
        process(m.StartEvent(id="s"), node, m.EndEvent(id="e"), flows=chain("s", node.id, "e")), **fields
    )


def test_a_service_task_without_component_or_implementation_does_nothing() -> None:
    one(_alone(m.ServiceTask(id="t")), "no-implementation", "t", Severity.WARNING)
    assert _alone(m.ServiceTask(id="t", implementation="com.example.Charge")) == ()
    one(_alone(m.SendTask(id="t")), "no-implementation", "t", Severity.WARNING)


def test_an_unknown_component_type_suggests_the_closest_installed_one() -> None:
    problem = one(
        _alone(m.ServiceTask(id="t", component=m.ComponentRef(type="http.requst"))),
        "unknown-component",
        "t",
        Severity.WARNING,
    )
    assert "'http.requst'; did you mean 'http.request'?" in problem.message
    assert "installed: data.filter, email.send, http.request" in problem.message


def test_a_script_task_needs_a_script() -> None:
    one(_alone(m.ScriptTask(id="t")), "missing-script", "t", Severity.ERROR)
    one(_alone(m.ScriptTask(id="t", script=m.Script("  \n"))), "missing-script", "t", Severity.ERROR)


def test_a_call_activity_needs_a_called_element_and_may_call_a_deployed_one() -> None:
    one(_alone(m.CallActivity(id="c")), "missing-called-element", "c", Severity.ERROR)
    problem = one(
        _alone(m.CallActivity(id="c", called_element="Billing")), "external-call", "c", Severity.INFO
    )
    assert "'Billing', which is not a process of this file" in problem.message


def test_a_business_rule_task_needs_a_decision_or_a_component() -> None:
    one(_alone(m.BusinessRuleTask(id="b")), "missing-decision", "b", Severity.ERROR)
    assert _alone(m.BusinessRuleTask(id="b", decision_ref="discounts")) == ()


@pytest.mark.parametrize(
    ("schema", "says"),
    [
        ({"type": "object", "properties": {"age": {"type": "integr"}}}, "$.properties.age.type"),
        ({"type": "string"}, "describes a string, not an object"),
        ({"type": "object", "required": "name"}, "is not of type 'array'"),
    ],
)
def test_a_form_schema_must_be_a_json_schema_of_an_object(schema: dict[str, object], says: str) -> None:
    task = m.UserTask(id="u", form=m.Form(schema=m.freeze(schema)))
    assert says in one(_alone(task), "invalid-form-schema", "u", Severity.ERROR).message


def test_a_valid_form_schema_with_arrays_is_accepted() -> None:
    schema = {
        "type": "object",
        "required": ["name"],
        "properties": {"name": {"type": "string", "minLength": 1}},
    }
    assert _alone(m.UserTask(id="u", form=m.Form(schema=m.freeze(schema)))) == ()


@pytest.mark.parametrize(
    ("due", "ok"), [("P2D", True), ("2025-03-01T17:00:00Z", True), ("${due}", True), ("friday", False)]
)
def test_a_due_date_is_a_duration_a_date_time_or_an_expression(due: str, ok: bool) -> None:
    found = _alone(m.UserTask(id="u", due=due))
    if ok:
        assert found == ()
    else:
        one(found, "invalid-due", "u", Severity.ERROR)


def test_multi_instance_needs_a_cardinality_or_a_collection() -> None:
    one(_alone(m.Task(id="t", loop=m.MultiInstance())), "multi-instance-no-input", "t", Severity.ERROR)
    assert _alone(m.Task(id="t", loop=m.MultiInstance(cardinality=m.Expression("3")))) == ()


def test_a_standard_loop_without_condition_or_maximum_never_stops() -> None:
    one(_alone(m.Task(id="t", loop=m.StandardLoop())), "endless-loop", "t", Severity.WARNING)
    assert _alone(m.Task(id="t", loop=m.StandardLoop(maximum=3))) == ()


def test_retry_policies_and_slas_are_checked() -> None:
    retry = m.RetryPolicy(max_attempts=0, multiplier=0.5, initial_backoff="1 sec", max_backoff="PT5M")
    problem = one(_alone(m.Task(id="t", retry=retry)), "invalid-retry", "t", Severity.ERROR)
    assert "max_attempts is 0" in problem.message and "multiplier is 0.5" in problem.message
    assert "initial_backoff '1 sec' is not an ISO 8601 duration: write 'PT1S'" in problem.message
    assert "write 'PT4H'" in one(_alone(m.Task(id="t", sla="4h")), "invalid-sla", "t", Severity.ERROR).message


# --- expressions, through the injected checker ---------------------------------------------------


def test_scripts_mappings_and_conditions_are_parsed() -> None:
    task = m.ScriptTask(
        id="t",
        script=m.Script("total = 0\nfor item in items:\n    total += item['price'\n"),
        inputs=(m.DataMapping("items", m.Expression("order.items[")),),
        loop=m.MultiInstance(
            input_collection=m.Expression("items"), completion_condition=m.Expression("done ==")
        ),
    )
    found = _alone(task)
    assert "line 3" in one(found, "script-syntax", "t", Severity.ERROR).message
    problems = {p.code: p.message for p in found if p.element_id == "t"}
    assert problems["expression-syntax"].startswith("the input mapping 'items' of script task 't': ")
    assert problems["condition-syntax"].startswith(
        "the multi-instance completion condition of script task 't'"
    )


def test_the_sandbox_rules_reach_the_designer() -> None:
    found = _alone(m.ScriptTask(id="t", script=m.Script("import os\nos.system('rm -rf /')")))
    assert "imports are not allowed" in one(found, "script-syntax", "t", Severity.ERROR).message


def test_juel_and_feel_conditions_are_checked_in_their_language() -> None:
    found = problems_of(
        process(
            m.StartEvent(id="s"),
            m.ExclusiveGateway(id="g"),
            m.EndEvent(id="a"),
            m.EndEvent(id="b"),
            flows=(flow("s", "g"), flow("g", "a", "${amount > 10 && }"), flow("g", "b", "=amount == 10")),
        )
    )
    one(found, "condition-syntax", "g_a", Severity.ERROR)
    assert "FEEL compares with `=`" in one(found, "condition-syntax", "g_b", Severity.ERROR).message


def test_a_language_the_engine_does_not_run_is_a_warning_not_an_error() -> None:
    task = m.ScriptTask(id="t", script=m.Script("var x = ;", "javascript"))
    found = _alone(task)
    problem = one(found, "unsupported-language", "t", Severity.WARNING)
    assert problem.message.startswith("the script of script task 't' is written in javascript")
    assert "script-syntax" not in codes(found)


# --- what the engine does not execute ------------------------------------------------------------


@pytest.mark.parametrize(
    ("node", "says"),
    [
        (m.ComplexGateway(id="x"), "complex gateways"),
        (m.Transaction(id="x", nodes=(m.StartEvent(id="ts"),)), "transactions"),
        (
            m.UnsupportedNode(id="x", tag="{http://www.omg.org/spec/BPMN/20100524/MODEL}choreographyTask"),
            "<choreographyTask>",
        ),
        (m.Task(id="x", is_for_compensation=True), "compensation handler"),
        (
            m.IntermediateThrowEvent(id="x", definitions=(m.CompensateDefinition(),)),
            "compensation is not supported",
        ),
        (m.EndEvent(id="x", definitions=(m.CancelDefinition(),)), "cancel events"),
        (
            m.IntermediateCatchEvent(
                id="x", definitions=(m.MessageDefinition(message_ref="M"), m.SignalDefinition(signal_ref="S"))
            ),
            "several triggers",
        ),
    ],
)
def test_elements_the_engine_does_not_execute_are_warned_about(node: m.FlowNode, says: str) -> None:
    definitions = process(m.StartEvent(id="s"), node, flows=(flow("s", "x"),))
    found = problems_of(definitions, messages=(m.Message(id="M"),), signals=(m.Signal(id="S"),))
    problem = one(found, "not-executed", "x", Severity.WARNING)
    assert "is not executed by the engine" in problem.message and says in problem.message
    assert "not-executed" not in {p.code for p in found if p.severity is Severity.ERROR}


def test_data_associations_are_warned_about() -> None:
    preserved = m.Preserved(
        children=(
            '<bpmn:dataInputAssociation xmlns:bpmn="x">'
            "<bpmn:sourceRef>D</bpmn:sourceRef></bpmn:dataInputAssociation>",
        )
    )
    found = _alone(m.Task(id="t", preserved=preserved))
    assert "data associations" in one(found, "not-executed", "t", Severity.WARNING).message


def test_nested_sub_processes_are_checked_each_on_its_own() -> None:
    deepest = sub_process(
        "deep",
        m.StartEvent(id="ds"),
        m.ScriptTask(id="broken"),
        m.EndEvent(id="de"),
        flows=chain("ds", "broken", "de"),
    )
    middle = sub_process(
        "mid", m.StartEvent(id="ms"), deepest, m.EndEvent(id="me"), flows=chain("ms", "deep", "me")
    )
    found = _alone(middle)
    problem = one(found, "missing-script", "broken", Severity.ERROR)
    assert problem.process_id == "P"
