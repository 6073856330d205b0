"""Diagram interchange (BPMN DI): where shapes and edges are drawn."""

from __future__ import annotations

from dataclasses import dataclass

from apg_workflow.model.base import BaseElement


@dataclass(frozen=True, slots=True)
class Point:
    x: float
    y: float


@dataclass(frozen=True, slots=True)
class Bounds:
    x: float
    y: float
    width: float
    height: float

    @property
    def center(self) -> Point:
        return Point(self.x + self.width / 2, self.y + self.height / 2)


@dataclass(frozen=True, slots=True, kw_only=True)
class Label(BaseElement):
    bounds: Bounds | None = None
    label_style: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Shape(BaseElement):
    element_ref: str
    bounds: Bounds
    is_expanded: bool | None = None
    is_horizontal: bool | None = None
    is_marker_visible: bool | None = None
    participant_band_kind: str | None = None
    choreography_activity_shape: str | None = None
    label: Label | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Edge(BaseElement):
    element_ref: str | None = None
    waypoints: tuple[Point, ...] = ()
    source_element: str | None = None
    target_element: str | None = None
    message_visible_kind: str | None = None
    label: Label | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Plane(BaseElement):
    element_ref: str | None = None
    shapes: tuple[Shape, ...] = ()
    edges: tuple[Edge, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Diagram(BaseElement):
    name: str | None = None
    resolution: float | None = None
    plane: Plane = Plane()
