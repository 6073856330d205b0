"""Data object and data store references, text annotations and groups.

An item associated with a layered flow node is placed above that node (several side by side);
the others go in a row under the flow. Associations themselves are routed once every shape of the
plane is placed (see :mod:`.plane`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from apg_workflow.formats.layout.geometry import Box, Rect, label_under
from apg_workflow.formats.layout.metrics import LABEL_GAP, external_label_size, shape_size
from apg_workflow.model import Association, DataObject, Element, FlowContainer

ITEM_SPACING = 20


@dataclass(slots=True)
class ArtifactRow:
    """Items side by side, bottoms aligned, each with its label under it."""

    items: Sequence[Element]
    width: int = 0
    height: int = 0

    def __post_init__(self) -> None:
        cells = [self._cell(item) for item in self.items]
        self.width = sum(w for w, _ in cells) + ITEM_SPACING * max(0, len(cells) - 1)
        self.height = max((h for _, h in cells), default=0)

    @staticmethod
    def _cell(item: Element) -> tuple[int, int]:
        (width, height), (label_width, label_height) = shape_size(item), external_label_size(item)
        return max(width, label_width), height + (LABEL_GAP + label_height if label_height else 0)

    def place(self, left: int, top: int) -> list[Box]:
        """Boxes for the items, the row's top-left corner at (``left``, ``top``)."""
        boxes = []
        for item in self.items:
            cell_width, cell_height = self._cell(item)
            width, height = shape_size(item)
            rect = Rect(left + (cell_width - width) // 2, top + self.height - cell_height, width, height)
            boxes.append(Box(item.id, rect, label_under(rect, external_label_size(item))))
            left += cell_width + ITEM_SPACING
        return boxes


def drawable_items(elements: Iterable[Element]) -> list[Element]:
    """The data elements and artifacts that get a shape (data objects themselves are not drawn:
    their references are; associations are edges)."""
    return [item for item in elements if not isinstance(item, (Association, DataObject))]


def anchor_items(
    container: FlowContainer, anchor_of: Mapping[str, str]
) -> tuple[dict[str, ArtifactRow], ArtifactRow]:
    """The row above each anchor (by anchor id), and the row of items with no anchor.

    ``anchor_of`` maps the ids of the elements an item may hang over to the id of the element whose
    column it joins (a boundary event's host, for instance).
    """
    items = drawable_items((*container.data, *container.artifacts))
    item_ids = {item.id for item in items}
    anchor: dict[str, str] = {}
    for association in container.artifacts:
        if not isinstance(association, Association):
            continue
        for end, other in (
            (association.source, association.target),
            (association.target, association.source),
        ):
            if end in item_ids and other in anchor_of:
                anchor.setdefault(end, anchor_of[other])
    above: dict[str, list[Element]] = {}
    free: list[Element] = []
    for item in items:
        if item.id in anchor:
            above.setdefault(anchor[item.id], []).append(item)
        else:
            free.append(item)
    return {node_id: ArtifactRow(row) for node_id, row in above.items()}, ArtifactRow(free)
