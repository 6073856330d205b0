"""Sequence flows of one layered container: which links they make, and their orthogonal routes.

A forward flow leaves its source's right middle (or, from a boundary event, drops from the
event's bottom under its host) and follows its chain of dummy vertices, turning in the gaps
between columns, into the target's left middle. A flow that loops back runs in a channel above
the rows, or below them when it leaves a boundary event or a row under its target's; each such
flow has a channel level of its own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import pairwise

from apg_workflow.formats.layout.geometry import XY, Path, Rect, simplify
from apg_workflow.formats.layout.layering import Layering, Link
from apg_workflow.formats.layout.metrics import CHANNEL_GAP, LABEL_PAD, LABEL_RISE, SLOT, text_size
from apg_workflow.formats.layout.routing import Gaps, Grid, channel_levels
from apg_workflow.model import SequenceFlow

_BACK = "\x00back "  # slot keys of back flows (never an element id)


def link_flows(
    flows: Sequence[SequenceFlow], vertex_of: Mapping[str, int], boundary: Mapping[str, tuple[str, int]]
) -> tuple[list[Link], list[SequenceFlow]]:
    """The links between layered vertices that ``flows`` make, and the flow of each link.

    ``boundary`` maps a boundary event to its host and its depth (1 for the rightmost event of
    the host, 2 for the next one, …): a flow leaving it links the host, ``below`` its depth.
    Flows with an end that is not layered (an event sub-process, a boundary event as target, an
    unknown id) make no link.
    """
    links: list[Link] = []
    linked: list[SequenceFlow] = []
    for flow in flows:
        host, depth = boundary.get(flow.source, (flow.source, 0))
        source, target = vertex_of.get(host), vertex_of.get(flow.target)
        if source is not None and target is not None:
            links.append(Link(source, target, below=depth))
            linked.append(flow)
    return links, linked


class FlowRouter:
    """Requests the gap slots the flows need (before the grid exists), then routes them."""

    def __init__(self, layering: Layering, links: Sequence[Link], flows: Sequence[SequenceFlow]) -> None:
        self._layering = layering
        self._links = links
        self._flows = flows
        row = layering.row
        self._under = [bool(link.below) or row[link.source] > row[link.target] for link in links]
        self._levels = [0] * len(links)
        self.below_levels = 0  # how many channels run under the rows
        for under in (False, True):
            chosen = [i for i in range(len(links)) if layering.back[i] and self._under[i] == under]
            spans = [(layering.layer[links[i].target], layering.layer[links[i].source]) for i in chosen]
            for index, level in zip(chosen, channel_levels(spans), strict=True):
                self._levels[index] = level
                if under:
                    self.below_levels = max(self.below_levels, level + 1)

    def request_slots(self, gaps: Gaps) -> None:
        layer, row = self._layering.layer, self._layering.row
        for index, (link, flow) in enumerate(zip(self._links, self._flows, strict=True)):
            start = row[link.source] + (0.5 if link.below else 0)  # under a boundary event: between rows
            if self._layering.back[index]:
                level = self._levels[index]
                gaps.request(layer[link.source], _BACK + flow.id, (1, level), start, None)
                gaps.request(layer[link.target] - 1, _BACK + flow.id, (-1, -level), None, row[link.target])
                continue
            chain = self._layering.chains[index]
            for step, (a, b) in enumerate(pairwise(chain)):
                if self._turns(link, step, a, b):
                    begin = start if step == 0 else row[a]
                    gaps.request(layer[a], flow.source, (0, begin, -link.below), begin, row[b])
            if flow.name:
                gaps.reserve_label(layer[link.target] - 1, text_size(flow.name)[0] + 2 * LABEL_PAD)

    def channel_depth(self) -> int:
        """How far under the rows the lowest channel lies (0 without channels there)."""
        return CHANNEL_GAP + (self.below_levels - 1) * SLOT if self.below_levels else 0

    def route(self, grid: Grid, rects: Sequence[Rect], events: Mapping[str, tuple[Rect, int]]) -> list[Path]:
        """The paths of the linked flows, in flow order. ``rects``: the layered vertices' shapes;
        ``events``: by boundary event id, its shape and the y where the flows leaving it turn."""
        paths = []
        for index, (link, flow) in enumerate(zip(self._links, self._flows, strict=True)):
            if link.below:
                event, drop = events[flow.source]
                points = [(event.cx, event.bottom), (event.cx, drop)]
            else:
                start = rects[link.source]
                points = [(start.right, start.cy)]
            if self._layering.back[index]:
                path = self._back(index, grid, points, rects[link.target])
            else:
                path = self._forward(index, grid, points, rects[link.target])
            paths.append(path)
        return paths

    def _forward(self, index: int, grid: Grid, points: list[XY], end: Rect) -> Path:
        layer, row = self._layering.layer, self._layering.row
        link, flow = self._links[index], self._flows[index]
        y = points[-1][1]
        for step, (a, b) in enumerate(pairwise(self._layering.chains[index])):
            if self._turns(link, step, a, b):
                x, y_next = grid.gap_x(layer[a], flow.source), grid.axis[row[b]]
                points += [(x, y), (x, y_next)]
                y = y_next
        points.append((end.x, end.cy))
        label = None
        if flow.name:
            width, height = text_size(flow.name)
            centre = grid.label_center(layer[link.target] - 1)
            label = Rect(centre - width // 2, end.cy - height - LABEL_RISE, width, height)
        return Path(flow.id, simplify(points), label)

    def _back(self, index: int, grid: Grid, points: list[XY], end: Rect) -> Path:
        layer = self._layering.layer
        link, flow, level = self._links[index], self._flows[index], self._levels[index]
        key = _BACK + flow.id
        if self._under[index]:
            channel = grid.bottom + CHANNEL_GAP + level * SLOT
        else:
            channel = grid.top - CHANNEL_GAP - level * SLOT
        out_x = grid.gap_x(layer[link.source], key)
        in_x = grid.gap_x(layer[link.target] - 1, key)
        y = points[-1][1]
        points += [(out_x, y), (out_x, channel), (in_x, channel), (in_x, end.cy), (end.x, end.cy)]
        label = None
        if flow.name:
            width, height = text_size(flow.name)
            top = channel + LABEL_RISE if self._under[index] else channel - height - LABEL_RISE
            label = Rect((out_x + in_x) // 2 - width // 2, top, width, height)
        return Path(flow.id, simplify(points), label)

    def _turns(self, link: Link, step: int, a: int, b: int) -> bool:
        """Whether the segment from ``a`` to ``b`` needs a vertical run in the gap between them."""
        return (link.below > 0 and step == 0) or self._layering.row[a] != self._layering.row[b]
