"""Where the layered rows and columns lie, and how edges run between shapes.

Columns are separated by gaps; every vertical segment of a layered edge runs in a gap, on a slot
of its own (segments of edges leaving the same element share one, so that a fork reads as a
fork). Horizontal segments run on a row's axis, through cells that dummy vertices reserved, or in
the channels above and below the rows that edges looping back use.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass, field

from apg_workflow.formats.layout.geometry import XY, Rect, simplify
from apg_workflow.formats.layout.metrics import H_GAP, SLOT, V_GAP

SlotOrder = tuple[float, ...]


@dataclass(slots=True)
class _Slot:
    order: SlotOrder
    starts: set[float] = field(default_factory=set)  # rows whose horizontal segments lead to the slot
    ends: set[float] = field(default_factory=set)  # rows whose horizontal segments leave the slot


@dataclass(slots=True)
class Gaps:
    """The slots requested in each gap; gap ``g`` lies right of column ``g`` (``-1``: left margin).

    Slots go left to right by their ``order``, except that a slot leaving a row always lies left of
    the slots arriving at that row: then the horizontal run into a row and the one out of it never
    share a stretch of line. The labels of the flows arriving through a gap sit right of its slots.
    """

    columns: int
    _slots: dict[int, dict[str, _Slot]] = field(default_factory=dict)
    _label_room: dict[int, int] = field(default_factory=dict)
    _places: dict[int, dict[str, int]] = field(default_factory=dict)

    def request(self, gap: int, key: str, order: SlotOrder, start: float | None, end: float | None) -> None:
        """A vertical segment for ``key`` in ``gap``, from row ``start`` to row ``end`` (``None``:
        from or to a channel, or a fractional row for the line under a boundary event)."""
        slot = self._slots.setdefault(gap, {}).setdefault(key, _Slot(order))
        if start is not None:
            slot.starts.add(start)
        if end is not None:
            slot.ends.add(end)

    def reserve_label(self, gap: int, width: int) -> None:
        """Keep room ``width`` wide for labels at the right end of ``gap``."""
        self._label_room[gap] = max(self._label_room.get(gap, 0), width)

    def label_room(self, gap: int) -> int:
        return self._label_room.get(gap, 0)

    def width(self, gap: int) -> int:
        slots = len(self._slots.get(gap, ()))
        inner = 0 <= gap < self.columns - 1
        return max(H_GAP if inner else 0, ((slots + 1) * SLOT if slots else 0) + self.label_room(gap))

    def offset(self, gap: int, key: str) -> int:
        """The slot's distance from the gap's left side (slots spread over the gap, labels aside)."""
        places = self._places.get(gap)
        if places is None:
            places = self._places[gap] = _arrange(self._slots[gap])
        return (self.width(gap) - self.label_room(gap)) * (places[key] + 1) // (len(places) + 1)


def _arrange(slots: dict[str, _Slot]) -> dict[str, int]:
    """Places left to right: a topological order of "leaves a row another arrives at" (Kahn's
    algorithm, ties by preferred order); slots caught in a cycle follow in preferred order."""
    preferred = sorted(slots, key=lambda k: (slots[k].order, k))
    rank = {key: index for index, key in enumerate(preferred)}
    arriving: dict[float, list[str]] = {}
    for key in preferred:
        for row in slots[key].ends:
            arriving.setdefault(row, []).append(key)
    successors: dict[str, set[str]] = {key: set() for key in preferred}
    for key in preferred:
        for row in slots[key].starts:
            successors[key].update(other for other in arriving.get(row, ()) if other != key)
    indegree = dict.fromkeys(preferred, 0)
    for following in successors.values():
        for key in following:
            indegree[key] += 1
    ready = [(rank[key], key) for key in preferred if indegree[key] == 0]
    heapq.heapify(ready)
    placed: dict[str, int] = {}
    while ready:
        _, key = heapq.heappop(ready)
        placed[key] = len(placed)
        for other in successors[key]:
            indegree[other] -= 1
            if indegree[other] == 0:
                heapq.heappush(ready, (rank[other], other))
    for key in preferred:
        placed.setdefault(key, len(placed))
    return placed


class Grid:
    """Coordinates of the columns (from their half widths) and of the row axes (from how far what a
    row holds reaches above and below its axis), with the gaps between columns."""

    def __init__(self, half_widths: Sequence[int], above: Sequence[int], below: Sequence[int], gaps: Gaps):
        self.gaps = gaps
        self._half = list(half_widths)
        self._column_left: list[int] = []
        self._gap_left: dict[int, int] = {-1: 0}
        x = gaps.width(-1)
        for column, half in enumerate(half_widths):
            self._column_left.append(x)
            x += 2 * half
            self._gap_left[column] = x
            x += gaps.width(column)
        self.axis: list[int] = []
        y = 0
        for row, up in enumerate(above):
            y += up if row == 0 else below[row - 1] + V_GAP + up
            self.axis.append(y)
        self.top = self.axis[0] - above[0] if self.axis else 0
        self.bottom = self.axis[-1] + below[-1] if self.axis else 0

    def center_x(self, column: int) -> int:
        return self._column_left[column] + self._half[column]

    def gap_x(self, gap: int, key: str) -> int:
        return self._gap_left[gap] + self.gaps.offset(gap, key)

    def label_center(self, gap: int) -> int:
        """The middle of the room for labels at the right end of ``gap``."""
        return self._gap_left[gap] + self.gaps.width(gap) - self.gaps.label_room(gap) // 2


def channel_levels(spans: Sequence[tuple[int, int]]) -> list[int]:
    """A level for each span of columns ``(first, last)`` such that overlapping spans never share a
    level; shorter spans get the levels nearest the content."""
    order = sorted(range(len(spans)), key=lambda i: (spans[i][1] - spans[i][0], spans[i], i))
    levels = [0] * len(spans)
    taken: list[list[tuple[int, int]]] = []
    for index in order:
        first, last = spans[index]
        level = 0
        while level < len(taken) and any(first <= b and a <= last for a, b in taken[level]):
            level += 1
        if level == len(taken):
            taken.append([])
        taken[level].append((first, last))
        levels[index] = level
    return levels


def elbow(source: Rect, target: Rect) -> list[XY]:
    """Right middle of ``source`` to left middle of ``target``, turning once halfway between."""
    middle = (source.right + target.x) // 2
    return simplify(
        [(source.right, source.cy), (middle, source.cy), (middle, target.cy), (target.x, target.cy)]
    )


def vertical_elbow(
    source: Rect, target: Rect, source_x: int, target_x: int, turn_y: int | None = None
) -> list[XY]:
    """From the side of ``source`` facing ``target`` (bottom or top) to the facing side of
    ``target``, turning at ``turn_y`` (default halfway): how message flows run between pools."""
    if source.cy <= target.cy:
        start, end = (source_x, source.bottom), (target_x, target.y)
    else:
        start, end = (source_x, source.y), (target_x, target.bottom)
    middle = (start[1] + end[1]) // 2 if turn_y is None else turn_y
    return simplify([start, (source_x, middle), (target_x, middle), end])


def straight(source: Rect, target: Rect) -> list[XY]:
    """A straight line between the facing sides of two shapes: how associations run."""
    if source.bottom <= target.y:
        return [(source.cx, source.bottom), (target.cx, target.y)]
    if target.bottom <= source.y:
        return [(source.cx, source.y), (target.cx, target.bottom)]
    if source.right <= target.x:
        return [(source.right, source.cy), (target.x, target.cy)]
    return [(source.x, source.cy), (target.right, target.cy)]
