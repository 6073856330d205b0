"""Sizes and spacing of the auto-layout: bpmn.io's default shape sizes and its label metrics.

All coordinates of the layout are integers (shape sizes are even), so that the borders that
waypoints touch are exact after export.
"""

from __future__ import annotations

from apg_workflow.model import (
    Activity,
    DataObjectReference,
    DataStoreReference,
    Element,
    Event,
    Gateway,
    Group,
    TextAnnotation,
)

TASK_SIZE = (100, 80)
EVENT_SIZE = (36, 36)
GATEWAY_SIZE = (50, 50)
DATA_OBJECT_SIZE = (36, 50)
DATA_STORE_SIZE = (50, 50)
ANNOTATION_WIDTH = 100
GROUP_SIZE = (150, 100)

H_GAP = 60  # minimum free space between two columns of the layered flow
V_GAP = 50  # free space between two rows
SLOT = 12  # distance between parallel vertical segments in one gap, and between back-edge channels
CHANNEL_GAP = 30  # between the content and the nearest back-edge channel
ARTIFACT_GAP = 30  # between an annotation / data element and the element it is associated with
PADDING = 30  # inside an expanded sub-process and a pool, around the content
SUB_PROCESS_TOP = 40  # room for the name of an expanded sub-process above its content
POOL_BAND = 30  # the vertical name band on the left of a horizontal pool
POOL_GAP = 40  # between two stacked pools
MIN_POOL_WIDTH = 600
MIN_POOL_HEIGHT = 120
BLACK_BOX_POOL_HEIGHT = 60
ORIGIN = 50  # where the content of a plane starts (x and y)

LABEL_MAX_WIDTH = 90
CHAR_WIDTH = 6
LINE_HEIGHT = 14
LABEL_GAP = 6  # between a shape and its external label
LABEL_RISE = 4  # between a flow's label and the segment it names
LABEL_PAD = 8  # on each side of a flow's label in the gap that holds it
BOUNDARY_SPACING = 12  # between two boundary events of one host, label included
BOUNDARY_LABEL_OFFSET = 6  # a boundary label starts this far right of its event's centre


def text_size(text: str, max_width: int = LABEL_MAX_WIDTH) -> tuple[int, int]:
    """Width and height of ``text`` wrapped at word boundaries into lines at most ``max_width`` wide."""
    max_chars = max(1, max_width // CHAR_WIDTH)
    lines: list[str] = []
    current = ""
    for word in text.split():
        while len(word) > max_chars:  # a word longer than a line is broken
            if current:
                lines.append(current)
                current = ""
            lines.append(word[:max_chars])
            word = word[max_chars:]
        candidate = f"{current} {word}" if current else word
        if len(candidate) > max_chars:
            lines.append(current)
            current = word
        else:
            current = candidate
    if current:
        lines.append(current)
    if not lines:
        return (0, 0)
    width = max(len(line) for line in lines) * CHAR_WIDTH
    return (width + width % 2, len(lines) * LINE_HEIGHT)


def shape_size(element: Element) -> tuple[int, int]:
    """The bpmn.io default size of an element drawn collapsed (sub-processes are sized by content)."""
    if isinstance(element, Event):
        return EVENT_SIZE
    if isinstance(element, Gateway):
        return GATEWAY_SIZE
    if isinstance(element, DataObjectReference):
        return DATA_OBJECT_SIZE
    if isinstance(element, DataStoreReference):
        return DATA_STORE_SIZE
    if isinstance(element, TextAnnotation):
        text_height = text_size(element.text or "", ANNOTATION_WIDTH - 10)[1]
        return (ANNOTATION_WIDTH, max(30, text_height + 16))
    if isinstance(element, Group):
        return GROUP_SIZE
    return TASK_SIZE  # tasks, call activities, collapsed sub-processes, unknown nodes


def _has_external_label(element: Element) -> bool:
    """Whether the element's name is drawn under it (events, gateways, data) rather than inside."""
    return bool(element.name) and not isinstance(element, (Activity, TextAnnotation, Group))


def external_label_size(element: Element) -> tuple[int, int]:
    """The size of the label under the element, ``(0, 0)`` when it has none."""
    return text_size(element.name or "") if _has_external_label(element) else (0, 0)
