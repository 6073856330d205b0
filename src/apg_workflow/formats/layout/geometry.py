"""The layout's working geometry: mutable integer rectangles, boxes and paths grouped in blocks.

A block is laid out in its own coordinates and moved into place as a whole (a sub-process's
content into the sub-process, a process into its pool); only the finished plane becomes the
immutable :mod:`apg_workflow.model.diagram` objects.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from apg_workflow.formats.layout.metrics import LABEL_GAP
from apg_workflow.model import Bounds, Edge, Label, Point, Shape

XY = tuple[int, int]


@dataclass(slots=True)
class Rect:
    x: int
    y: int
    w: int
    h: int

    @property
    def right(self) -> int:
        return self.x + self.w

    @property
    def bottom(self) -> int:
        return self.y + self.h

    @property
    def cx(self) -> int:
        return self.x + self.w // 2

    @property
    def cy(self) -> int:
        return self.y + self.h // 2

    def shift(self, dx: int, dy: int) -> None:
        self.x += dx
        self.y += dy

    def to_bounds(self) -> Bounds:
        return Bounds(float(self.x), float(self.y), float(self.w), float(self.h))


@dataclass(slots=True)
class Box:
    """The shape of one element."""

    element_id: str
    rect: Rect
    label: Rect | None = None
    expanded: bool | None = None
    horizontal: bool | None = None

    def shift(self, dx: int, dy: int) -> None:
        self.rect.shift(dx, dy)
        if self.label is not None:
            self.label.shift(dx, dy)

    def to_shape(self) -> Shape:
        return Shape(
            id=f"{self.element_id}_di",
            element_ref=self.element_id,
            bounds=self.rect.to_bounds(),
            is_expanded=self.expanded,
            is_horizontal=self.horizontal,
            label=_label(self.label),
        )


@dataclass(slots=True)
class Path:
    """The edge of one flow or association: orthogonal (or straight) waypoints."""

    element_id: str
    points: list[XY]
    label: Rect | None = None

    def shift(self, dx: int, dy: int) -> None:
        self.points = [(x + dx, y + dy) for x, y in self.points]
        if self.label is not None:
            self.label.shift(dx, dy)

    def midpoint(self) -> XY:
        """The middle of the longest segment: where a label or an association attaches."""
        pairs = list(zip(self.points, self.points[1:], strict=False)) or [(self.points[0], self.points[0])]
        (x1, y1), (x2, y2) = max(pairs, key=lambda p: abs(p[0][0] - p[1][0]) + abs(p[0][1] - p[1][1]))
        return ((x1 + x2) // 2, (y1 + y2) // 2)

    def to_edge(self) -> Edge:
        return Edge(
            id=f"{self.element_id}_di",
            element_ref=self.element_id,
            waypoints=tuple(Point(float(x), float(y)) for x, y in self.points),
            label=_label(self.label),
        )


@dataclass(slots=True)
class Block:
    """Boxes and paths laid out together."""

    boxes: list[Box] = field(default_factory=list)
    paths: list[Path] = field(default_factory=list)

    def shift(self, dx: int, dy: int) -> None:
        for item in self._items():
            item.shift(dx, dy)

    def absorb(self, other: Block) -> None:
        self.boxes.extend(other.boxes)
        self.paths.extend(other.paths)

    def extent(self) -> Rect:
        """The rectangle covering every box, label and waypoint (empty at the origin)."""
        xs: list[int] = []
        ys: list[int] = []
        for rect in self._rects():
            xs += (rect.x, rect.right)
            ys += (rect.y, rect.bottom)
        for path in self.paths:
            xs += (x for x, _ in path.points)
            ys += (y for _, y in path.points)
        if not xs:
            return Rect(0, 0, 0, 0)
        return Rect(min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys))

    def normalise(self) -> Rect:
        """Move the block so that its extent starts at (0, 0); the extent (now at the origin)."""
        extent = self.extent()
        self.shift(-extent.x, -extent.y)
        return Rect(0, 0, extent.w, extent.h)

    def _items(self) -> Iterator[Box | Path]:
        yield from self.boxes
        yield from self.paths

    def _rects(self) -> Iterable[Rect]:
        for box in self.boxes:
            yield box.rect
            if box.label is not None:
                yield box.label
        for path in self.paths:
            if path.label is not None:
                yield path.label


def _label(rect: Rect | None) -> Label | None:
    return None if rect is None else Label(bounds=rect.to_bounds())


def simplify(points: list[XY]) -> list[XY]:
    """Drop repeated points and the middle one of three collinear points."""
    out: list[XY] = []
    for point in points:
        if out and out[-1] == point:
            continue
        if len(out) >= 2 and _collinear(out[-2], out[-1], point):
            out[-1] = point
        else:
            out.append(point)
    return out


def _collinear(a: XY, b: XY, c: XY) -> bool:
    return (a[0] == b[0] == c[0] and min(a[1], c[1]) <= b[1] <= max(a[1], c[1])) or (
        a[1] == b[1] == c[1] and min(a[0], c[0]) <= b[0] <= max(a[0], c[0])
    )


def label_under(rect: Rect, size: tuple[int, int]) -> Rect | None:
    """The bounds of an external label centred under ``rect`` (``None`` for an empty label)."""
    width, height = size
    if not width:
        return None
    return Rect(rect.cx - width // 2, rect.bottom + LABEL_GAP, width, height)
