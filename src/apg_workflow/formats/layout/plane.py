"""Diagrams for whole definitions: one plane per process, or pools stacked in a collaboration's
plane, with the edges that cross containers (associations, message flows, stray sequence flows)
routed once every shape is placed."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace

from apg_workflow.formats.layout.artifacts import ArtifactRow, drawable_items
from apg_workflow.formats.layout.container import layout_container
from apg_workflow.formats.layout.geometry import Block, Box, Path, Rect
from apg_workflow.formats.layout.metrics import (
    BLACK_BOX_POOL_HEIGHT,
    LABEL_RISE,
    MIN_POOL_HEIGHT,
    MIN_POOL_WIDTH,
    ORIGIN,
    PADDING,
    POOL_BAND,
    POOL_GAP,
    V_GAP,
    text_size,
)
from apg_workflow.formats.layout.routing import elbow, straight, vertical_elbow
from apg_workflow.model import (
    Association,
    BaseElement,
    Collaboration,
    Definitions,
    Diagram,
    MessageFlow,
    Plane,
    Process,
    SequenceFlow,
)
from apg_workflow.model.ids import claim_id

POOL_PORT_INSET = 10  # message flows meet a pool at least this far inside its corners


def layout_process(process: Process) -> Diagram:
    """A diagram of ``process`` alone: its plane refers to the process."""
    taken = {process.id, *(element.id for _, element in process.walk())}
    return _diagram(process.id, _process_block(process), [process], (), taken)


def layout_definitions(definitions: Definitions) -> Definitions:
    """``definitions`` with a diagram added for each process that has no shape in any diagram.

    Undrawn processes that take part in a collaboration nobody drew are drawn as pools of that
    collaboration (one diagram whose plane refers to the collaboration); the others get a diagram
    each. Processes already drawn keep their diagrams untouched. Returns ``definitions`` itself
    when there is nothing to draw.
    """
    drawn = _drawn_ids(definitions.diagrams)
    pending = {p.id: p for p in definitions.processes if not _is_drawn(p, drawn)}
    if not pending:
        return definitions
    taken = _ids(definitions)
    added: list[Diagram] = []
    for collaboration in definitions.collaborations:
        if collaboration.id in drawn or any(p.id in drawn for p in collaboration.participants):
            continue
        pooled: dict[str, Process] = {}
        for participant in collaboration.participants:
            if participant.process_ref in pending:
                pooled[participant.process_ref] = pending.pop(participant.process_ref)
        if pooled:
            block = _collaboration_block(collaboration, pooled)
            extra = (*collaboration.message_flows, *collaboration.artifacts)
            added.append(_diagram(collaboration.id, block, pooled.values(), extra, taken))
    for process in pending.values():
        added.append(_diagram(process.id, _process_block(process), [process], (), taken))
    return replace(definitions, diagrams=(*definitions.diagrams, *added))


def _process_block(process: Process) -> Block:
    block = layout_container(process)
    block.normalise()
    return block


def _collaboration_block(collaboration: Collaboration, processes: Mapping[str, Process]) -> Block:
    """Horizontal pools stacked top to bottom, all as wide as the widest; collaboration artifacts
    in a row under them."""
    contents: list[tuple[Block, Rect] | None] = []
    unused = dict(processes)
    for participant in collaboration.participants:
        process = unused.pop(participant.process_ref or "", None)
        if process is None:
            contents.append(None)  # a black-box pool, or a process drawn elsewhere
            continue
        laid_out = layout_container(process)
        contents.append((laid_out, laid_out.normalise()))
    width = max([MIN_POOL_WIDTH, *(POOL_BAND + 2 * PADDING + size.w for _, size in filter(None, contents))])
    block = Block()
    y = 0
    for participant, content in zip(collaboration.participants, contents, strict=True):
        height = BLACK_BOX_POOL_HEIGHT
        if content is not None:
            inner, size = content
            height = max(MIN_POOL_HEIGHT, size.h + 2 * PADDING)
            height += height % 2
            inner.shift(POOL_BAND + PADDING, y + (height - size.h) // 2)
        block.boxes.append(Box(participant.id, Rect(0, y, width, height), horizontal=True))
        if content is not None:
            block.absorb(content[0])
        y += height + POOL_GAP
    artifacts = ArtifactRow(drawable_items(collaboration.artifacts))
    if artifacts.items:
        block.boxes.extend(artifacts.place(0, y - POOL_GAP + V_GAP))
    return block


def _diagram(
    ref: str, block: Block, processes: Iterable[Process], extra: Iterable[BaseElement], taken: set[str]
) -> Diagram:
    """Route what crosses containers, move the block to the origin and freeze it into a diagram."""
    elements = [element for process in processes for _, element in process.walk()]
    _route_remaining(block, [*elements, *extra])
    block.normalise()
    block.shift(ORIGIN, ORIGIN)
    plane = Plane(
        id=claim_id(f"BPMNPlane_{ref}", taken),
        element_ref=ref,
        shapes=tuple(box.to_shape() for box in block.boxes),
        edges=tuple(path.to_edge() for path in block.paths),
    )
    return Diagram(id=claim_id(f"BPMNDiagram_{ref}", taken), plane=plane)


def _route_remaining(block: Block, elements: Iterable[BaseElement]) -> None:
    """Edges for the sequence flows the layered layout could not route (their ends lie in
    different containers, or one is an event sub-process), message flows and associations."""
    shapes = {box.element_id: box for box in block.boxes}
    pools = [box.rect for box in block.boxes if box.horizontal]
    routed = {path.element_id for path in block.paths}
    deferred: list[Association] = []
    for element in elements:
        if element.id in routed:
            continue
        if isinstance(element, Association):
            deferred.append(element)
        elif isinstance(element, (SequenceFlow, MessageFlow)):
            source, target = shapes.get(element.source), shapes.get(element.target)
            if source is None or target is None:
                continue  # the validator reports a flow whose ends do not exist
            if isinstance(element, SequenceFlow):
                points = elbow(source.rect, target.rect)
            else:
                turn = _turn_between_pools(source.rect, target.rect, pools)
                points = vertical_elbow(
                    source.rect, target.rect, _port(source, target), _port(target, source), turn
                )
            block.paths.append(_labelled(Path(element.id, points), element.name))
    ends = {box.element_id: box.rect for box in block.boxes}
    ends |= {path.element_id: Rect(*path.midpoint(), 0, 0) for path in block.paths}
    for association in deferred:
        first, last = ends.get(association.source), ends.get(association.target)
        if first is not None and last is not None:
            block.paths.append(Path(association.id, straight(first, last)))


def _port(box: Box, other: Box) -> int:
    """Where a message flow meets ``box``: its centre, or on a pool right across from the other end."""
    if not box.horizontal:
        return box.rect.cx
    low, high = box.rect.x + POOL_BAND + POOL_PORT_INSET, box.rect.right - POOL_PORT_INSET
    return min(max(other.rect.cx, low), high)


def _turn_between_pools(source: Rect, target: Rect, pools: Iterable[Rect]) -> int | None:
    """The middle of the gap between pools on the target's side facing the source, so that a
    message flow turns outside the pools; ``None`` when both ends lie in one pool (or none)."""
    pool = next((p for p in pools if p.y <= target.cy <= p.bottom), None)
    if pool is None or pool.y <= source.cy <= pool.bottom:
        return None
    return pool.y - POOL_GAP // 2 if source.cy < target.cy else pool.bottom + POOL_GAP // 2


def _labelled(path: Path, name: str | None) -> Path:
    if name:
        width, height = text_size(name)
        x, y = path.midpoint()
        path.label = Rect(x - width // 2, y - height - LABEL_RISE, width, height)
    return path


def _drawn_ids(diagrams: Iterable[Diagram]) -> set[str]:
    """The ids that existing diagrams draw: shapes' elements and planes' processes/collaborations."""
    drawn: set[str] = set()
    for diagram in diagrams:
        if diagram.plane.element_ref:
            drawn.add(diagram.plane.element_ref)
        drawn.update(shape.element_ref for shape in diagram.plane.shapes)
    return drawn


def _is_drawn(process: Process, drawn: set[str]) -> bool:
    return process.id in drawn or any(element.id in drawn for _, element in process.walk())


def _ids(definitions: Definitions) -> set[str]:
    """Every id the definitions use, so that new diagram ids never clash."""
    items: list[BaseElement] = [*definitions.processes, *definitions.messages, *definitions.signals]
    items += [*definitions.errors, *definitions.escalations]
    items += [element for process in definitions.processes for _, element in process.walk()]
    for collaboration in definitions.collaborations:
        items += [collaboration, *collaboration.participants, *collaboration.message_flows]
        items += collaboration.artifacts
    for diagram in definitions.diagrams:
        items += [diagram, diagram.plane, *diagram.plane.shapes, *diagram.plane.edges]
    return {item.id for item in items if item.id}
