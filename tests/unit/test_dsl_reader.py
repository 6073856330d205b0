"""Reading the APG DSL: every construct becomes the model a designer would expect."""

from __future__ import annotations

import textwrap

import pytest

from apg_workflow import model as m
from apg_workflow.formats import detect_format, load
from apg_workflow.formats.dsl import read_dsl


def read(text: str) -> m.Definitions:
    return read_dsl(textwrap.dedent(text))


def process(text: str) -> m.Process:
    return read(text).main_process


def edges(container: m.FlowContainer) -> list[tuple[str, str]]:
    return [(f.source, f.target) for f in container.flows]


ARCHITECTURE_EXAMPLE = """\
WORKFLOW "Employee Onboarding"
  START "New Employee"
  USER_TASK "Complete Forms"
    duration: "2h"
    sla: "4h"
  END "Complete"
"""


def test_the_architecture_example_reads_as_a_three_step_process() -> None:
    expected = m.Process(
        id="Employee_Onboarding",
        name="Employee Onboarding",
        nodes=(
            m.StartEvent(id="New_Employee", name="New Employee"),
            m.UserTask(id="Complete_Forms", name="Complete Forms", due="PT2H", sla="PT4H"),
            m.EndEvent(id="Complete", name="Complete"),
        ),
        flows=(
            m.SequenceFlow(
                id="Flow_New_Employee_Complete_Forms", source="New_Employee", target="Complete_Forms"
            ),
            m.SequenceFlow(id="Flow_Complete_Forms_Complete", source="Complete_Forms", target="Complete"),
        ),
    )
    definitions = read_dsl(ARCHITECTURE_EXAMPLE)
    assert definitions == m.Definitions(processes=(expected,))
    assert detect_format(ARCHITECTURE_EXAMPLE) == "dsl"
    assert load(ARCHITECTURE_EXAMPLE) == definitions


def test_positions_of_elements_are_recorded_for_validation_messages() -> None:
    definitions = read_dsl(ARCHITECTURE_EXAMPLE)
    assert definitions.position_of("Complete_Forms") == (3, 3)
    assert definitions.position_of("Employee_Onboarding") == (1, 1)


def test_ids_come_from_the_header_the_id_property_or_the_name_and_kind() -> None:
    p = process(
        """
        WORKFLOW onboarding "Onboarding"
          START
          TASK review "Review"
          TASK "Review"
          TASK
            id: `odd id`
          TASK "Review"
          END
        """
    )
    assert p.id == "onboarding"
    assert [n.id for n in p.nodes] == ["startEvent_1", "review", "Review", "odd id", "Review_2", "endEvent_1"]


def test_the_same_text_always_gives_the_same_ids() -> None:
    text = "WORKFLOW\n  START\n  TASK\n  TASK\n  END\n"
    assert read_dsl(text) == read_dsl(text)
    ids = [n.id for n in read_dsl(text).main_process.nodes]
    assert ids == ["startEvent_1", "task_1", "task", "endEvent_1"]


@pytest.mark.parametrize(
    ("keyword", "cls"),
    [
        ("TASK", m.Task),
        ("USER_TASK", m.UserTask),
        ("SERVICE_TASK", m.ServiceTask),
        ("SCRIPT_TASK", m.ScriptTask),
        ("MANUAL_TASK", m.ManualTask),
        ("BUSINESS_RULE_TASK", m.BusinessRuleTask),
        ("SEND_TASK", m.SendTask),
        ("RECEIVE_TASK", m.ReceiveTask),
        ("CALL", m.CallActivity),
        ("WAIT", m.IntermediateCatchEvent),
        ("THROW", m.IntermediateThrowEvent),
        ("SUBPROCESS", m.SubProcess),
        ("TRANSACTION", m.Transaction),
        ("ADHOC_SUBPROCESS", m.AdHocSubProcess),
        ("EXCLUSIVE_GATEWAY", m.ExclusiveGateway),
        ("PARALLEL_GATEWAY", m.ParallelGateway),
        ("INCLUSIVE_GATEWAY", m.InclusiveGateway),
        ("EVENT_GATEWAY", m.EventBasedGateway),
        ("COMPLEX_GATEWAY", m.ComplexGateway),
    ],
)
def test_each_step_keyword_makes_its_element_in_the_sequence(keyword: str, cls: type) -> None:
    p = process(f'WORKFLOW\n  START s\n  {keyword} x "X"\n  END e\n')
    assert type(p.node("x")) is cls
    assert p.node("x").name == "X"
    assert edges(p) == [("s", "x"), ("x", "e")]


def test_several_workflows_make_several_processes() -> None:
    definitions = read('WORKFLOW a "A"\n  START\nWORKFLOW b "B"\n  executable: false\n  START\n')
    assert [(p.id, p.is_executable) for p in definitions.processes] == [("a", True), ("b", False)]


def test_comments_and_blank_lines_are_ignored() -> None:
    p = process(
        """
        # a comment before everything

        WORKFLOW w   # after a header
          START s

          # between steps
          END e  # at the end
        """
    )
    assert edges(p) == [("s", "e")]


# ---------------------------------------------------------------------------------------------
# Events


def test_wait_with_a_duration_is_a_timer_catch_event() -> None:
    wait = process('WORKFLOW\n  WAIT "Cool-off" duration: "2h"\n').node("Cool_off")
    assert wait == m.IntermediateCatchEvent(
        id="Cool_off",
        name="Cool-off",
        definitions=(m.TimerDefinition(timer=m.TimerKind.DURATION, expression=m.Expression("PT2H")),),
    )


def test_triggers_make_event_definitions() -> None:
    p = process(
        """
        WORKFLOW
          START s1 TIMER CYCLE "R3/PT10M"
          START s2 MESSAGE order CORRELATION feel "= order.id" OR SIGNAL go
          START s3 CONDITION "stock < 10" AND TIMER DATE "2026-01-01T09:00:00Z"
          WAIT w LINK "again"
          THROW t ESCALATION late
          THROW c COMPENSATE review NO_WAIT
          END e1 ERROR failed
          END e2 TERMINATE
          END e3 CANCEL
          END e4
        """
    )
    d = {n.id: n.definitions for n in p.nodes}
    assert d["s1"] == (m.TimerDefinition(timer=m.TimerKind.CYCLE, expression=m.Expression("R3/PT10M")),)
    assert d["s2"] == (
        m.MessageDefinition(message_ref="order", correlation_key=m.Expression("= order.id", "feel")),
        m.SignalDefinition(signal_ref="go"),
    )
    assert p.node("s3").parallel_multiple and not p.node("s2").parallel_multiple
    assert d["s3"][1] == m.TimerDefinition(
        timer=m.TimerKind.DATE, expression=m.Expression("2026-01-01T09:00:00Z")
    )
    assert d["w"] == (m.LinkDefinition(link_name="again"),)
    assert d["t"] == (m.EscalationDefinition(escalation_ref="late"),)
    assert d["c"] == (m.CompensateDefinition(activity_ref="review", wait_for_completion=False),)
    assert d["e1"] == (m.ErrorDefinition(error_ref="failed"),)
    assert d["e2"] == (m.TerminateDefinition(),)
    assert d["e3"] == (m.CancelDefinition(),)
    assert d["e4"] == ()


def test_quoted_references_find_declarations_by_name_or_code_or_declare_them() -> None:
    definitions = read(
        """
        ERROR payment_failed "Payment failed" code: "PAY-1"
        WORKFLOW
          START MESSAGE "Order received"
          END a ERROR "PAY-1"
          END b ERROR "PAY-2"
          END c MESSAGE "Order received"
        """
    )
    p = definitions.main_process
    assert p.node("a").definitions == (m.ErrorDefinition(error_ref="payment_failed"),)
    assert p.node("b").definitions == (m.ErrorDefinition(error_ref="PAY_2"),)
    assert definitions.errors[1] == m.Error(id="PAY_2", error_code="PAY-2")
    assert definitions.messages == (m.Message(id="Order_received", name="Order received"),)
    assert p.node("c").definitions == (m.MessageDefinition(message_ref="Order_received"),)


def test_declarations_carry_their_codes_and_descriptions() -> None:
    definitions = read(
        """
        MESSAGE order_received "Order Received"
          item_ref: order
        SIGNAL stop "Stop"
        ERROR payment_failed "Payment failed" code: "PAY-1"
        ESCALATION late "Late"
          code: "LATE"
          description: "Raised when a step is overdue."
        DEFINITIONS defs "Sales"
          target_namespace: "https://example.com/sales"
        """
    )
    assert definitions.messages == (m.Message(id="order_received", name="Order Received", item_ref="order"),)
    assert definitions.signals == (m.Signal(id="stop", name="Stop"),)
    assert definitions.errors == (m.Error(id="payment_failed", name="Payment failed", error_code="PAY-1"),)
    assert definitions.escalations[0].escalation_code == "LATE"
    assert definitions.escalations[0].documentation == "Raised when a step is overdue."
    assert (definitions.id, definitions.name) == ("defs", "Sales")
    assert definitions.target_namespace == "https://example.com/sales"


def test_start_events_begin_a_new_sequence_and_end_events_close_it() -> None:
    p = process("WORKFLOW\n  START a\n  END b\n  START c\n  TASK d\n  END e\n")
    assert edges(p) == [("a", "b"), ("c", "d"), ("d", "e")]


# ---------------------------------------------------------------------------------------------
# Boundary events


def test_on_attaches_a_boundary_event_to_the_task_above() -> None:
    p = process(
        """
        WORKFLOW
          START s
          USER_TASK review "Review"
            ON TIMER "PT1H" interrupting: false -> remind
            ON ERROR "REJECTED":
              END rejected
          END done
          TASK remind
        """
    )
    timer, error = (n for n in p.nodes if isinstance(n, m.BoundaryEvent))
    assert (timer.attached_to, timer.cancel_activity) == ("review", False)
    hour = m.TimerDefinition(timer=m.TimerKind.DURATION, expression=m.Expression("PT1H"))
    assert timer.definitions == (hour,)
    assert (error.attached_to, error.cancel_activity) == ("review", True)
    assert [n.id for n in p.nodes] == ["s", "review", timer.id, error.id, "rejected", "done", "remind"]
    assert edges(p) == [("s", "review"), (timer.id, "remind"), (error.id, "rejected"), ("review", "done")]


def test_a_boundary_event_may_stand_alone_with_attached_to() -> None:
    p = process('WORKFLOW\n  TASK t\n  END e\n  ON late "Late" MESSAGE hurry -> e\n    attached_to: t\n')
    assert p.node("late") == m.BoundaryEvent(
        id="late", name="Late", attached_to="t", definitions=(m.MessageDefinition(message_ref="hurry"),)
    )
    assert ("late", "e") in edges(p) and ("e", "late") not in edges(p)


# ---------------------------------------------------------------------------------------------
# Decisions, parallel branches, loops


def test_a_decision_makes_a_split_conditional_flows_a_default_and_a_join() -> None:
    p = process(
        """
        WORKFLOW
          START s
          DECISION check "Amount?":
            WHEN "amount > 1000" "Large":
              USER_TASK approve "Approve"
            BRANCH python "amount < 0" -> refund
            OTHERWISE:
              TASK book "Book"
          END done
          TASK refund
        """
    )
    split, join = p.node("check"), p.node("check_join")
    assert isinstance(split, m.ExclusiveGateway) and isinstance(join, m.ExclusiveGateway)
    flows = {(f.source, f.target): f for f in p.flows}
    assert flows["check", "approve"].condition == m.Expression("amount > 1000")
    assert flows["check", "approve"].name == "Large"
    assert flows["check", "refund"].condition == m.Expression("amount < 0", "python")
    assert split.default == flows["check", "book"].id and flows["check", "book"].condition is None
    assert {("approve", "check_join"), ("book", "check_join"), ("check_join", "done")} <= set(flows)
    assert [n.id for n in p.nodes] == ["s", "check", "approve", "book", "check_join", "done", "refund"]


def test_a_bare_otherwise_continues_after_the_decision() -> None:
    p = process(
        """
        WORKFLOW
          DECISION d "Needs approval?":
            WHEN "amount > 1000":
              TASK approve
            OTHERWISE
          TASK ship
        """
    )
    default = next(f for f in p.flows if f.id == p.node("d").default)
    assert (default.source, default.target) == ("d", "d_join")
    assert ("d_join", "ship") in edges(p)


def test_a_branch_that_ends_needs_no_join() -> None:
    p = process(
        """
        WORKFLOW
          DECISION d:
            WHEN "ok":
              TASK a
            OTHERWISE:
              END stop
          TASK b
        """
    )
    assert not any(isinstance(n, m.ExclusiveGateway) and n.id != "d" for n in p.nodes)
    assert ("a", "b") in edges(p)


def test_nested_decisions_join_inside_their_branch() -> None:
    p = process(
        """
        WORKFLOW
          DECISION outer:
            WHEN "a":
              DECISION inner:
                WHEN "b":
                  TASK x
                WHEN "c":
                  TASK y
            WHEN "d":
              TASK z
          END e
        """
    )
    joined = {("x", "inner_join"), ("y", "inner_join"), ("inner_join", "outer_join"), ("z", "outer_join")}
    assert joined <= set(edges(p))


def test_parallel_branches_split_and_join_with_parallel_gateways() -> None:
    p = process(
        """
        WORKFLOW
          START s
          PARALLEL fork:
            BRANCH:
              TASK a
            BRANCH:
              TASK b
              TASK c
          END e
        """
    )
    assert isinstance(p.node("fork"), m.ParallelGateway)
    assert isinstance(p.node("fork_join"), m.ParallelGateway)
    assert edges(p) == [
        ("s", "fork"),
        ("fork", "a"),
        ("fork", "b"),
        ("b", "c"),
        ("a", "fork_join"),
        ("c", "fork_join"),
        ("fork_join", "e"),
    ]
    assert all(f.condition is None for f in p.flows)


def test_inclusive_decisions_use_inclusive_gateways() -> None:
    p = process(
        'WORKFLOW\n  INCLUSIVE i:\n    WHEN "a" -> e\n    WHEN "b":\n      TASK b\n    OTHERWISE\n  END e\n'
    )
    assert isinstance(p.node("i"), m.InclusiveGateway)
    assert isinstance(p.node("i_join"), m.InclusiveGateway)
    assert p.node("i").default == "Flow_i_i_join"


def test_loop_while_repeats_its_steps_in_a_looping_sub_process() -> None:
    p = process('WORKFLOW\n  START s\n  LOOP retry "Retry" WHILE "not paid":\n    TASK pay\n  END e\n')
    loop = p.node("retry")
    assert isinstance(loop, m.SubProcess) and loop.name == "Retry"
    assert loop.loop == m.StandardLoop(condition=m.Expression("not paid"), test_before=True)
    assert [type(n) for n in loop.nodes] == [m.StartEvent, m.Task, m.EndEvent]
    assert edges(loop) == [("retry_start", "pay"), ("pay", "retry_end")]
    assert edges(p) == [("s", "retry"), ("retry", "e")]


def test_a_loop_body_keeps_its_own_start_and_end_events() -> None:
    loop = process('WORKFLOW\n  LOOP l WHILE "again":\n    START a\n    TASK b\n    END c\n').node("l")
    assert [n.id for n in loop.nodes] == ["a", "b", "c"]


def test_for_each_runs_its_steps_once_per_item() -> None:
    p = process(
        """
        WORKFLOW
          FOR EACH order IN "orders" SEQUENTIAL:
            name: "Ship orders"
            TASK ship
        """
    )
    (wrapper,) = p.nodes
    assert wrapper.name == "Ship orders"
    assert [n.id for n in wrapper.nodes] == ["Ship_orders_start", "ship", "Ship_orders_end"]
    assert wrapper.loop == m.MultiInstance(
        sequential=True, input_collection=m.Expression("orders"), input_element="order"
    )


def test_loop_and_multi_instance_properties() -> None:
    p = process(
        """
        WORKFLOW
          TASK a
            loop: "more"
          TASK b
            loop:
              condition: feel "= more"
              test_before: true
              maximum: 5
          TASK c
            multi_instance:
              collection: "items"
              element: item
              output_collection: results
              output_element: "result"
              completion_condition: "done"
              cardinality: "3"
        """
    )
    assert p.node("a").loop == m.StandardLoop(condition=m.Expression("more"))
    more = m.Expression("= more", "feel")
    assert p.node("b").loop == m.StandardLoop(condition=more, test_before=True, maximum=5)
    assert p.node("c").loop == m.MultiInstance(
        input_collection=m.Expression("items"),
        input_element="item",
        output_collection="results",
        output_element=m.Expression("result"),
        completion_condition=m.Expression("done"),
        cardinality=m.Expression("3"),
    )


def test_jumps_connect_to_elements_written_elsewhere() -> None:
    p = process(
        """
        WORKFLOW
          START s
          USER_TASK review
          DECISION ok "OK?":
            WHEN "approved" -> done
            OTHERWISE -> fix
          TASK fix -> review
          END done
        """
    )
    assert ("fix", "review") in edges(p) and ("fix", "done") not in edges(p)
    assert p.node("ok").default == next(f.id for f in p.flows if f.target == "fix")


# ---------------------------------------------------------------------------------------------
# Sub-processes and explicit flows


def test_sub_processes_hold_their_own_sequence_and_event_sub_processes_stand_apart() -> None:
    p = process(
        """
        WORKFLOW
          START s
          SUBPROCESS handle "Handle":
            START hs
            TASK work
            END he
            ON TIMER "1d" -> late
          EVENT_SUBPROCESS cancel "On cancel":
            START cs MESSAGE cancel_requested
              interrupting: false
            END ce
          END e
          END late
        """
    )
    handle, cancel = p.node("handle"), p.node("cancel")
    assert edges(handle) == [("hs", "work"), ("work", "he")]
    assert isinstance(cancel, m.SubProcess) and cancel.triggered_by_event
    assert cancel.node("cs").is_interrupting is False
    assert edges(p) == [("s", "handle"), (p.nodes[2].id, "late"), ("handle", "e")]
    assert isinstance(p.nodes[2], m.BoundaryEvent) and p.nodes[2].attached_to == "handle"


def test_flow_lines_add_flows_with_ids_names_conditions_and_defaults() -> None:
    p = process(
        """
        WORKFLOW
          flows: explicit
          START s
          EXCLUSIVE_GATEWAY g
          END a
          END b
          FLOW s -> g
          FLOW yes "Yes": g -> a WHEN juel "${ok}"
          FLOW g -> b DEFAULT
            description: "Everything else."
        """
    )
    assert p.flows == (
        m.SequenceFlow(id="Flow_s_g", source="s", target="g"),
        m.SequenceFlow(id="yes", name="Yes", source="g", target="a", condition=m.Expression("${ok}", "juel")),
        m.SequenceFlow(id="Flow_g_b", source="g", target="b", documentation="Everything else."),
    )
    assert p.node("g").default == "Flow_g_b"


def test_without_flows_explicit_flow_lines_add_to_the_sequence() -> None:
    p = process("WORKFLOW\n  START s\n  TASK t\n  END e\n  FLOW t -> t\n")
    assert edges(p) == [("s", "t"), ("t", "e"), ("t", "t")]


# ---------------------------------------------------------------------------------------------
# Properties


def test_service_task_component_and_config_as_a_block_or_inline_json() -> None:
    p = process(
        """
        WORKFLOW
          SERVICE_TASK call "Call API"
            component: http.request
            config:
              url: "https://api.example.com/orders"
              method: POST
              headers:
                "Content-Type": "application/json"
              retry_on: [502, 503]
            result_variable: response
            implementation: "com.example.Delegate"
          SERVICE_TASK again
            config: {"url": "https://x", "timeout": 2.5, "verify": false, "proxy": null}
            component: http.request
        """
    )
    call = p.node("call")
    assert call.component == m.ComponentRef(
        type="http.request",
        config=m.freeze(
            {
                "url": "https://api.example.com/orders",
                "method": "POST",
                "headers": {"Content-Type": "application/json"},
                "retry_on": [502, 503],
            }
        ),
    )
    assert (call.result_variable, call.implementation) == ("response", "com.example.Delegate")
    config = p.node("again").component.config
    assert config == {"url": "https://x", "timeout": 2.5, "verify": False, "proxy": None}


def test_script_text_as_a_string_or_an_indented_block() -> None:
    p = process(
        """
        WORKFLOW
          SCRIPT_TASK one
            script: "total = 1"
          SCRIPT_TASK two
            script: python |
              total = 0
              for item in items:  # a comment inside the script
                  total += item["price"]

            result_variable: total
          SCRIPT_TASK three
            script: |-
              x = 1
        """
    )
    assert p.node("one").script == m.Script("total = 1")
    assert p.node("two").script == m.Script(
        'total = 0\nfor item in items:  # a comment inside the script\n    total += item["price"]\n', "python"
    )
    assert p.node("two").result_variable == "total"
    assert p.node("three").script == m.Script("x = 1")


def test_user_task_properties() -> None:
    task = process(
        """
        WORKFLOW
          USER_TASK review "Review"
            description: |-
              Check the order.
              Then decide.
            assignee: alice
            candidate_users: [bob, carol]
            candidate_groups: [hr, it]
            due: "2026-03-01T09:00:00Z"
            priority: 3
            form:
              key: review-form
              schema: {"type": "object", "properties": {"ok": {"type": "boolean"}}}
        """
    ).node("review")
    assert task.documentation == "Check the order.\nThen decide."
    assert task.assignment == m.Assignment(
        assignee="alice", candidate_users=("bob", "carol"), candidate_groups=("hr", "it")
    )
    assert task.due == "2026-03-01T09:00:00Z" and task.priority == 3
    assert task.form == m.Form(
        key="review-form", schema=m.freeze({"type": "object", "properties": {"ok": {"type": "boolean"}}})
    )


def test_activity_properties_retry_sla_inputs_outputs() -> None:
    p = process(
        """
        WORKFLOW
          TASK a
            retry: 3
            sla: "1d 2h"
            compensation: true
          TASK b
            retry:
              max_attempts: 5
              initial_backoff: "10s"
              multiplier: 1.5
              max_backoff: "PT10M"
              jitter: false
            inputs:
              amount: "order['total']"
              currency: feel "= order.currency"
            outputs:
              approved: "result"
        """
    )
    a, b = p.node("a"), p.node("b")
    assert a.retry == m.RetryPolicy(max_attempts=3) and a.sla == "P1DT2H" and a.is_for_compensation
    assert b.retry == m.RetryPolicy(
        max_attempts=5, initial_backoff="PT10S", multiplier=1.5, max_backoff="PT10M", jitter=False
    )
    assert b.inputs == (
        m.DataMapping("amount", m.Expression("order['total']")),
        m.DataMapping("currency", m.Expression("= order.currency", "feel")),
    )
    assert b.outputs == (m.DataMapping("approved", m.Expression("result")),)


def test_other_task_and_gateway_properties() -> None:
    p = process(
        """
        WORKFLOW
          SEND_TASK send
            message: invoice
          RECEIVE_TASK receive
            message: payment
            correlation_key: "order_id"
            instantiate: true
          BUSINESS_RULE_TASK rule
            decision: discounts
            result_variable: discount
          CALL call
            process: billing
            propagate_all: true
          ADHOC_SUBPROCESS adhoc
            completion_condition: "done"
            ordering: Sequential
          TRANSACTION tx
            triggered_by_event: true
          EVENT_GATEWAY eg
            instantiate: true
            exclusive: false
          COMPLEX_GATEWAY cg
            activation_condition: "count > 1"
            direction: Diverging
        """
    )
    assert p.node("send").message_ref == "invoice"
    assert (p.node("receive").message_ref, p.node("receive").instantiate) == ("payment", True)
    assert p.node("receive").correlation_key == m.Expression("order_id")
    assert (p.node("rule").decision_ref, p.node("rule").result_variable) == ("discounts", "discount")
    assert (p.node("call").called_element, p.node("call").propagate_all) == ("billing", True)
    assert p.node("adhoc").completion_condition == m.Expression("done")
    assert p.node("adhoc").ordering == "Sequential"
    assert p.node("tx").triggered_by_event
    assert (p.node("eg").instantiate, p.node("eg").exclusive) == (True, False)
    assert p.node("cg").activation_condition == m.Expression("count > 1")
    assert p.node("cg").direction == "Diverging"


def test_strings_take_json_escapes_and_ids_take_backticks() -> None:
    p = process('WORKFLOW\n  TASK `my task` "Say \\"hi\\"\\n\\u00e9\\ud83d\\ude00"\n')
    assert p.nodes[0].id == "my task"
    assert p.nodes[0].name == 'Say "hi"\né😀'


def test_windows_line_ends_and_a_byte_order_mark_are_accepted() -> None:
    assert read_dsl("\ufeffWORKFLOW w\r\n  START s\r\n  END e\r\n").main_process.flows[0].target == "e"


def test_a_dsl_file_is_recognised_by_any_of_its_opening_statements() -> None:
    from apg_workflow.formats import detect_format
    from apg_workflow.formats.dsl.keywords import TOP_LEVEL_KEYWORDS

    for keyword in TOP_LEVEL_KEYWORDS:
        assert detect_format(f"# a comment\n{keyword} x\n") == "dsl", keyword
