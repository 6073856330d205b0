"""Reader fixes found by the third-party execution corpus (tests/conformance/thirdparty)."""

from __future__ import annotations

from apg_workflow.formats.bpmn import read_bpmn, write_bpmn
from apg_workflow.model import Assignment, DataMapping, Definitions, Expression, MultiInstance

_HEAD = (
    '<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" '
    'xmlns:flowable="http://flowable.org/bpmn" id="d" targetNamespace="urn:x">'
)


def _read(process_body: str) -> Definitions:
    return read_bpmn(f'{_HEAD}<process id="p" isExecutable="true">{process_body}</process></definitions>')


def _round_trips(definitions: Definitions) -> None:
    """Writing and reading again gives the same process (the writer adds a layout, hence not ``==``)."""
    assert read_bpmn(write_bpmn(definitions)).process("p") == definitions.process("p")


def test_flowable_attributes_map_like_their_camunda_and_activiti_twins() -> None:
    definitions = _read(
        '<userTask id="review" flowable:assignee="${initiator}" flowable:candidateGroups="a, b">'
        '<multiInstanceLoopCharacteristics isSequential="true" flowable:collection="myCollection" '
        'flowable:elementVariable="myElement"/></userTask>'
        '<callActivity id="call" calledElement="child"><extensionElements>'
        '<flowable:in source="parentVar" target="childVar"/><flowable:out source="result" target="answer"/>'
        "</extensionElements></callActivity>"
    )
    process = definitions.process("p")
    review = process.node("review")
    assert review.assignment == Assignment(assignee="${initiator}", candidate_groups=("a", "b"))
    assert review.loop == MultiInstance(
        sequential=True, input_collection=Expression("myCollection"), input_element="myElement"
    )
    call = process.node("call")
    assert call.inputs == (DataMapping("childVar", Expression("parentVar")),)
    assert call.outputs == (DataMapping("answer", Expression("result")),)
    _round_trips(definitions)


def test_a_name_only_input_data_item_names_the_element_variable() -> None:
    definitions = _read(
        '<userTask id="t"><multiInstanceLoopCharacteristics isSequential="true">'
        '<loopDataInputRef>taskUserList</loopDataInputRef><inputDataItem name="taskUser"/>'
        "</multiInstanceLoopCharacteristics></userTask>"
    )
    loop = definitions.process("p").node("t").loop
    assert isinstance(loop, MultiInstance)
    assert (loop.input_collection, loop.input_element) == (Expression("taskUserList"), "taskUser")
    _round_trips(definitions)


def test_spiff_data_items_with_a_label_name_use_their_id_and_stay_preserved() -> None:
    definitions = _read(
        '<task id="t"><multiInstanceLoopCharacteristics><loopDataInputRef>input_data</loopDataInputRef>'
        "<loopDataOutputRef>output_data</loopDataOutputRef>"
        '<inputDataItem id="input_item" name="input item"/>'
        '<outputDataItem id="output_item" name="output item"/>'
        "</multiInstanceLoopCharacteristics></task>"
    )
    loop = definitions.process("p").node("t").loop
    assert isinstance(loop, MultiInstance)
    assert (loop.input_element, loop.output_collection, loop.output_element) == (
        "input_item",
        "output_data",
        Expression("output_item"),
    )
    written = write_bpmn(definitions)
    assert 'name="input item"' in written and 'name="output item"' in written
    _round_trips(definitions)
