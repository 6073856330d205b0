"""Loop characteristics of activities: standard loops and multi-instance.

Multi-instance data (collection, element variable, output) has no plain BPMN form: the writer
writes ``apg:multiInstance``. The reader also takes SpiffWorkflow's ``loopDataInputRef`` /
``inputDataItem`` / ``loopDataOutputRef`` / ``outputDataItem`` (the item's id is the variable, or
its name when it has no id, as Flowable writes it), Camunda 7's ``camunda:collection`` /
``camunda:elementVariable`` and Zeebe's ``zeebe:loopCharacteristics`` (see :mod:`.extensions`).
"""

from __future__ import annotations

from lxml import etree

from apg_workflow.formats.bpmn.extensions.apg import multi_instance_extension
from apg_workflow.formats.bpmn.formal_expressions import read_expression
from apg_workflow.formats.bpmn.namespaces import bpmn
from apg_workflow.formats.bpmn.reading import (
    ChildHandler,
    Draft,
    ElementSpec,
    ReadContext,
    boolean,
    child_text,
    integer,
    read_element,
)
from apg_workflow.formats.bpmn.writing import compose, expression, optional_flag
from apg_workflow.formats.bpmn.xmlout import Node
from apg_workflow.model import Expression, LoopCharacteristics, MultiInstance, StandardLoop


def _expression_field(name: str) -> ChildHandler:
    def read(child: etree._Element, draft: Draft, context: ReadContext) -> bool:
        return draft.offer(name, read_expression(child, context))

    return read


def _data_item(child: etree._Element) -> tuple[str | None, bool]:
    """The variable a multi-instance data item names, and whether the element says nothing more.

    SpiffWorkflow names the variable by the item's id (``<inputDataItem id="item" name="an item"/>``,
    the name being a label); Flowable and Activiti by its name (``<inputDataItem name="item"/>``).
    An element that says more than the variable stays preserved as well.
    """
    variable = child.get("id") or child.get("name")
    plain = set(child.attrib) <= {"id", "name"} and not len(child)
    return variable, plain and child.get("name", variable) == variable


def _input_collection(child: etree._Element, draft: Draft, context: ReadContext) -> bool:
    return (
        not len(child) and not child.attrib and draft.offer("input_collection", Expression(child_text(child)))
    )


def _output_collection(child: etree._Element, draft: Draft, context: ReadContext) -> bool:
    return not len(child) and not child.attrib and draft.offer("output_collection", child_text(child))


def _input_item(child: etree._Element, draft: Draft, context: ReadContext) -> bool:
    variable, simple = _data_item(child)
    return variable is not None and draft.offer("input_element", variable) and simple


def _output_item(child: etree._Element, draft: Draft, context: ReadContext) -> bool:
    variable, simple = _data_item(child)
    return variable is not None and draft.offer("output_element", Expression(variable)) and simple


_STANDARD = ElementSpec(
    StandardLoop,
    attributes={"testBefore": ("test_before", boolean), "loopMaximum": ("maximum", integer)},
    children={bpmn("loopCondition"): _expression_field("condition")},
)
_MULTI_INSTANCE = ElementSpec(
    MultiInstance,
    attributes={"isSequential": ("sequential", boolean)},
    children={
        bpmn("loopCardinality"): _expression_field("cardinality"),
        bpmn("completionCondition"): _expression_field("completion_condition"),
    },
    late={
        bpmn("loopDataInputRef"): _input_collection,
        bpmn("inputDataItem"): _input_item,
        bpmn("loopDataOutputRef"): _output_collection,
        bpmn("outputDataItem"): _output_item,
    },
)
_SPECS = {
    bpmn("standardLoopCharacteristics"): _STANDARD,
    bpmn("multiInstanceLoopCharacteristics"): _MULTI_INSTANCE,
}


def read_loop(child: etree._Element, draft: Draft, context: ReadContext) -> bool:
    """Child handler of activities for both loop elements."""
    return draft.free("loop") and draft.offer("loop", read_element(child, _SPECS[child.tag], context))


LOOP_CHILDREN = {tag: read_loop for tag in _SPECS}


def write_loop(loop: LoopCharacteristics) -> Node:
    if isinstance(loop, StandardLoop):
        attributes = [
            ("testBefore", optional_flag(loop.test_before, False)),
            ("loopMaximum", None if loop.maximum is None else str(loop.maximum)),
        ]
        condition = [] if loop.condition is None else [expression("loopCondition", loop.condition)]
        return compose(bpmn("standardLoopCharacteristics"), attributes, loop.preserved, children=condition)
    children = [
        expression(local, value)
        for local, value in (
            ("loopCardinality", loop.cardinality),
            ("completionCondition", loop.completion_condition),
        )
        if value is not None
    ]
    return compose(
        bpmn("multiInstanceLoopCharacteristics"),
        [("isSequential", optional_flag(loop.sequential, False))],
        loop.preserved,
        children=children,
        extensions=multi_instance_extension(loop),
    )
