"""What processes and sub-processes contain (flow elements, artifacts, lanes), the three kinds of
sub-process, and :class:`~apg_workflow.model.UnsupportedNode` for flow elements the model lacks."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from lxml import etree

from apg_workflow.formats.bpmn import registry
from apg_workflow.formats.bpmn.activities import (
    ACTIVITY_ATTRIBUTES,
    ACTIVITY_CHILDREN,
    activity_attributes,
    activity_children,
)
from apg_workflow.formats.bpmn.canonical import canonical
from apg_workflow.formats.bpmn.extensions.apg import apg_extensions
from apg_workflow.formats.bpmn.formal_expressions import read_expression
from apg_workflow.formats.bpmn.namespaces import MODEL, bpmn, local_name, namespace_of
from apg_workflow.formats.bpmn.reading import (
    ID,
    NAMED,
    ChildHandler,
    Draft,
    ElementSpec,
    ReadContext,
    boolean,
    child_text,
    read_element,
    reader_for,
    text,
)
from apg_workflow.formats.bpmn.registry import Category
from apg_workflow.formats.bpmn.schema import FLOW_ELEMENTS, UNKNOWN, slot
from apg_workflow.formats.bpmn.writing import WriteContext, compose, element, expression, flag, write
from apg_workflow.formats.bpmn.xmlout import Fragment, Node
from apg_workflow.model import (
    AdHocSubProcess,
    FlowContainer,
    Lane,
    LaneSet,
    Preserved,
    SubProcess,
    Transaction,
    UnsupportedNode,
)

# Lanes -----------------------------------------------------------------------------------------


def _flow_node_ref(child: etree._Element, draft: Draft, context: ReadContext) -> bool:
    return draft.extend("flow_node_refs", [child_text(child).strip()], "bpmn")


def _child_lane_set(child: etree._Element, draft: Draft, context: ReadContext) -> bool:
    return draft.offer("child_lane_set", read_element(child, _LANE_SET, context))


def _lane(child: etree._Element, draft: Draft, context: ReadContext) -> bool:
    return draft.extend("lanes", [read_element(child, _LANE, context)], "bpmn")


_LANE = ElementSpec(
    Lane,
    required=("id",),
    attributes=NAMED,
    children={bpmn("flowNodeRef"): _flow_node_ref, bpmn("childLaneSet"): _child_lane_set},
)
_LANE_SET = ElementSpec(LaneSet, attributes={**ID, "name": ("name", text)}, children={bpmn("lane"): _lane})


def _write_lane_set(lane_set: LaneSet, local: str = "laneSet") -> Node:
    return element(local, lane_set, [("name", lane_set.name)], [_write_lane(lane) for lane in lane_set.lanes])


def _write_lane(lane: Lane) -> Node:
    children = [Node(bpmn("flowNodeRef"), text=ref) for ref in lane.flow_node_refs]
    if lane.child_lane_set is not None:
        children.append(_write_lane_set(lane.child_lane_set, "childLaneSet"))
    return element("lane", lane, [("name", lane.name)], children)


# Flow elements of a container --------------------------------------------------------------------


def _lane_set(child: etree._Element, draft: Draft, context: ReadContext) -> bool:
    return draft.extend("lane_sets", [read_element(child, _LANE_SET, context)], "bpmn")


def _unsupported(element: etree._Element) -> UnsupportedNode:
    return UnsupportedNode(
        id=element.get("id", ""),
        name=element.get("name"),
        tag=str(element.tag),
        preserved=Preserved(children=(canonical(element),)),
    )


def _flow_element(child: etree._Element, draft: Draft, context: ReadContext) -> bool:
    """Any flow element by its registered reader. A BPMN flow element the model lacks (a
    choreography task, …), or a BPMN element with an id that the schema does not place in a
    container, becomes an UnsupportedNode; other children (ioSpecification, …) are not flow elements."""
    entry = registry.FLOW_READERS.get(child.tag)
    if entry is not None:
        reader, category = entry
        return draft.extend(category.value, [reader(child, context)], "bpmn")
    tag = str(child.tag)
    unknown = local_name(tag) in FLOW_ELEMENTS or slot(draft.kind, tag) == UNKNOWN
    if namespace_of(tag) == MODEL and child.get("id") and unknown:
        return draft.extend(Category.NODE.value, [_unsupported(child)], "bpmn")
    return False


CONTAINER_CHILDREN: Mapping[str, ChildHandler] = MappingProxyType({bpmn("laneSet"): _lane_set})
CONTAINER_FALLBACK = _flow_element


def container_children(container: FlowContainer, context: WriteContext) -> list[Node]:
    with context.inside(container):
        return [
            *(_write_lane_set(lane_set) for lane_set in container.lane_sets),
            *(
                write(item, context)
                for group in (container.nodes, container.flows, container.data, container.artifacts)
                for item in group
            ),
        ]


@registry.writer(UnsupportedNode)
def _write_unsupported(node: UnsupportedNode, context: WriteContext) -> Node | Fragment:
    if node.preserved.children:
        return Fragment(node.preserved.children[0])
    return compose(node.tag, [("id", node.id), ("name", node.name)], node.preserved)


# Sub-processes ---------------------------------------------------------------------------------


def _completion_condition(child: etree._Element, draft: Draft, context: ReadContext) -> bool:
    return draft.offer("completion_condition", read_expression(child, context))


def _sub_process_spec(cls: type, **attributes: tuple[str, object]) -> ElementSpec:
    return ElementSpec(
        cls,
        required=("id",),
        attributes={**ACTIVITY_ATTRIBUTES, "triggeredByEvent": ("triggered_by_event", boolean), **attributes},
        children={
            **ACTIVITY_CHILDREN,
            **CONTAINER_CHILDREN,
            bpmn("completionCondition"): _completion_condition,
        },
        fallback=CONTAINER_FALLBACK,
    )


_SUB_PROCESSES = {
    "subProcess": _sub_process_spec(SubProcess),
    "transaction": _sub_process_spec(Transaction),
    "adHocSubProcess": _sub_process_spec(AdHocSubProcess, ordering=("ordering", text)),
}

for _local, _spec in _SUB_PROCESSES.items():
    registry.flow_reader(Category.NODE, bpmn(_local))(reader_for(_spec))


@registry.writer(SubProcess, Transaction, AdHocSubProcess)
def _write_sub_process(sub: SubProcess, context: WriteContext) -> Node:
    attributes = [
        *activity_attributes(sub),
        ("triggeredByEvent", flag(True) if sub.triggered_by_event else None),
    ]
    children = activity_children(sub, context) + container_children(sub, context)
    if isinstance(sub, AdHocSubProcess):
        attributes.append(("ordering", sub.ordering))
        if sub.completion_condition is not None:
            children.append(expression("completionCondition", sub.completion_condition))
    return element(sub.KIND.value, sub, attributes, children, apg_extensions(sub))
