"""Gateway rules: conditions and default flows, fan-in and fan-out, event-based gateways, and
splits whose branches meet at a gateway of the wrong kind."""

from __future__ import annotations

from apg_workflow import model as m
from apg_workflow.model import Severity
from tests.unit.test_validation import chain, codes, flow, one, problems_of, process


def _split(gateway: m.FlowNode, *flows: m.SequenceFlow) -> m.Process:
    """start → gateway → a / b → end, with the gateway's outgoing flows given."""
    return process(
        m.StartEvent(id="s"),
        gateway,
        m.Task(id="a"),
        m.Task(id="b"),
        m.EndEvent(id="e"),
        flows=(flow("s", "g"), *flows, flow("a", "e"), flow("b", "e")),
    )


def test_a_choice_without_conditions_or_default_is_an_error() -> None:
    found = problems_of(
        _split(m.ExclusiveGateway(id="g", name="Big?"), flow("g", "a", "amount > 10"), flow("g", "b"))
    )
    problem = one(found, "gateway-no-condition", "g", Severity.ERROR)
    assert "'g_b' has no condition and none is the default flow" in problem.message
    found = problems_of(_split(m.InclusiveGateway(id="g"), flow("g", "a"), flow("g", "b")))
    one(found, "gateway-no-condition", "g", Severity.ERROR)


def test_a_choice_with_conditions_and_a_default_is_fine() -> None:
    gateway = m.ExclusiveGateway(id="g", default="g_b")
    assert problems_of(_split(gateway, flow("g", "a", "amount > 10"), flow("g", "b"))) == ()


def test_a_default_flow_must_leave_its_element() -> None:
    gateway = m.ExclusiveGateway(id="g", default="s_g")
    found = problems_of(_split(gateway, flow("g", "a", "x"), flow("g", "b", "not x")))
    assert "'s_g'" in one(found, "invalid-default-flow", "g", Severity.ERROR).message
    activity = process(
        m.StartEvent(id="s"), m.Task(id="t", default="nope"), m.EndEvent(id="e"), flows=chain("s", "t", "e")
    )
    one(problems_of(activity), "invalid-default-flow", "t", Severity.ERROR)


def test_a_condition_on_the_default_flow_is_ignored() -> None:
    gateway = m.ExclusiveGateway(id="g", default="g_b")
    found = problems_of(_split(gateway, flow("g", "a", "x"), flow("g", "b", "not x")))
    one(found, "default-flow-condition", "g_b", Severity.WARNING)


def test_conditions_after_a_parallel_gateway_or_an_event_are_ignored() -> None:
    found = problems_of(_split(m.ParallelGateway(id="g"), flow("g", "a", "x"), flow("g", "b")))
    assert "takes all its outgoing flows" in one(found, "condition-ignored", "g_a", Severity.WARNING).message
    found = problems_of(process(m.StartEvent(id="s"), m.EndEvent(id="e"), flows=(flow("s", "e", "x"),)))
    one(found, "condition-ignored", "s_e", Severity.WARNING)


def test_conditional_flows_out_of_an_activity() -> None:
    only_conditional = process(
        m.StartEvent(id="s"), m.Task(id="t"), m.EndEvent(id="e"), flows=(flow("s", "t"), flow("t", "e", "ok"))
    )
    one(problems_of(only_conditional), "conditional-flow-from-activity", "t", Severity.WARNING)
    with_default = process(
        m.StartEvent(id="s"),
        m.Task(id="t", default="t_f"),
        m.EndEvent(id="e"),
        m.EndEvent(id="f"),
        flows=(flow("s", "t"), flow("t", "e", "ok"), flow("t", "f")),
    )
    one(problems_of(with_default), "conditional-flow-from-activity", "t", Severity.INFO)


def test_a_gateway_with_one_way_in_and_out_does_nothing() -> None:
    found = problems_of(
        process(
            m.StartEvent(id="s"), m.ParallelGateway(id="g"), m.EndEvent(id="e"), flows=chain("s", "g", "e")
        )
    )
    one(found, "gateway-pass-through", "g", Severity.WARNING)


def test_a_gateway_that_joins_and_splits_is_a_warning() -> None:
    found = problems_of(
        process(
            m.StartEvent(id="s"),
            m.ParallelGateway(id="fork"),
            m.Task(id="a"),
            m.Task(id="b"),
            m.ParallelGateway(id="g"),
            m.EndEvent(id="e1"),
            m.EndEvent(id="e2"),
            flows=(*chain("s", "fork", "a", "g", "e1"), *chain("fork", "b", "g", "e2")),
        )
    )
    one(found, "gateway-mixed", "g", Severity.WARNING)


def test_an_event_based_gateway_waits_for_at_least_two_catch_events() -> None:
    timer = m.TimerDefinition(timer=m.TimerKind.DURATION, expression=m.Expression("PT1H"))
    found = problems_of(
        process(
            m.StartEvent(id="s"),
            m.EventBasedGateway(id="g"),
            m.IntermediateCatchEvent(id="wait", definitions=(timer,)),
            m.EndEvent(id="e"),
            flows=chain("s", "g", "wait", "e"),
        )
    )
    one(found, "event-gateway-fan-out", "g", Severity.ERROR)
    found = problems_of(
        process(
            m.StartEvent(id="s"),
            m.EventBasedGateway(id="g"),
            m.IntermediateCatchEvent(id="wait", definitions=(timer,)),
            m.UserTask(id="task"),
            m.EndEvent(id="e"),
            flows=(*chain("s", "g", "wait", "e"), *chain("g", "task", "e")),
        )
    )
    assert "user task 'task'" in one(found, "event-gateway-target", "g", Severity.ERROR).message
    assert "event-gateway-fan-out" not in codes(found)


def test_a_parallel_join_after_an_exclusive_split_waits_forever() -> None:
    found = problems_of(
        process(
            m.StartEvent(id="s"),
            m.ExclusiveGateway(id="choose", default="choose_b"),
            m.Task(id="a"),
            m.Task(id="b"),
            m.Task(id="b2"),
            m.ParallelGateway(id="join"),
            m.EndEvent(id="e"),
            flows=(
                flow("s", "choose"),
                flow("choose", "a", "x"),
                flow("choose", "b"),
                *chain("a", "join"),
                *chain("b", "b2", "join"),
                flow("join", "e"),
            ),
        )
    )
    problem = one(found, "parallel-join-after-choice", "join", Severity.WARNING)
    assert "exclusive gateway 'choose'" in problem.message and "waits forever" in problem.message


def test_an_exclusive_join_after_a_parallel_split_runs_the_rest_twice() -> None:
    found = problems_of(
        process(
            m.StartEvent(id="s"),
            m.ParallelGateway(id="fork"),
            m.Task(id="a"),
            m.Task(id="b"),
            m.ExclusiveGateway(id="merge"),
            m.EndEvent(id="e"),
            flows=(*chain("s", "fork", "a", "merge", "e"), *chain("fork", "b", "merge")),
        )
    )
    one(found, "exclusive-join-after-parallel", "merge", Severity.WARNING)


def test_matching_splits_and_joins_and_loops_back_are_fine() -> None:
    found = problems_of(
        process(
            m.StartEvent(id="s"),
            m.ExclusiveGateway(id="retry"),
            m.Task(id="work"),
            m.ExclusiveGateway(id="ok", default="ok_e"),
            m.EndEvent(id="e"),
            flows=(*chain("s", "retry", "work", "ok"), flow("ok", "retry", "failed"), flow("ok", "e")),
        )
    )
    assert found == ()
