"""Auto-layout of whole definitions: which processes get a diagram, pools for collaborations, and
what is left untouched."""

from __future__ import annotations

from dataclasses import replace
from itertools import pairwise

from hypothesis import HealthCheck, given, settings

from apg_workflow.formats.layout import layout_definitions, layout_process
from apg_workflow.model import (
    Association,
    Bounds,
    Collaboration,
    Definitions,
    Diagram,
    EndEvent,
    MessageFlow,
    Participant,
    Plane,
    Process,
    Shape,
    StartEvent,
    Task,
    TextAnnotation,
)
from tests.strategies import definitions
from tests.unit.test_layout import assert_well_drawn, chain, inside, on_border, rich_process, shapes


def simple(process_id: str, *tasks: str) -> Process:
    ids = [f"{process_id}_start", *tasks, f"{process_id}_end"]
    nodes = (StartEvent(id=ids[0]), *(Task(id=t) for t in tasks), EndEvent(id=ids[-1]))
    return Process(id=process_id, nodes=nodes, flows=chain(*ids))


def diagram_for(definitions: Definitions, ref: str) -> Diagram:
    return next(d for d in definitions.diagrams if d.plane.element_ref == ref)


def test_each_process_without_geometry_gets_its_own_diagram() -> None:
    model = Definitions(processes=(rich_process(), simple("other", "work")))
    laid_out = layout_definitions(model)
    assert [d.plane.element_ref for d in laid_out.diagrams] == ["rich", "other"]
    assert [d.id for d in laid_out.diagrams] == ["BPMNDiagram_rich", "BPMNDiagram_other"]
    for process in laid_out.processes:
        assert_well_drawn(process, diagram_for(laid_out, process.id))
    assert laid_out.without_diagrams() == model  # nothing but geometry changes


def test_processes_already_drawn_keep_their_diagram() -> None:
    drawn = Diagram(
        id="hand_made",
        plane=Plane(
            id="hand_made_plane",
            element_ref="first",
            shapes=(Shape(id="s", element_ref="first_start", bounds=Bounds(7, 7, 36, 36)),),
        ),
    )
    model = Definitions(processes=(simple("first", "a"), simple("second", "b")), diagrams=(drawn,))
    laid_out = layout_definitions(model)
    assert laid_out.diagrams[0] is drawn
    assert [d.plane.element_ref for d in laid_out.diagrams] == ["first", "second"]


def test_definitions_with_nothing_to_draw_come_back_unchanged() -> None:
    once = layout_definitions(Definitions(processes=(simple("p", "a"),)))
    assert layout_definitions(once) is once
    assert layout_definitions(Definitions()) == Definitions()


def test_new_diagram_ids_never_clash_with_element_ids() -> None:
    process = simple("p", "BPMNDiagram_p", "BPMNPlane_p")
    diagram = layout_definitions(Definitions(processes=(process,))).diagrams[0]
    element_ids = {element.id for _, element in process.walk()}
    assert diagram.id not in element_ids and diagram.plane.id not in element_ids
    assert diagram.id != diagram.plane.id


def test_a_collaboration_is_drawn_as_stacked_horizontal_pools() -> None:
    collaboration = Collaboration(
        id="deal",
        participants=(
            Participant(id="buyer", name="Buyer", process_ref="buy"),
            Participant(id="seller", name="Seller", process_ref="sell"),
            Participant(id="bank", name="Bank"),  # a black box
        ),
        message_flows=(
            MessageFlow(id="order", name="Order", source="buy_1", target="sell_start"),
            MessageFlow(id="pay", source="buy_2", target="bank"),
        ),
        artifacts=(
            TextAnnotation(id="remark", text="Prices in EUR"),
            Association(id="remark_link", source="remark", target="bank"),
        ),
    )
    lonely = simple("audit", "check")
    model = Definitions(
        processes=(simple("buy", "buy_1", "buy_2"), simple("sell", "sell_1"), lonely),
        collaborations=(collaboration,),
    )
    laid_out = layout_definitions(model)
    assert [d.plane.element_ref for d in laid_out.diagrams] == ["deal", "audit"]
    plane = diagram_for(laid_out, "deal")
    drawn = shapes(plane)
    pools = [drawn[p].bounds for p in ("buyer", "seller", "bank")]
    assert all(drawn[p].is_horizontal for p in ("buyer", "seller", "bank"))
    assert len({(b.x, b.width) for b in pools}) == 1  # aligned, equally wide
    for upper, lower in pairwise(pools):
        assert upper.y + upper.height <= lower.y  # stacked top to bottom
    for process, pool in ((laid_out.process("buy"), pools[0]), (laid_out.process("sell"), pools[1])):
        for _, element in process.walk():
            if element.id in drawn:
                assert inside(drawn[element.id].bounds, pool), element.id
    edges = {e.element_ref: e for e in plane.plane.edges}
    for flow in collaboration.message_flows:
        points = edges[flow.id].waypoints
        assert on_border(points[0], drawn[flow.source].bounds)
        assert on_border(points[-1], drawn[flow.target].bounds)
    assert "remark" in drawn and "remark_link" in edges
    assert_well_drawn(lonely, diagram_for(laid_out, "audit"))


def test_a_collaboration_already_drawn_is_left_alone() -> None:
    process = simple("p", "a")
    collaboration = Collaboration(id="c", participants=(Participant(id="pool", process_ref="p"),))
    diagram = layout_process(process)
    drawn = replace(diagram, plane=replace(diagram.plane, element_ref="c"))
    model = Definitions(processes=(process,), collaborations=(collaboration,), diagrams=(drawn,))
    assert layout_definitions(model) is model


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(model=definitions())
def test_random_definitions_get_a_complete_readable_diagram(model: Definitions) -> None:
    laid_out = layout_definitions(model)
    assert laid_out.without_diagrams() == model
    assert len(laid_out.diagrams) == len(model.processes)
    for process in model.processes:
        assert_well_drawn(process, diagram_for(laid_out, process.id))
