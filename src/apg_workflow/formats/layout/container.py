"""Lays out the content of one process or sub-process as a block.

The flow nodes are layered (:mod:`.layering`) into a grid of columns and rows whose sizes follow
what each cell holds: the shape, its label, the boundary events on its bottom edge and the
artifacts associated with it above. Expanded sub-processes are laid out first, recursively, and
drawn around their content. Event sub-processes and the artifacts associated with nothing go in
rows under the flow, and so do the nodes that no flow links (the tasks of an ad-hoc
sub-process, for instance).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from apg_workflow.formats.layout.artifacts import ArtifactRow, anchor_items, drawable_items
from apg_workflow.formats.layout.flows import FlowRouter, link_flows
from apg_workflow.formats.layout.geometry import Block, Box, Rect, label_under
from apg_workflow.formats.layout.layering import Layering, Link, layer_graph
from apg_workflow.formats.layout.metrics import (
    ARTIFACT_GAP,
    BOUNDARY_LABEL_OFFSET,
    BOUNDARY_SPACING,
    EVENT_SIZE,
    H_GAP,
    LABEL_GAP,
    PADDING,
    SLOT,
    SUB_PROCESS_TOP,
    TASK_SIZE,
    V_GAP,
    external_label_size,
    shape_size,
)
from apg_workflow.formats.layout.routing import Gaps, Grid
from apg_workflow.model import BoundaryEvent, FlowContainer, FlowNode, SequenceFlow, StartEvent, SubProcess

HALF_EVENT = EVENT_SIZE[0] // 2
BOUNDARY_MARGIN = 8  # between the outermost boundary events and their host's corners
DROP_CLEARANCE = 10  # between boundary labels and the line where the flows leaving them turn
ROW_WIDTH = 1200  # nodes no flow links, and event sub-processes, wrap into rows this wide


def layout_container(container: FlowContainer) -> Block:
    """The block of ``container``'s nodes, flows, data and artifacts (not normalised)."""
    hosts = {node.id for node in container.nodes if not isinstance(node, BoundaryEvent)}
    attached: dict[str, list[BoundaryEvent]] = {}
    for node in container.nodes:
        if isinstance(node, BoundaryEvent) and node.attached_to in hosts:
            attached.setdefault(node.attached_to, []).append(node)
    host_of = {event.id: host for host, events in attached.items() for event in events}
    own = [node for node in container.nodes if node.id not in host_of]
    above, free = anchor_items(container, {node.id: node.id for node in own} | host_of)
    cells = [_Cell.of(node, attached.get(node.id, ()), above.get(node.id)) for node in own]
    event_subs = [cell for cell in cells if _is_event_sub_process(cell.node)]
    candidates = [cell for cell in cells if not _is_event_sub_process(cell.node)]
    vertex_of = {cell.node.id: index for index, cell in enumerate(candidates)}
    boundary = {a.event.id: (cell.node.id, a.depth) for cell in candidates for a in cell.attached}
    links, flows = link_flows(container.flows, vertex_of, boundary)
    flowing, alone, links = _split_unlinked(candidates, links)

    block = Block()
    events: dict[str, tuple[Rect, int]] = {}
    top = _place_flow(flowing, links, flows, block, events)
    top = _place_rows(alone, top, block, events)
    top = _place_rows(event_subs, top, block, events)
    if free.items:
        block.boxes.extend(free.place(0, top))
    return block


def _is_event_sub_process(node: FlowNode) -> bool:
    return isinstance(node, SubProcess) and node.triggered_by_event


def _split_unlinked(
    cells: Sequence[_Cell], links: Sequence[Link]
) -> tuple[list[_Cell], list[_Cell], list[Link]]:
    """The cells that flows link (with the links renumbered for them), and those no flow touches."""
    linked = sorted({end for link in links for end in (link.source, link.target)})
    renumber = {old: new for new, old in enumerate(linked)}
    alone = [cell for index, cell in enumerate(cells) if index not in renumber]
    links = [Link(renumber[link.source], renumber[link.target], link.below) for link in links]
    return [cells[index] for index in linked], alone, links


def _place_flow(
    cells: Sequence[_Cell],
    links: Sequence[Link],
    flows: Sequence[SequenceFlow],
    block: Block,
    events: dict[str, tuple[Rect, int]],
) -> int:
    """Lay the linked cells out in layers and route their flows; the y under them all."""
    if not cells:
        return 0
    roots = [index for index, cell in enumerate(cells) if isinstance(cell.node, StartEvent)]
    layering = layer_graph(len(cells), links, roots)
    router = FlowRouter(layering, links, flows)
    gaps = Gaps(columns=len(layering.layers))
    router.request_slots(gaps)
    grid = _grid(layering, cells, gaps)
    for index, cell in enumerate(cells):
        centre = (grid.center_x(layering.layer[index]), grid.axis[layering.row[index]])
        block.absorb(cell.place(centre, events))
    block.paths.extend(router.route(grid, [cell.rect for cell in cells], events))
    return grid.bottom + router.channel_depth() + V_GAP


def _grid(layering: Layering, cells: Sequence[_Cell], gaps: Gaps) -> Grid:
    """Columns as wide and rows as tall as what their cells hold (dummy vertices hold nothing)."""
    half = [0] * len(layering.layers)
    above = [0] * layering.row_count
    below = [0] * layering.row_count
    for index, cell in enumerate(cells):
        column, row = layering.layer[index], layering.row[index]
        half[column] = max(half[column], cell.half)
        above[row] = max(above[row], cell.above)
        below[row] = max(below[row], cell.below)
    return Grid(half, above, below, gaps)


def _place_rows(cells: Sequence[_Cell], top: int, block: Block, events: dict[str, tuple[Rect, int]]) -> int:
    """Cells side by side from the left, starting at ``top``, in rows at most ``ROW_WIDTH`` wide;
    the y under them."""
    lines: list[list[_Cell]] = []
    width = ROW_WIDTH
    for cell in cells:
        if width + 2 * cell.half > ROW_WIDTH:
            lines.append([])
            width = -H_GAP
        lines[-1].append(cell)
        width += 2 * cell.half + H_GAP
    for line in lines:
        axis = top + max(cell.above for cell in line)
        left = 0
        for cell in line:
            block.absorb(cell.place((left + cell.half, axis), events))
            left += 2 * cell.half + H_GAP
        top = axis + max(cell.below for cell in line) + V_GAP
    return top


@dataclass(slots=True)
class _Drawn:
    """A flow node's own shape: its size and, for an expanded sub-process, its laid-out content."""

    node: FlowNode
    width: int
    height: int
    content: Block | None = None
    content_size: Rect = field(default_factory=lambda: Rect(0, 0, 0, 0))

    @classmethod
    def of(cls, node: FlowNode) -> _Drawn:
        if not isinstance(node, SubProcess) or not (
            node.nodes or drawable_items((*node.data, *node.artifacts))
        ):
            return cls(node, *shape_size(node))
        content = layout_container(node)
        size = content.normalise()
        width = _even(max(TASK_SIZE[0], size.w + 2 * PADDING))
        height = _even(max(TASK_SIZE[1], size.h + SUB_PROCESS_TOP + PADDING))
        return cls(node, width, height, content, size)

    def place(self, rect: Rect) -> Block:
        """The node's box (and its content) at ``rect``."""
        expanded = None
        if isinstance(self.node, SubProcess):
            expanded = self.content is not None
        box = Box(self.node.id, rect, label_under(rect, external_label_size(self.node)), expanded)
        block = Block(boxes=[box])
        if self.content is not None:
            room_height = rect.h - SUB_PROCESS_TOP - PADDING
            self.content.shift(
                rect.x + (rect.w - self.content_size.w) // 2,
                rect.y + SUB_PROCESS_TOP + (room_height - self.content_size.h) // 2,
            )
            block.absorb(self.content)
        return block


@dataclass(frozen=True, slots=True)
class _Attached:
    """A boundary event on its host: its centre's x from the host's left side, and its depth (1 for
    the rightmost event, 2 for the next one, …): the flows leaving deeper events turn lower, so
    that they never cross those of the events to their right."""

    event: BoundaryEvent
    x: int
    depth: int


@dataclass(slots=True)
class _Cell:
    """A layered flow node with what it carries, and how far that reaches around its centre."""

    drawn: _Drawn
    attached: list[_Attached]
    artifacts: ArtifactRow | None
    half: int = 0
    above: int = 0
    below: int = 0
    drop: int = 0  # below the centre: where the flows leaving the depth-1 boundary event turn
    rect: Rect = field(default_factory=lambda: Rect(0, 0, 0, 0))

    @property
    def node(self) -> FlowNode:
        return self.drawn.node

    @classmethod
    def of(cls, node: FlowNode, events: Sequence[BoundaryEvent], artifacts: ArtifactRow | None) -> _Cell:
        drawn = _Drawn.of(node)
        offsets, drawn.width = _attach(events, drawn.width)
        attached = [
            _Attached(event, x, len(events) - place)
            for place, (event, x) in enumerate(zip(events, offsets, strict=True))
        ]
        cell = cls(drawn, attached, artifacts)
        width, height = drawn.width, drawn.height
        label_width, label_height = external_label_size(node)
        labels = [external_label_size(event) for event in events]
        reach = max(
            (
                x + max(HALF_EVENT, BOUNDARY_LABEL_OFFSET + w)
                for x, (w, _) in zip(offsets, labels, strict=True)
            ),
            default=0,
        )
        artifacts_half = (artifacts.width + 1) // 2 if artifacts else 0
        cell.half = max(width // 2, label_width // 2, reach - width // 2, artifacts_half)
        cell.above = height // 2 + (artifacts.height + ARTIFACT_GAP if artifacts else 0)
        cell.below = height // 2 + (LABEL_GAP + label_height if label_height else 0)
        if events:
            tallest = max(h for _, h in labels)
            labels_room = tallest + 2 * LABEL_GAP if tallest else 0
            cell.drop = height // 2 + HALF_EVENT + labels_room + DROP_CLEARANCE
            cell.below = max(cell.below, cell.drop + (len(events) - 1) * SLOT + LABEL_GAP)
        return cell

    def place(self, centre: tuple[int, int], events: dict[str, tuple[Rect, int]]) -> Block:
        """The node's boxes around ``centre``: its own, its content, its boundary events and the
        artifacts above it. Records in ``events`` each boundary event's shape and the y where the
        flows leaving it turn."""
        width, height = self.drawn.width, self.drawn.height
        self.rect = Rect(centre[0] - width // 2, centre[1] - height // 2, width, height)
        block = self.drawn.place(self.rect)
        for attached in self.attached:
            event = attached.event
            rect = Rect(self.rect.x + attached.x - HALF_EVENT, self.rect.bottom - HALF_EVENT, *EVENT_SIZE)
            label_width, label_height = external_label_size(event)
            label = None
            if label_width:
                label = Rect(
                    rect.cx + BOUNDARY_LABEL_OFFSET, rect.bottom + LABEL_GAP, label_width, label_height
                )
            block.boxes.append(Box(event.id, rect, label))
            events[event.id] = (rect, self.rect.cy + self.drop + (attached.depth - 1) * SLOT)
        if self.artifacts is not None:
            top = self.rect.y - ARTIFACT_GAP - self.artifacts.height
            block.boxes.extend(self.artifacts.place(self.rect.cx - self.artifacts.width // 2, top))
        return block


def _attach(events: Sequence[BoundaryEvent], host_width: int) -> tuple[list[int], int]:
    """Centres of boundary events along the bottom edge (left to right, each label to the right of
    its event), and the host's width, widened when they do not fit."""
    if not events:
        return [], host_width
    centres = [0]
    for event in events[:-1]:
        reach = max(HALF_EVENT, BOUNDARY_LABEL_OFFSET + external_label_size(event)[0])
        centres.append(centres[-1] + reach + BOUNDARY_SPACING + HALF_EVENT)
    span = centres[-1] + 2 * HALF_EVENT
    width = max(host_width, _even(span + 2 * BOUNDARY_MARGIN))
    first = (width - span) // 2 + HALF_EVENT
    return [first + centre for centre in centres], width


def _even(value: int) -> int:
    return value + value % 2
