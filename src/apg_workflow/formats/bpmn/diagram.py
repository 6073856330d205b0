"""Diagram interchange (BPMN DI): diagrams, planes, shapes with bounds, edges with waypoints, labels."""

from __future__ import annotations

from lxml import etree

from apg_workflow.formats.bpmn.namespaces import BPMNDI, DC, DI, XSI_TYPE
from apg_workflow.formats.bpmn.reading import (
    ID,
    ChildHandler,
    Draft,
    ElementSpec,
    ReadContext,
    boolean,
    number,
    read_element,
    reference,
    text,
)
from apg_workflow.formats.bpmn.writing import compose, flag
from apg_workflow.formats.bpmn.writing import number as number_text
from apg_workflow.formats.bpmn.xmlout import Node
from apg_workflow.model import Bounds, Diagram, Edge, Label, Plane, Point, Shape

BPMN_DIAGRAM = f"{{{BPMNDI}}}BPMNDiagram"
_BOUNDS = f"{{{DC}}}Bounds"
_WAYPOINT = f"{{{DI}}}waypoint"
_SIZE = ("x", "y", "width", "height")


def _numbers(child: etree._Element, names: tuple[str, ...], context: ReadContext) -> list[float] | None:
    """The numeric attributes ``names`` of ``child``, or ``None`` when it has anything else."""
    extra = set(child.attrib) - set(names) - {XSI_TYPE}
    if extra or len(child) or any(name not in child.attrib for name in names):
        return None
    try:
        return [float(child.get(name, "")) for name in names]
    except ValueError:
        raise context.error(
            f"<{etree.QName(child).localname}> needs numbers in {', '.join(names)}", child
        ) from None


def _bounds(child: etree._Element, draft: Draft, context: ReadContext) -> bool:
    values = _numbers(child, _SIZE, context)
    return values is not None and draft.offer("bounds", Bounds(*values))


def _waypoint(child: etree._Element, draft: Draft, context: ReadContext) -> bool:
    values = _numbers(child, ("x", "y"), context)  # xsi:type="dc:Point" adds nothing
    return values is not None and draft.extend("waypoints", [Point(*values)], "bpmn")


def _part(name: str, spec: ElementSpec) -> ChildHandler:
    def read(child: etree._Element, draft: Draft, context: ReadContext) -> bool:
        return draft.offer(name, read_element(child, spec, context))

    return read


def _item(name: str, spec: ElementSpec) -> ChildHandler:
    def read(child: etree._Element, draft: Draft, context: ReadContext) -> bool:
        return draft.extend(name, [read_shape_or_edge(child, spec, context)], "bpmn")

    return read


def _di(local: str) -> str:
    return f"{{{BPMNDI}}}{local}"


_LABEL = ElementSpec(
    Label, attributes={**ID, "labelStyle": ("label_style", reference)}, children={_BOUNDS: _bounds}
)
_SHAPE = ElementSpec(
    Shape,
    required=("bpmnElement",),
    attributes={
        **ID,
        "bpmnElement": ("element_ref", reference),
        "isExpanded": ("is_expanded", boolean),
        "isHorizontal": ("is_horizontal", boolean),
        "isMarkerVisible": ("is_marker_visible", boolean),
        "participantBandKind": ("participant_band_kind", text),
        "choreographyActivityShape": ("choreography_activity_shape", reference),
    },
    children={_BOUNDS: _bounds, _di("BPMNLabel"): _part("label", _LABEL)},
)
_EDGE = ElementSpec(
    Edge,
    attributes={
        **ID,
        "bpmnElement": ("element_ref", reference),
        "sourceElement": ("source_element", reference),
        "targetElement": ("target_element", reference),
        "messageVisibleKind": ("message_visible_kind", text),
    },
    children={_WAYPOINT: _waypoint, _di("BPMNLabel"): _part("label", _LABEL)},
)
_PLANE = ElementSpec(
    Plane,
    attributes={**ID, "bpmnElement": ("element_ref", reference)},
    children={_di("BPMNShape"): _item("shapes", _SHAPE), _di("BPMNEdge"): _item("edges", _EDGE)},
)
_DIAGRAM = ElementSpec(
    Diagram,
    attributes={
        **ID,
        "name": ("name", text),
        "documentation": ("documentation", text),
        "resolution": ("resolution", number),
    },
    children={_di("BPMNPlane"): _part("plane", _PLANE)},
)


def read_shape_or_edge(element: etree._Element, spec: ElementSpec, context: ReadContext) -> Shape | Edge:
    if spec is _SHAPE and element.find(_BOUNDS) is None:
        raise context.error("a BPMNShape needs dc:Bounds", element, element_id=element.get("bpmnElement"))
    result: Shape | Edge = read_element(element, spec, context)
    return result


def read_diagram(element: etree._Element, context: ReadContext) -> Diagram:
    result: Diagram = read_element(element, _DIAGRAM, context)
    return result


def _optional_flag(value: bool | None) -> str | None:
    return None if value is None else flag(value)


def _write_bounds(bounds: Bounds) -> Node:
    values = (bounds.x, bounds.y, bounds.width, bounds.height)
    return Node(_BOUNDS, [(name, number_text(value)) for name, value in zip(_SIZE, values, strict=True)])


def _write_label(label: Label | None) -> list[Node]:
    if label is None:
        return []
    bounds = [] if label.bounds is None else [_write_bounds(label.bounds)]
    return [
        compose(
            _di("BPMNLabel"),
            [("id", label.id), ("labelStyle", label.label_style)],
            label.preserved,
            children=bounds,
        )
    ]


def _write_shape(shape: Shape) -> Node:
    attributes = [
        ("id", shape.id),
        ("bpmnElement", shape.element_ref),
        ("isHorizontal", _optional_flag(shape.is_horizontal)),
        ("isExpanded", _optional_flag(shape.is_expanded)),
        ("isMarkerVisible", _optional_flag(shape.is_marker_visible)),
        ("participantBandKind", shape.participant_band_kind),
        ("choreographyActivityShape", shape.choreography_activity_shape),
    ]
    children = [_write_bounds(shape.bounds), *_write_label(shape.label)]
    return compose(_di("BPMNShape"), attributes, shape.preserved, children=children)


def _write_edge(edge: Edge) -> Node:
    attributes = [
        ("id", edge.id),
        ("bpmnElement", edge.element_ref),
        ("sourceElement", edge.source_element),
        ("targetElement", edge.target_element),
        ("messageVisibleKind", edge.message_visible_kind),
    ]
    points = [Node(_WAYPOINT, [("x", number_text(p.x)), ("y", number_text(p.y))]) for p in edge.waypoints]
    return compose(_di("BPMNEdge"), attributes, edge.preserved, children=[*points, *_write_label(edge.label)])


def write_diagram(diagram: Diagram) -> Node:
    plane = diagram.plane
    items = [*(_write_shape(shape) for shape in plane.shapes), *(_write_edge(edge) for edge in plane.edges)]
    plane_attributes = [("id", plane.id), ("bpmnElement", plane.element_ref)]
    plane_node = compose(_di("BPMNPlane"), plane_attributes, plane.preserved, children=items)
    resolution = None if diagram.resolution is None else number_text(diagram.resolution)
    attributes = [
        ("id", diagram.id),
        ("name", diagram.name),
        ("documentation", diagram.documentation),
        ("resolution", resolution),
    ]
    return compose(BPMN_DIAGRAM, attributes, diagram.preserved, children=[plane_node])
