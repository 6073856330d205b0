"""Auto-layout of one process: every element drawn once, nothing overlapping, flows left to right,
orthogonal edges that start and end on their shapes' borders."""

from __future__ import annotations

import time
from collections.abc import Iterable
from itertools import pairwise

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apg_workflow.formats.layout import layout_process
from apg_workflow.model import (
    Association,
    BoundaryEvent,
    Bounds,
    CallActivity,
    DataObject,
    DataObjectReference,
    DataStoreReference,
    Diagram,
    Edge,
    EndEvent,
    ErrorDefinition,
    EventBasedGateway,
    ExclusiveGateway,
    FlowContainer,
    FlowNode,
    Group,
    IntermediateCatchEvent,
    MessageDefinition,
    ParallelGateway,
    Point,
    Process,
    SequenceFlow,
    Shape,
    StartEvent,
    SubProcess,
    Task,
    TextAnnotation,
    TimerDefinition,
    TimerKind,
    UserTask,
)
from apg_workflow.model.base import Element, Expression

# Building processes ----------------------------------------------------------------------------


def flow(source: str, target: str, name: str | None = None) -> SequenceFlow:
    return SequenceFlow(id=f"{source}_to_{target}", source=source, target=target, name=name)


def chain(*ids: str) -> tuple[SequenceFlow, ...]:
    return tuple(flow(a, b) for a, b in pairwise(ids))


def timer(node_id: str, host: str, name: str | None = None) -> BoundaryEvent:
    definition = TimerDefinition(timer=TimerKind.DURATION, expression=Expression("PT1H"))
    return BoundaryEvent(id=node_id, name=name, attached_to=host, definitions=(definition,))


def rich_process() -> Process:
    """One of everything: gateways, boundary events, nested and event sub-processes, artifacts."""
    inner = SubProcess(
        id="inner",
        name="Inner",
        nodes=(StartEvent(id="i_start"), Task(id="i_task"), EndEvent(id="i_end")),
        flows=chain("i_start", "i_task", "i_end"),
    )
    review = SubProcess(
        id="review",
        name="Review",
        nodes=(
            StartEvent(id="r_start"),
            ParallelGateway(id="r_split"),
            UserTask(id="r_legal", name="Legal review"),
            inner,
            ParallelGateway(id="r_join"),
            EndEvent(id="r_end"),
        ),
        flows=(
            *chain("r_start", "r_split", "r_legal", "r_join", "r_end"),
            flow("r_split", "inner"),
            flow("inner", "r_join"),
        ),
    )
    on_message = SubProcess(
        id="on_message",
        triggered_by_event=True,
        nodes=(
            StartEvent(id="m_start", is_interrupting=False, definitions=(MessageDefinition(),)),
            Task(id="m_task"),
            EndEvent(id="m_end"),
        ),
        flows=chain("m_start", "m_task", "m_end"),
    )
    return Process(
        id="rich",
        nodes=(
            StartEvent(id="start", name="Order received"),
            UserTask(id="check", name="Check order"),
            timer("late", "check", "Too late"),
            BoundaryEvent(id="failed", attached_to="check", definitions=(ErrorDefinition(),)),
            ExclusiveGateway(id="ok", name="Order valid?", default="ok_to_reject"),
            review,
            CallActivity(id="ship", name="Ship", called_element="shipping"),
            Task(id="reject", name="Reject"),
            Task(id="remind", name="Remind"),
            EndEvent(id="done", name="Done"),
            EndEvent(id="broken"),
            on_message,
        ),
        flows=(
            *chain("start", "check", "ok"),
            flow("ok", "review", "yes"),
            flow("ok", "reject", "no"),
            *chain("review", "ship", "done"),
            flow("reject", "done"),
            flow("late", "remind"),
            flow("remind", "check", "try again"),
            flow("failed", "broken"),
        ),
        data=(DataObject(id="order_data"), DataObjectReference(id="order", name="Order")),
        artifacts=(
            TextAnnotation(id="note", text="Checked by the sales team"),
            Association(id="note_link", source="note", target="check"),
            DataStoreReference(id="crm", name="CRM"),
            Group(id="group"),
        ),
    )


# Reading diagrams --------------------------------------------------------------------------------


def shapes(diagram: Diagram) -> dict[str, Shape]:
    found: dict[str, Shape] = {}
    for shape in diagram.plane.shapes:
        assert shape.element_ref not in found, f"{shape.element_ref} has two shapes"
        found[shape.element_ref] = shape
    return found


def edges(diagram: Diagram) -> dict[str, Edge]:
    found: dict[str, Edge] = {}
    for edge in diagram.plane.edges:
        assert edge.element_ref is not None and edge.element_ref not in found, edge.element_ref
        found[edge.element_ref] = edge
    return found


def bounds(diagram: Diagram, element_id: str) -> Bounds:
    return shapes(diagram)[element_id].bounds


def on_border(point: Point, box: Bounds) -> bool:
    inside_x = box.x <= point.x <= box.x + box.width
    inside_y = box.y <= point.y <= box.y + box.height
    return (inside_x and point.y in (box.y, box.y + box.height)) or (
        inside_y and point.x in (box.x, box.x + box.width)
    )


def inside(inner: Bounds, outer: Bounds) -> bool:
    return (
        outer.x <= inner.x
        and outer.y <= inner.y
        and inner.x + inner.width <= outer.x + outer.width
        and inner.y + inner.height <= outer.y + outer.height
    )


def ancestors(container: FlowContainer, parents: tuple[str, ...] = ()) -> dict[str, tuple[str, ...]]:
    """For every element, the ids of the sub-processes it lies in."""
    found: dict[str, tuple[str, ...]] = {}
    for element in (*container.nodes, *container.data, *container.artifacts):
        found[element.id] = parents
        if isinstance(element, SubProcess):
            found |= ancestors(element, (*parents, element.id))
    return found


def overlapping(process: Process, diagram: Diagram) -> list[tuple[str, str]]:
    """Pairs of shapes whose insides intersect, except a boundary event on its host and an element
    inside its sub-process (sweep over x, so that big diagrams check fast)."""
    parents = ancestors(process)
    host = {n.id: n.attached_to for _, n in process.walk() if isinstance(n, BoundaryEvent)}
    ordered = sorted(diagram.plane.shapes, key=lambda s: s.bounds.x)
    clashes = []
    for index, a in enumerate(ordered):
        for b in ordered[index + 1 :]:
            if b.bounds.x >= a.bounds.x + a.bounds.width:
                break
            ab, bb = a.bounds, b.bounds
            if not (bb.y < ab.y + ab.height and ab.y < bb.y + bb.height):
                continue
            ida, idb = a.element_ref, b.element_ref
            if host.get(ida) == idb or host.get(idb) == ida:
                continue
            if ida in parents.get(idb, ()) or idb in parents.get(ida, ()):
                continue
            clashes.append((ida, idb))
    return clashes


def drawable(process: Process) -> Iterable[Element]:
    return (e for _, e in process.walk() if not isinstance(e, (SequenceFlow, Association, DataObject)))


def assert_well_drawn(process: Process, diagram: Diagram) -> None:
    """Complete, unique, non-overlapping; edges orthogonal and touching both ends' borders."""
    drawn, routed = shapes(diagram), edges(diagram)
    expected_shapes = {e.id for e in drawable(process)}
    assert set(drawn) == expected_shapes
    expected_edges = {e.id for _, e in process.walk() if isinstance(e, (SequenceFlow, Association))}
    assert set(routed) == expected_edges
    assert all(s.id == f"{s.element_ref}_di" for s in diagram.plane.shapes)
    assert all(e.id == f"{e.element_ref}_di" for e in diagram.plane.edges)
    assert overlapping(process, diagram) == []
    parents = ancestors(process)
    for element_id, chain_of_parents in parents.items():
        if chain_of_parents and element_id in drawn:
            assert inside(drawn[element_id].bounds, drawn[chain_of_parents[-1]].bounds), element_id
    for _, element in process.walk():
        if not isinstance(element, SequenceFlow):
            continue
        points = routed[element.id].waypoints
        assert len(points) >= 2
        assert on_border(points[0], drawn[element.source].bounds), element.id
        assert on_border(points[-1], drawn[element.target].bounds), element.id
        for p, q in pairwise(points):
            assert p.x == q.x or p.y == q.y, f"{element.id} is not orthogonal"


def centre(box: Bounds) -> tuple[float, float]:
    return (box.x + box.width / 2, box.y + box.height / 2)


# The tests ------------------------------------------------------------------------------------


def test_every_element_gets_one_shape_and_every_flow_one_edge() -> None:
    process = rich_process()
    diagram = layout_process(process)
    assert diagram.plane.element_ref == "rich"
    assert_well_drawn(process, diagram)
    assert "order_data" not in shapes(diagram)  # data objects are drawn through their references


def test_shapes_have_the_bpmn_io_sizes() -> None:
    diagram = layout_process(rich_process())
    sizes = {ref: (s.bounds.width, s.bounds.height) for ref, s in shapes(diagram).items()}
    assert sizes["remind"] == sizes["reject"] == sizes["ship"] == (100, 80)
    assert sizes["check"][0] > 100  # widened: its two boundary events and their labels fit under it
    assert sizes["start"] == sizes["late"] == sizes["done"] == (36, 36)
    assert sizes["ok"] == sizes["r_split"] == (50, 50)


def test_a_chain_runs_left_to_right_on_one_axis() -> None:
    ids = ["s", "a", "g", "b", "c", "e"]
    nodes: list[FlowNode] = [StartEvent(id="s"), Task(id="a"), ExclusiveGateway(id="g")]
    nodes += [Task(id="b"), IntermediateCatchEvent(id="c"), EndEvent(id="e")]
    diagram = layout_process(Process(id="p", nodes=tuple(nodes), flows=chain(*ids)))
    xs = [bounds(diagram, i).x for i in ids]
    assert xs == sorted(xs) and len(set(xs)) == len(xs)
    assert len({centre(bounds(diagram, i))[1] for i in ids}) == 1
    for edge in diagram.plane.edges:  # straight lines
        assert len(edge.waypoints) == 2


def test_parallel_branches_occupy_different_rows() -> None:
    branches = ["a", "b", "c"]
    process = Process(
        id="p",
        nodes=(
            StartEvent(id="s"),
            ParallelGateway(id="split"),
            *(Task(id=b) for b in branches),
            ParallelGateway(id="join"),
            EndEvent(id="e"),
        ),
        flows=(
            *chain("s", "split"),
            *(flow("split", b) for b in branches),
            *(flow(b, "join") for b in branches),
            *chain("join", "e"),
        ),
    )
    diagram = layout_process(process)
    assert_well_drawn(process, diagram)
    rows = [centre(bounds(diagram, b))[1] for b in branches]
    assert len(set(rows)) == 3
    assert len({bounds(diagram, b).x for b in branches}) == 1
    assert bounds(diagram, "split").x < bounds(diagram, "a").x < bounds(diagram, "join").x


def test_edges_start_and_end_on_the_borders_of_their_shapes() -> None:
    process = rich_process()
    diagram = layout_process(process)
    drawn, routed = shapes(diagram), edges(diagram)
    note = routed["note_link"].waypoints
    assert on_border(note[0], drawn["note"].bounds) and on_border(note[-1], drawn["check"].bounds)
    boundary_flow = routed["late_to_remind"].waypoints
    late = drawn["late"].bounds
    assert boundary_flow[0] == Point(late.x + late.width / 2, late.y + late.height)  # leaves downwards


@pytest.mark.parametrize("loop", [("b", "a"), ("c", "a"), ("b", "b")], ids=["back", "long", "self"])
def test_loops_lay_out_with_the_back_edge_around_the_rows(loop: tuple[str, str]) -> None:
    process = Process(
        id="p",
        nodes=(StartEvent(id="s"), Task(id="a"), Task(id="b"), Task(id="c"), EndEvent(id="e")),
        flows=(*chain("s", "a", "b", "c", "e"), flow(*loop, name="again")),
    )
    diagram = layout_process(process)
    assert_well_drawn(process, diagram)
    xs = [bounds(diagram, i).x for i in ("s", "a", "b", "c", "e")]
    assert xs == sorted(xs)
    back = edges(diagram)[f"{loop[0]}_to_{loop[1]}"]
    top = min(s.bounds.y for s in diagram.plane.shapes)
    assert min(p.y for p in back.waypoints) < top  # around, not through, the row
    assert back.label is not None and back.label.bounds is not None


def test_a_loop_from_a_boundary_event_runs_under_the_rows() -> None:
    process = Process(
        id="p",
        nodes=(StartEvent(id="s"), Task(id="a"), timer("retry", "a"), EndEvent(id="e")),
        flows=(*chain("s", "a", "e"), flow("retry", "a")),
    )
    diagram = layout_process(process)
    assert_well_drawn(process, diagram)
    bottom = max(s.bounds.y + s.bounds.height for s in diagram.plane.shapes)
    assert max(p.y for p in edges(diagram)["retry_to_a"].waypoints) > bottom


def test_boundary_events_sit_on_the_bottom_edge_of_their_host_and_their_paths_below() -> None:
    process = rich_process()
    diagram = layout_process(process)
    host = bounds(diagram, "check")
    events = [bounds(diagram, i) for i in ("late", "failed")]
    for event in events:
        x, y = centre(event)
        assert y == host.y + host.height
        assert host.x < x < host.x + host.width
    assert events[0].x + events[0].width <= events[1].x  # spaced, not stacked
    for target in ("remind", "broken"):
        assert bounds(diagram, target).y > host.y + host.height
    assert centre(bounds(diagram, "remind"))[1] != centre(bounds(diagram, "broken"))[1]


def test_nested_sub_processes_contain_their_content_and_are_sized_to_it() -> None:
    process = rich_process()
    diagram = layout_process(process)
    drawn = shapes(diagram)
    assert drawn["review"].is_expanded and drawn["inner"].is_expanded
    for element in ("r_start", "r_legal", "inner", "i_task", "r_end"):
        assert inside(drawn[element].bounds, drawn["review"].bounds), element
    assert inside(drawn["i_task"].bounds, drawn["inner"].bounds)
    review = drawn["review"].bounds
    content_right = max(drawn[e].bounds.x + drawn[e].bounds.width for e in ("r_end", "inner"))
    assert review.x + review.width - content_right < 100  # sized to the content, not arbitrary


def test_event_sub_processes_go_under_the_main_flow() -> None:
    process = rich_process()
    diagram = layout_process(process)
    drawn = shapes(diagram)
    main = [drawn[i].bounds for i in ("start", "check", "review", "done", "remind", "broken")]
    event_sub = drawn["on_message"].bounds
    assert event_sub.y > max(b.y + b.height for b in main)
    assert drawn["on_message"].is_expanded
    assert inside(drawn["m_task"].bounds, event_sub)


def test_labels_of_named_events_gateways_and_flows() -> None:
    diagram = layout_process(rich_process())
    drawn, routed = shapes(diagram), edges(diagram)
    for element in ("start", "ok", "done"):
        label = drawn[element].label
        assert label is not None and label.bounds is not None
        assert label.bounds.y >= drawn[element].bounds.y + drawn[element].bounds.height  # under it
    assert drawn["broken"].label is None
    assert drawn["check"].label is None  # a task's name is drawn inside it
    assert routed["ok_to_review"].label is not None
    assert routed["check_to_ok"].label is None


def test_artifacts_get_shapes_and_annotations_sit_above_their_element() -> None:
    diagram = layout_process(rich_process())
    drawn = shapes(diagram)
    note, task = drawn["note"].bounds, drawn["check"].bounds
    assert note.y + note.height <= task.y
    assert note.x < task.x + task.width and task.x < note.x + note.width
    assert {"order", "crm", "group"} <= drawn.keys()


def test_the_same_process_always_gets_the_same_diagram() -> None:
    assert layout_process(rich_process()) == layout_process(rich_process())


def test_an_empty_process_gets_an_empty_plane() -> None:
    diagram = layout_process(Process(id="empty"))
    assert diagram.plane.element_ref == "empty"
    assert diagram.plane.shapes == () and diagram.plane.edges == ()


def test_flows_with_unknown_ends_get_no_edge() -> None:
    process = Process(
        id="p",
        nodes=(StartEvent(id="s"), EndEvent(id="e")),
        flows=(flow("s", "e"), flow("s", "missing")),
    )
    assert set(edges(layout_process(process))) == {"s_to_e"}


# Random graphs ---------------------------------------------------------------------------------

KINDS = (
    Task,
    UserTask,
    ExclusiveGateway,
    ParallelGateway,
    EventBasedGateway,
    IntermediateCatchEvent,
    EndEvent,
    CallActivity,
    SubProcess,
)
NAMES = st.one_of(st.none(), st.text("abcdefghij klmnopqrst", min_size=1, max_size=40))


@st.composite
def contents(
    draw: st.DrawFn, prefix: str, depth: int
) -> tuple[tuple[FlowNode, ...], tuple[SequenceFlow, ...]]:
    """Random nodes and flows (cycles, self-loops, forks, joins), boundary events with flows, and
    sub-processes nested up to two deep."""
    nodes: list[FlowNode] = [StartEvent(id=f"{prefix}n0", name=draw(NAMES))]
    for index in range(1, draw(st.integers(1, 12))):
        kind = draw(st.sampled_from(KINDS))
        node_id = f"{prefix}n{index}"
        if kind is SubProcess and depth < 2:
            inner_nodes, inner_flows = draw(contents(f"{node_id}_", depth + 1))
            nodes.append(SubProcess(id=node_id, name=draw(NAMES), nodes=inner_nodes, flows=inner_flows))
        else:
            nodes.append((Task if kind is SubProcess else kind)(id=node_id, name=draw(NAMES)))
    ids = [n.id for n in nodes]
    pairs = draw(st.lists(st.tuples(st.sampled_from(ids), st.sampled_from(ids)), max_size=2 * len(ids)))
    flows = [
        SequenceFlow(id=f"{prefix}f{i}", source=a, target=b, name=draw(NAMES))
        for i, (a, b) in enumerate(pairs)
    ]
    hosts = [n.id for n in nodes if isinstance(n, (Task, UserTask, CallActivity, SubProcess))]
    for index, host in enumerate(draw(st.lists(st.sampled_from(hosts), max_size=4)) if hosts else ()):
        event_id = f"{prefix}b{index}"
        nodes.append(BoundaryEvent(id=event_id, attached_to=host, name=draw(NAMES)))
        target = draw(st.sampled_from(ids))
        flows.append(SequenceFlow(id=f"{prefix}bf{index}", source=event_id, target=target))
    return tuple(nodes), tuple(flows)


@st.composite
def graphs(draw: st.DrawFn) -> Process:
    """A random process, perhaps with an event sub-process and annotations on random nodes."""
    nodes, flows = draw(contents("", 0))
    if draw(st.booleans()):
        nodes += (SubProcess(id="events", triggered_by_event=True, nodes=(StartEvent(id="ev_s"),)),)
    artifacts: list[Element] = []
    for index, anchor in enumerate(draw(st.lists(st.sampled_from([n.id for n in nodes]), max_size=3))):
        artifacts.append(TextAnnotation(id=f"note{index}", text=draw(NAMES)))
        artifacts.append(Association(id=f"link{index}", source=f"note{index}", target=anchor))
    return Process(id="p", nodes=nodes, flows=flows, artifacts=tuple(artifacts))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(graphs())
def test_random_graphs_are_well_drawn(process: Process) -> None:
    assert_well_drawn(process, layout_process(process))


# Scale -----------------------------------------------------------------------------------------


def big_process(size: int) -> Process:
    """Tasks in a line with, every few steps, a three-way parallel block or a task whose timer
    boundary event loops back through a reminder."""
    nodes: list[FlowNode] = [StartEvent(id="start")]
    flows: list[SequenceFlow] = []
    last = "start"
    step = 0
    while len(nodes) < size:
        step += 1
        if step % 5 == 0:
            branches = [f"a{step}", f"b{step}", f"c{step}"]
            nodes += [ParallelGateway(id=f"g{step}"), *(Task(id=b) for b in branches)]
            nodes.append(ParallelGateway(id=f"j{step}"))
            flows += [flow(last, f"g{step}"), *(flow(f"g{step}", b) for b in branches)]
            flows += [flow(b, f"j{step}") for b in branches]
            last = f"j{step}"
        elif step % 7 == 0:
            nodes += [Task(id=f"t{step}"), timer(f"late{step}", f"t{step}"), Task(id=f"r{step}")]
            flows += [flow(last, f"t{step}"), flow(f"late{step}", f"r{step}"), flow(f"r{step}", f"t{step}")]
            last = f"t{step}"
        else:
            nodes.append(Task(id=f"t{step}", name=f"Task {step}"))
            flows.append(flow(last, f"t{step}"))
            last = f"t{step}"
    nodes.append(EndEvent(id="end"))
    flows.append(flow(last, "end"))
    return Process(id="big", nodes=tuple(nodes), flows=tuple(flows))


def test_a_process_of_5000_elements_lays_out_in_reasonable_time() -> None:
    process = big_process(5000)
    began = time.perf_counter()
    diagram = layout_process(process)
    assert time.perf_counter() - began < 3
    assert len(diagram.plane.shapes) == len(process.nodes)
    assert len(diagram.plane.edges) == len(process.flows)
    assert overlapping(process, diagram) == []
