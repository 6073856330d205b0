"""Mistakes in DSL sources are reported with a line, a column and words a person can act on."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apg_workflow.formats.dsl import read_dsl
from apg_workflow.formats.errors import FormatError
from apg_workflow.model import Problem


def problem(text: str) -> Problem:
    with pytest.raises(FormatError) as caught:
        read_dsl(text, source="flow.apg")
    (found,) = caught.value.problems
    assert found.source == "flow.apg"
    return found


def at(found: Problem) -> tuple[int | None, int | None]:
    return found.line, found.column


def test_a_misspelt_keyword_names_the_place_the_word_and_the_keyword_meant() -> None:
    found = problem('WORKFLOW "Onboarding"\n  START\n  USERTASK "Complete Forms"\n')
    assert at(found) == (3, 3)
    assert "USERTASK" in found.message
    assert "Did you mean USER_TASK?" in found.message
    assert "expected" in found.message and "START" in found.message
    assert "__" not in found.message and "_NL" not in found.message  # no grammar jargon
    assert str(found).startswith("error: flow.apg: line 3, column 3:")


def test_a_keyword_in_lower_case_is_pointed_out() -> None:
    found = problem("WORKFLOW\n  user_task review\n")
    assert at(found) == (2, 3)
    assert "capitals: USER_TASK" in found.message


def test_a_dedent_that_matches_no_block_is_bad_indentation() -> None:
    found = problem('WORKFLOW\n    START\n      description: "x"\n  END\n')
    assert at(found) == (4, 3)
    assert "indentation" in found.message and "4 or 0" in found.message


def test_an_unexpected_indented_line_is_reported() -> None:
    found = problem('WORKFLOW\n  START\n    description: "x"\n      TASK\n')
    assert at(found) == (4, 7)
    assert "unexpected indentation" in found.message


def test_tabs_in_indentation_are_refused() -> None:
    found = problem("WORKFLOW\n\tSTART\n")
    assert at(found) == (2, 1)
    assert "tabs" in found.message


def test_an_unknown_property_suggests_the_closest_one() -> None:
    found = problem('WORKFLOW\n  USER_TASK "Review"\n    durration: "2h"\n')
    assert at(found) == (3, 5)
    assert "unknown property 'durration' for USER_TASK" in found.message
    assert "did you mean 'duration'?" in found.message


def test_a_property_of_another_kind_of_element_is_unknown_here() -> None:
    found = problem('WORKFLOW\n  START\n    assignee: "bob"\n')
    assert "unknown property 'assignee' for START" in found.message


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ('retry: "three"', "retry must be a number of attempts"),
        ("priority: high", "priority must be a whole number, not high"),
        ('compensation: "yes"', "compensation must be true or false"),
        ('sla: "soon"', "sla must be a duration"),
        ("candidate_groups: [hr, 3]", "must be a text"),
        ("retry:\n      max_attempt: 3", "for retry:; did you mean 'max_attempts'?"),
        ('form: feel "x"', "form must be a text"),
    ],
)
def test_a_property_of_the_wrong_type_says_what_it_must_be(line: str, expected: str) -> None:
    found = problem(f"WORKFLOW\n  USER_TASK t\n    {line}\n")
    assert found.line == 3 + line.count("\n")
    assert expected in found.message


def test_two_properties_that_set_the_same_thing_are_refused() -> None:
    found = problem('WORKFLOW\n  USER_TASK t "T"\n    duration: "2h"\n    due: "PT3H"\n    name: "U"\n')
    assert at(found) == (4, 5)
    assert "'due' repeats what 'duration' already sets" in found.message


def test_a_flow_to_an_unknown_id_is_located_and_suggests_a_known_one() -> None:
    found = problem("WORKFLOW\n  START start\n  TASK review\n  FLOW start -> reveiw\n")
    assert at(found) == (4, 17)
    assert "reveiw" in found.message and "did you mean 'review'?" in found.message
    assert found.element_id == "reveiw"


def test_a_jump_to_an_unknown_id_is_reported() -> None:
    found = problem("WORKFLOW\n  START s -> nowhere\n")
    assert at(found) == (2, 14)
    assert "no such element" in found.message


def test_a_flow_cannot_cross_into_a_sub_process() -> None:
    found = problem("WORKFLOW\n  START s\n  SUBPROCESS sub\n    TASK inner\n  FLOW s -> inner\n")
    assert found.line == 5
    assert "cannot cross" in found.message


def test_duplicate_ids_name_both_lines() -> None:
    found = problem("WORKFLOW\n  START a\n  TASK b\n  END a\n")
    assert at(found) == (4, 3)
    assert "'a' is used twice: first on line 2" in found.message


def test_an_unclosed_string_is_reported_where_it_starts() -> None:
    found = problem('WORKFLOW\n  START "Begin\n')
    assert at(found) == (2, 9)
    assert 'no closing "' in found.message


def test_a_bad_escape_is_reported_at_the_backslash() -> None:
    found = problem('WORKFLOW\n  START "a\\qb"\n')
    assert at(found) == (2, 11)
    assert "not an escape" in found.message


def test_misplaced_statements_say_where_they_belong() -> None:
    assert "inside a DECISION" in problem('WORKFLOW\n  WHEN "x" -> y\n').message
    assert "inside a WORKFLOW" in problem("START\n").message
    assert "at the top of the file" in problem('WORKFLOW\n  MESSAGE m "M"\n').message
    assert "indented under the statement" in problem('description: "x"\n').message
    assert "cannot contain TASK" in problem("WORKFLOW\n  USER_TASK a\n    TASK b\n").message
    assert "only events" in problem('WORKFLOW\n  TASK a TIMER "1h"\n').message
    assert "attached_to" in problem('WORKFLOW\n  ON TIMER "1h"\n').message
    assert "to an activity" in problem('WORKFLOW\n  START s\n    ON TIMER "1h"\n').message


def test_decision_blocks_check_their_branches() -> None:
    assert "only WHEN, BRANCH and OTHERWISE" in problem("WORKFLOW\n  DECISION d:\n    TASK t\n").message
    assert "no condition" in problem('WORKFLOW\n  PARALLEL:\n    BRANCH "x":\n      TASK t\n').message
    assert (
        "one OTHERWISE at most"
        in problem('WORKFLOW\n  DECISION d:\n    WHEN "a" -> d\n    OTHERWISE\n    OTHERWISE\n').message
    )
    assert "needs '-> target'" in problem('WORKFLOW\n  DECISION d:\n    WHEN "a"\n').message
    assert "needs branches" in problem("WORKFLOW\n  DECISION d\n").message
    assert (
        "OTHERWISE makes the default"
        in problem("WORKFLOW\n  DECISION d:\n    default: x\n    OTHERWISE\n  END x\n").message
    )


def test_default_markers_must_leave_a_gateway_or_activity() -> None:
    found = problem("WORKFLOW\n  flows: explicit\n  START s\n  END e\n  FLOW s -> e DEFAULT\n")
    assert found.line == 5 and "DEFAULT" in found.message
    found = problem("WORKFLOW\n  EXCLUSIVE_GATEWAY g\n    default: nope\n  END e\n")
    assert found.line == 3 and "default flow 'nope'" in found.message


def test_mixing_or_and_and_between_triggers_is_refused() -> None:
    found = problem('WORKFLOW\n  START MESSAGE a OR SIGNAL b AND TIMER "1h"\n')
    assert at(found) == (2, 19)


def test_config_needs_a_component() -> None:
    assert "needs a component" in problem("WORKFLOW\n  SERVICE_TASK s\n    config: {a: 1}\n").message


_KEYWORDS = ["WORKFLOW", "START", "END", "USER_TASK", "DECISION", "WHEN", "OTHERWISE", "FLOW", "ON", "TIMER"]
_PUNCTUATION = ['"x"', "a", "->", ":", "duration:", "|", "{", "}", "[", "]", ",", " ", "#", "`"]
_PIECES = st.sampled_from([*_KEYWORDS, *_PUNCTUATION, "\n", "\n  ", "\n    "])


@settings(max_examples=300, deadline=None)
@given(st.lists(_PIECES, max_size=30).map("".join))
def test_any_text_either_reads_or_fails_with_a_located_format_error(text: str) -> None:
    try:
        read_dsl(text)
    except FormatError as exc:
        assert exc.problems and exc.problems[0].message
