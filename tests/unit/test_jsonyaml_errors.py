"""Bad JSON and YAML definitions: every problem is a FormatError that names the path and, from text,
the line and column where it is written."""

from __future__ import annotations

import time

import pytest

from apg_workflow.formats.errors import FormatError
from apg_workflow.formats.jsonyaml import definitions_from_dict, read_json, read_yaml
from apg_workflow.model import Problem


def problems_of(text: str, fmt: str = "json") -> tuple[Problem, ...]:
    reader = read_json if fmt == "json" else read_yaml
    with pytest.raises(FormatError) as caught:
        reader(text, source=f"order.{fmt}")
    assert caught.value.format == fmt
    return caught.value.problems


def only_problem(text: str, fmt: str = "json") -> Problem:
    problems = problems_of(text, fmt)
    assert len(problems) == 1, problems
    return problems[0]


def where(problem: Problem) -> tuple[int | None, int | None]:
    return problem.line, problem.column


# JSON and YAML syntax ------------------------------------------------------------------------------


def test_json_syntax_error_has_line_and_column() -> None:
    problem = only_problem('{\n  "name": "Order",\n  "activities": [\n    {"type": "startEvent",}\n  ]\n}')
    assert problem.code == "syntax"
    assert where(problem) == (4, 27)
    assert problem.message.startswith("invalid JSON: Expecting property name")
    assert str(problem).startswith("error: order.json: line 4, column 27:")


def test_yaml_syntax_error_has_line_and_column() -> None:
    problem = only_problem("name: Order\nactivities:\n  - type: startEvent\n    name: [unclosed\n", "yaml")
    assert problem.code == "syntax"
    assert problem.line == 5
    assert "invalid YAML" in problem.message


def test_yaml_bad_indentation_is_located() -> None:
    problem = only_problem("name: Order\nactivities:\n  - type: startEvent\n   name: Start\n", "yaml")
    assert problem.line == 4


@pytest.mark.parametrize(
    ("text", "fmt", "line"),
    [('{"name": "a",\n "name": "b"}', "json", 2), ("name: a\nactivities: []\nname: b\n", "yaml", 3)],
)
def test_duplicate_keys_are_refused(text: str, fmt: str, line: int) -> None:
    problem = only_problem(text, fmt)
    assert problem.line == line
    assert "duplicate key 'name'" in problem.message


def test_empty_or_non_object_documents() -> None:
    assert "empty" in only_problem("# nothing here\n", "yaml").message
    assert only_problem("[1, 2]").message == (
        "expected an object with 'name', 'activities' and 'flows' (or 'processes'), got a list"
    )


# YAML safety -------------------------------------------------------------------------------------

BILLION_LAUGHS = "\n".join(
    [
        'a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]',
        *(f"{x}: &{x} [{', '.join([f'*{p}'] * 9)}]" for p, x in zip("abcdefgh", "bcdefghi", strict=True)),
    ]
)


def test_yaml_alias_bomb_is_refused_fast() -> None:
    started = time.perf_counter()
    problem = only_problem(BILLION_LAUGHS, "yaml")
    assert time.perf_counter() - started < 1.0
    assert "alias bomb" in problem.message
    assert problem.line is not None


def test_yaml_recursive_alias_is_refused() -> None:
    problem = only_problem("name: &n [x, *n]\n", "yaml")
    assert "recursive" in problem.message


def test_yaml_aliases_for_sharing_are_fine() -> None:
    definitions = read_yaml(
        "activities:\n"
        "  - {id: a, type: serviceTask, component: http.request, retry: &retry {max_attempts: 5}}\n"
        "  - {id: b, type: serviceTask, component: http.request, retry: *retry}\n"
    )
    a, b = definitions.main_process.nodes
    assert getattr(a, "retry", None) == getattr(b, "retry", None)


@pytest.mark.parametrize(
    "text",
    [
        "!!python/object/apply:os.system ['echo pwned']\n",
        "name: !!python/name:os.system\n",
        "name: !!binary aGVsbG8=\n",
        "name: !!set {a, b}\n",
    ],
)
def test_yaml_builds_no_python_objects(text: str) -> None:
    problem = only_problem(text, "yaml")
    assert problem.line == 1
    assert "tag" in problem.message


# Shapes and types --------------------------------------------------------------------------------

WRONG_TYPE = """{
  "name": "Order",
  "activities": [
    {"type": "startEvent"},
    {"type": "userTask", "name": "Review"},
    {"type": "serviceTask", "retry": {"max_attempts": "three"}}
  ]
}"""


def test_wrong_type_names_path_and_line() -> None:
    problem = only_problem(WRONG_TYPE)
    assert problem.message == 'activities[2].retry.max_attempts: expected an integer, got "three"'
    assert where(problem) == (6, 55)
    assert problem.code == "schema"


def test_wrong_type_in_yaml_names_path_and_line() -> None:
    text = "name: Order\nactivities:\n  - type: userTask\n    priority: high\n"
    problem = only_problem(text, "yaml")
    assert problem.message == 'activities[0].priority: expected an integer, got "high"'
    assert where(problem) == (4, 15)


def test_numbers_are_not_taken_for_expressions() -> None:
    problem = only_problem("activities:\n  - type: task\n    inputs: {limit: 3}\n", "yaml")
    assert problem.message == (
        "activities[0].inputs.limit: expected an expression: a string, or an object {expression, language}, "
        "got 3"
    )
    assert problem.line == 3


def test_unknown_key_is_an_error_with_a_suggestion() -> None:
    problem = only_problem('{"activities": [{"type": "serviceTask",\n "retyr": 3}]}')
    assert problem.message == "activities[0].retyr: unknown key 'retyr' (did you mean 'retry'?)"
    assert where(problem) == (2, 2)


def test_key_of_another_element_type_says_whose_it_is() -> None:
    problem = only_problem("activities:\n  - type: userTask\n    script: print(1)\n", "yaml")
    assert problem.message == "activities[0].script: a userTask has no 'script' (that is a key of scriptTask)"
    assert where(problem) == (3, 5)


def test_unknown_key_outside_activities_is_suggested_too() -> None:
    problem = only_problem("flows:\n  - {from: a, to: b, conditon: x}\n", "yaml")
    assert problem.message == "flows[0].conditon: unknown key 'conditon' (did you mean 'condition'?)"


def test_unknown_type_suggests_the_type_meant() -> None:
    problem = only_problem('{"activities": [{"type": "startEvent"}, {"type": "UserTask"}]}')
    assert problem.message == "activities[1].type: unknown type 'UserTask' (did you mean 'userTask'?)"
    assert problem.code == "unknown-type"
    assert where(problem) == (1, 50)


def test_unknown_type_without_a_close_one_lists_the_types() -> None:
    problem = only_problem('{"activities": [{"type": "xyz"}]}')
    assert "unknown type 'xyz'; the types of activities are startEvent, endEvent" in problem.message


def test_missing_type_and_unknown_trigger_type() -> None:
    problems = problems_of(
        "activities:\n  - name: A\n  - type: startEvent\n    triggers: [{type: timr}]\n", "yaml"
    )
    assert [p.message for p in problems] == [
        "activities[0]: missing required key 'type' (startEvent, endEvent, intermediateCatchEvent, "
        "intermediateThrowEvent, boundaryEvent, task, …)",
        "activities[1].triggers[0].type: unknown type 'timr' (did you mean 'timer'?)",
    ]


def test_flags_and_timer_shapes() -> None:
    problems = problems_of(
        "activities:\n"
        "  - {type: endEvent, terminate: false}\n"
        "  - {type: intermediateCatchEvent, timer: {duration: PT1M, cycle: R/PT1M}}\n",
        "yaml",
    )
    assert [(p.line, p.message) for p in problems] == [
        (2, "activities[0].terminate: expected true (or leave the key out), got false"),
        (3, "activities[1].timer: a timer takes exactly one of duration, date and cycle"),
    ]


def test_several_problems_are_reported_together_in_file_order() -> None:
    text = (
        "activities:\n"
        "  - {type: serviceTask, retry: 0}\n"
        "  - {type: userTask, candidate_groups: 3}\n"
        "flows:\n"
        "  - {from: a}\n"
    )
    problems = problems_of(text, "yaml")
    assert [(p.line, p.message) for p in problems] == [
        (2, "activities[0].retry: expected a number ≥ 1, got 0"),
        (3, "activities[1].candidate_groups: expected a name or a list of names, got 3"),
        (5, "flows[0]: missing required key 'to'"),
    ]


# Meaning -----------------------------------------------------------------------------------------

FLOW_TO_UNKNOWN = """name: Order
activities:
  - {id: start, type: startEvent}
  - {id: ship, type: userTask, name: Ship parcel}
flows:
  - {from: start, to: shp}
"""


def test_flow_to_an_unknown_element() -> None:
    problem = only_problem(FLOW_TO_UNKNOWN, "yaml")
    assert problem.message == "flows[0].to: no element 'shp' in this process (did you mean 'ship'?)"
    assert problem.code == "reference"
    assert where(problem) == (6, 23)


def test_flow_to_an_ambiguous_name() -> None:
    text = (
        "activities:\n  - {type: task, id: a, name: Same}\n  - {type: task, id: b, name: Same}\n"
        "flows:\n  - {from: a, to: Same}\n"
    )
    assert "several elements are named 'Same' (a, b)" in only_problem(text, "yaml").message


def test_flows_do_not_cross_sub_process_borders() -> None:
    text = (
        '{"activities": [{"id": "outer", "type": "task"}, {"id": "sub", "type": "subProcess",\n'
        '  "activities": [{"id": "inner", "type": "task"}], "flows": [{"from": "inner", "to": "outer"}]}]}'
    )
    problem = only_problem(text)
    assert problem.message == "activities[1].flows[0].to: no element 'outer' in this sub-process"
    assert problem.line == 2


def test_duplicate_ids() -> None:
    text = '{"activities": [{"id": "a", "type": "task"},\n {"id": "a", "type": "endEvent"}]}'
    problem = only_problem(text)
    assert problem.message == "activities[1].id: duplicate id 'a' (also used at activities[0])"
    assert (problem.code, problem.line) == ("duplicate-id", 2)


def test_boundary_event_on_unknown_activity() -> None:
    text = (
        "activities:\n  - {id: work, type: task}\n"
        "  - {id: b, type: boundaryEvent, attached_to: wrok, timer: {duration: 1h}}\n"
    )
    problem = only_problem(text, "yaml")
    assert (
        problem.message
        == "activities[1].attached_to: no element 'wrok' in this process (did you mean 'work'?)"
    )
    assert problem.element_id == "b"


@pytest.mark.parametrize(
    ("activities", "flows", "message"),
    [
        (
            "[{id: g, type: parallelGateway}, {id: e, type: endEvent}]",
            "[{from: g, to: e, default: true}]",
            "flows[0].default: 'g' is a parallelGateway, which has no default flow",
        ),
        (
            "[{id: g, type: exclusiveGateway, default: f9}, {id: e, type: endEvent}]",
            "[{id: f1, from: g, to: e}]",
            "activities[0].default: no flow 'f9' in this process",
        ),
        (
            "[{id: g, type: exclusiveGateway, default: f1}, {id: e, type: endEvent}]",
            "[{id: f1, from: e, to: g}]",
            "activities[0].default: flow 'f1' does not leave 'g' (it leaves 'e')",
        ),
        (
            "[{id: g, type: exclusiveGateway}, {id: e, type: endEvent}]",
            "[{from: g, to: e, default: true}, {id: f2, from: g, to: e, default: true}]",
            "flows[1].default: 'g' has a default flow already ('Flow_g_e')",
        ),
    ],
)
def test_default_flow_problems(activities: str, flows: str, message: str) -> None:
    assert only_problem(f"activities: {activities}\nflows: {flows}\n", "yaml").message == message


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("{type: userTask, sla: soon}", "activities[0].sla: 'soon' is not a duration"),
        (
            "{type: task, loop: {}, multi_instance: {}}",
            "activities[0].multi_instance: an activity takes either",
        ),
        (
            "{type: serviceTask, component: {type: noop}, config: {}}",
            "activities[0].config: 'config' goes with",
        ),
        (
            "{type: scriptTask, script_format: python}",
            "activities[0].script_format: 'script_format' needs a 'script'",
        ),
        (
            "{type: startEvent, timer: {duration: PT1M}, triggers: []}",
            "activities[0].triggers: give the triggers",
        ),
    ],
)
def test_entry_problems(entry: str, message: str) -> None:
    problem = only_problem(f"activities:\n  - {entry}\n", "yaml")
    assert problem.message.startswith(message)
    assert problem.line == 2


def test_problems_from_a_dict_have_paths_but_no_lines() -> None:
    with pytest.raises(FormatError) as caught:
        definitions_from_dict({"activities": [{"type": "userTask", "due": 5}]})
    (problem,) = caught.value.problems
    assert problem.message == "activities[0].due: expected a string, got 5"
    assert problem.line is None


def test_yaml_booleans_as_keys_are_explained() -> None:
    problem = only_problem(
        "activities:\n  - type: serviceTask\n    component: noop\n    config: {on: 1}\n", "yaml"
    )
    assert problem.message == (
        "activities[0].config: keys must be text, got true (YAML reads yes, no, on and off as booleans): "
        "put the key in quotes"
    )
    assert problem.line == 4


def test_yaml_control_characters_are_located() -> None:
    problem = only_problem("name: a\x00b\n", "yaml")
    assert (problem.line, problem.column) == (1, 8)
    assert "U+0000" in problem.message
