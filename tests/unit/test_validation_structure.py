"""Structure rules: ids, start events, flow ends, reachability and dead ends."""

from __future__ import annotations

from apg_workflow import model as m
from apg_workflow.model import Severity
from tests.unit.test_validation import chain, codes, flow, one, problems_of, process, sub_process


def test_a_file_without_a_process_is_an_error() -> None:
    found = problems_of(m.Definitions())
    assert [(p.code, p.severity) for p in found] == [("no-process", Severity.ERROR)]


def test_duplicate_ids_are_found_across_the_whole_file() -> None:
    inner = sub_process("sub", m.StartEvent(id="dup"), m.EndEvent(id="e2"), flows=chain("dup", "e2"))
    definitions = m.Definitions(
        processes=(
            process(m.StartEvent(id="s"), inner, m.EndEvent(id="dup"), flows=chain("s", "sub", "dup")),
        ),
        messages=(m.Message(id="s"),),
    )
    found = problems_of(definitions)
    assert "'dup' is used 2 times" in one(found, "duplicate-id", "dup", Severity.ERROR).message
    one(found, "duplicate-id", "s", Severity.ERROR)


def test_an_empty_executable_process_is_a_warning_and_a_documentation_pool_is_fine() -> None:
    one(problems_of(process()), "empty-process", "P", Severity.WARNING)
    assert problems_of(process(is_executable=False)) == ()


def test_an_empty_sub_process_is_a_warning() -> None:
    found = problems_of(
        process(m.StartEvent(id="s"), sub_process("sub"), m.EndEvent(id="e"), flows=chain("s", "sub", "e"))
    )
    one(found, "empty-sub-process", "sub", Severity.WARNING)


def test_a_process_or_sub_process_with_nodes_needs_a_start_event() -> None:
    one(
        problems_of(process(m.Task(id="t"), m.EndEvent(id="e"), flows=chain("t", "e"))),
        "missing-start-event",
        "P",
        Severity.ERROR,
    )
    inner = sub_process("sub", m.Task(id="t"))
    found = problems_of(
        process(m.StartEvent(id="s"), inner, m.EndEvent(id="e"), flows=chain("s", "sub", "e"))
    )
    problem = one(found, "missing-start-event", "sub", Severity.ERROR)
    assert problem.process_id == "P"
    assert "unreachable-element" not in codes(found)  # no start: reachability is not judged


def test_an_event_sub_process_needs_exactly_one_start_event() -> None:
    handler = sub_process(
        "handler",
        m.StartEvent(id="h1", definitions=(m.SignalDefinition(signal_ref="Sig"),)),
        m.StartEvent(id="h2", definitions=(m.SignalDefinition(signal_ref="Sig"),)),
        m.EndEvent(id="he"),
        flows=(flow("h1", "he"), flow("h2", "he")),
        triggered_by_event=True,
    )
    definitions = m.Definitions(
        processes=(process(m.StartEvent(id="s"), m.EndEvent(id="e"), handler, flows=chain("s", "e")),),
        signals=(m.Signal(id="Sig"),),
    )
    assert (
        "has 2 start events"
        in one(problems_of(definitions), "event-sub-process-start", "handler", Severity.ERROR).message
    )


def test_an_event_sub_process_is_not_connected_by_flows() -> None:
    handler = sub_process(
        "handler",
        m.StartEvent(
            id="h",
            definitions=(m.TimerDefinition(timer=m.TimerKind.DURATION, expression=m.Expression("PT1H")),),
        ),
        m.EndEvent(id="he"),
        flows=chain("h", "he"),
        triggered_by_event=True,
    )
    found = problems_of(
        process(m.StartEvent(id="s"), handler, m.EndEvent(id="e"), flows=chain("s", "handler", "e"))
    )
    one(found, "event-sub-process-connected", "handler", Severity.ERROR)


def test_flows_from_and_to_unknown_ids() -> None:
    found = problems_of(
        process(
            m.StartEvent(id="s"),
            m.EndEvent(id="e"),
            flows=(flow("s", "e"), flow("ghost", "e", id="f_in"), flow("s", "nowhere", id="f_out")),
        )
    )
    assert (
        "'ghost', which does not exist" in one(found, "unknown-flow-source", "f_in", Severity.ERROR).message
    )
    one(found, "unknown-flow-target", "f_out", Severity.ERROR)


def test_a_flow_may_not_cross_a_sub_process_border() -> None:
    inner = sub_process("sub", m.StartEvent(id="is"), m.Task(id="inside"), flows=chain("is", "inside"))
    found = problems_of(
        process(
            m.StartEvent(id="s"),
            inner,
            m.EndEvent(id="e"),
            flows=(*chain("s", "sub", "e"), flow("inside", "e", id="escape")),
        )
    )
    problem = one(found, "flow-crosses-border", "escape", Severity.ERROR)
    assert "task 'inside' in sub-process 'sub'" in problem.message


def test_a_flow_may_not_connect_a_data_object() -> None:
    definitions = process(
        m.StartEvent(id="s"),
        m.EndEvent(id="e"),
        flows=(flow("s", "e"), flow("s", "doc", id="f_doc")),
        data=(m.DataObject(id="doc"),),
    )
    one(problems_of(definitions), "flow-connects-non-node", "f_doc", Severity.ERROR)


def test_unreachable_elements_are_errors_and_entry_points_are_not_unreachable() -> None:
    handler = m.Task(id="undo", is_for_compensation=True)
    event_sub = sub_process(
        "on_msg",
        m.StartEvent(id="ms", definitions=(m.MessageDefinition(message_ref="M"),)),
        m.EndEvent(id="me"),
        flows=chain("ms", "me"),
        triggered_by_event=True,
    )
    found = problems_of(
        process(
            m.StartEvent(id="s"),
            m.Task(id="work"),
            m.BoundaryEvent(
                id="b",
                attached_to="work",
                definitions=(m.TimerDefinition(timer=m.TimerKind.DURATION, expression=m.Expression("PT1M")),),
            ),
            m.EndEvent(id="e"),
            m.EndEvent(id="late"),
            m.Task(id="island"),
            m.EndEvent(id="island_end"),
            handler,
            event_sub,
            flows=(*chain("s", "work", "e"), flow("b", "late"), flow("island", "island_end")),
        ),
        messages=(m.Message(id="M"),),
    )
    one(found, "unreachable-element", "island", Severity.ERROR)
    one(found, "unreachable-element", "island_end", Severity.ERROR)
    reached = {"s", "work", "b", "e", "late", "undo", "on_msg"}
    assert not [p for p in found if p.code == "unreachable-element" and p.element_id in reached]


def test_link_catch_events_are_reached_through_their_throw() -> None:
    found = problems_of(
        process(
            m.StartEvent(id="s"),
            m.IntermediateThrowEvent(id="jump", definitions=(m.LinkDefinition(link_name="L"),)),
            m.IntermediateCatchEvent(id="land", definitions=(m.LinkDefinition(link_name="L"),)),
            m.EndEvent(id="e"),
            flows=(*chain("s", "jump"), flow("land", "e")),
        )
    )
    assert found == ()


def test_dead_ends_are_warnings_but_not_for_unreachable_nodes() -> None:
    found = problems_of(
        process(
            m.StartEvent(id="s"),
            m.ParallelGateway(id="fork"),
            m.Task(id="a"),
            m.EndEvent(id="e"),
            m.ParallelGateway(id="sink"),
            m.Task(id="lost"),
            flows=(*chain("s", "fork", "a"), flow("fork", "e"), flow("fork", "sink")),
        )
    )
    assert "implicit end" in one(found, "dead-end", "a", Severity.WARNING).message
    assert "the token stops" in one(found, "dead-end", "sink", Severity.WARNING).message
    assert [p.code for p in found if p.element_id == "lost"] == ["unreachable-element"]


def test_nodes_of_an_ad_hoc_sub_process_need_no_start_or_flows() -> None:
    ad_hoc = m.AdHocSubProcess(id="adhoc", nodes=(m.Task(id="x"), m.Task(id="y")))
    found = problems_of(
        process(m.StartEvent(id="s"), ad_hoc, m.EndEvent(id="e"), flows=chain("s", "adhoc", "e"))
    )
    assert codes(found) == {"not-executed"}
