"""Sequence flows, data elements (data objects and references) and artifacts (text annotations,
associations, groups)."""

from __future__ import annotations

from lxml import etree

from apg_workflow.formats.bpmn import registry
from apg_workflow.formats.bpmn.formal_expressions import read_expression
from apg_workflow.formats.bpmn.namespaces import bpmn
from apg_workflow.formats.bpmn.reading import (
    NAMED,
    Draft,
    ElementSpec,
    ReadContext,
    boolean,
    child_text,
    reader_for,
    reference,
    text,
)
from apg_workflow.formats.bpmn.registry import Category
from apg_workflow.formats.bpmn.writing import WriteContext, element, expression, optional_flag
from apg_workflow.formats.bpmn.xmlout import Node
from apg_workflow.model import (
    Association,
    DataObject,
    DataObjectReference,
    DataStoreReference,
    Group,
    SequenceFlow,
    TextAnnotation,
)


def _condition(child: etree._Element, draft: Draft, context: ReadContext) -> bool:
    return draft.offer("condition", read_expression(child, context))


def _annotation_text(child: etree._Element, draft: Draft, context: ReadContext) -> bool:
    return not len(child) and not child.attrib and draft.offer("text", child_text(child))


_SPECS: dict[str, tuple[Category, ElementSpec]] = {
    "sequenceFlow": (
        Category.FLOW,
        ElementSpec(
            SequenceFlow,
            required=("id", "sourceRef", "targetRef"),
            attributes={**NAMED, "sourceRef": ("source", reference), "targetRef": ("target", reference)},
            children={bpmn("conditionExpression"): _condition},
        ),
    ),
    "dataObject": (
        Category.DATA,
        ElementSpec(
            DataObject, required=("id",), attributes={**NAMED, "isCollection": ("is_collection", boolean)}
        ),
    ),
    "dataObjectReference": (
        Category.DATA,
        ElementSpec(
            DataObjectReference,
            required=("id",),
            attributes={**NAMED, "dataObjectRef": ("data_object_ref", reference)},
        ),
    ),
    "dataStoreReference": (
        Category.DATA,
        ElementSpec(
            DataStoreReference,
            required=("id",),
            attributes={**NAMED, "dataStoreRef": ("data_store_ref", reference)},
        ),
    ),
    "textAnnotation": (
        Category.ARTIFACT,
        ElementSpec(
            TextAnnotation, required=("id",), attributes=NAMED, children={bpmn("text"): _annotation_text}
        ),
    ),
    "association": (
        Category.ARTIFACT,
        ElementSpec(
            Association,
            required=("id", "sourceRef", "targetRef"),
            attributes={
                **NAMED,
                "sourceRef": ("source", reference),
                "targetRef": ("target", reference),
                "associationDirection": ("direction", text),
            },
        ),
    ),
    "group": (
        Category.ARTIFACT,
        ElementSpec(
            Group,
            required=("id",),
            attributes={**NAMED, "categoryValueRef": ("category_value_ref", reference)},
        ),
    ),
}

for _local, (_category, _spec) in _SPECS.items():
    registry.flow_reader(_category, bpmn(_local))(reader_for(_spec))

# The collaboration holds artifacts too.
ARTIFACT_READERS = {
    bpmn(local): reader_for(spec)
    for local, (category, spec) in _SPECS.items()
    if category is Category.ARTIFACT
}


@registry.writer(SequenceFlow)
def _write_sequence_flow(flow: SequenceFlow, context: WriteContext) -> Node:
    condition = [] if flow.condition is None else [expression("conditionExpression", flow.condition)]
    attributes = [("name", flow.name), ("sourceRef", flow.source), ("targetRef", flow.target)]
    return element("sequenceFlow", flow, attributes, condition)


@registry.writer(DataObject)
def _write_data_object(data: DataObject, context: WriteContext) -> Node:
    return element(
        "dataObject", data, [("name", data.name), ("isCollection", optional_flag(data.is_collection, False))]
    )


@registry.writer(DataObjectReference)
def _write_data_object_reference(data: DataObjectReference, context: WriteContext) -> Node:
    return element(
        "dataObjectReference", data, [("name", data.name), ("dataObjectRef", data.data_object_ref)]
    )


@registry.writer(DataStoreReference)
def _write_data_store_reference(data: DataStoreReference, context: WriteContext) -> Node:
    return element("dataStoreReference", data, [("name", data.name), ("dataStoreRef", data.data_store_ref)])


@registry.writer(TextAnnotation)
def _write_text_annotation(annotation: TextAnnotation, context: WriteContext) -> Node:
    body = [] if annotation.text is None else [Node(bpmn("text"), text=annotation.text)]
    return element("textAnnotation", annotation, [("name", annotation.name)], body)


@registry.writer(Association)
def _write_association(association: Association, context: WriteContext) -> Node:
    attributes = [
        ("name", association.name),
        ("sourceRef", association.source),
        ("targetRef", association.target),
        ("associationDirection", association.direction),
    ]
    return element("association", association, attributes)


@registry.writer(Group)
def _write_group(group: Group, context: WriteContext) -> Node:
    return element("group", group, [("name", group.name), ("categoryValueRef", group.category_value_ref)])
