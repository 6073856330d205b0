"""Writing the APG DSL: any model reads back exactly, in the most readable form that allows."""

from __future__ import annotations

import re
import time

import pytest
from hypothesis import HealthCheck, given, settings

from apg_workflow import model as m
from apg_workflow.formats.dsl import read_dsl, write_dsl
from apg_workflow.formats.errors import FormatError
from tests.conftest import ROOT
from tests.strategies import definitions

ARCHITECTURE_EXAMPLE = """\
WORKFLOW "Employee Onboarding"
  START "New Employee"
  USER_TASK "Complete Forms"
    duration: "2h"
    sla: "4h"
  END "Complete"
"""


def again(model: m.Definitions) -> m.Definitions:
    return read_dsl(write_dsl(model))


def flow(source: str, target: str, flow_id: str | None = None, **fields: object) -> m.SequenceFlow:
    return m.SequenceFlow(id=flow_id or f"Flow_{source}_{target}", source=source, target=target, **fields)


def one_process(*nodes: m.FlowNode, flows: tuple[m.SequenceFlow, ...] = ()) -> m.Definitions:
    return m.Definitions(processes=(m.Process(id="p", nodes=nodes, flows=flows),))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(model=definitions())
def test_random_models_read_back_exactly_and_write_the_same_text_again(model: m.Definitions) -> None:
    text = write_dsl(model)
    assert read_dsl(text) == model
    assert write_dsl(read_dsl(text)) == text


def test_a_simple_sequence_is_written_as_steps_without_ids_or_flows() -> None:
    assert write_dsl(read_dsl(ARCHITECTURE_EXAMPLE)) == ARCHITECTURE_EXAMPLE


def test_a_graph_that_is_not_a_sequence_is_written_with_explicit_flows() -> None:
    model = one_process(
        m.StartEvent(id="s1"),
        m.StartEvent(id="s2"),
        m.ExclusiveGateway(id="g", name="Which?", default="f_b"),
        m.Task(id="a"),
        m.Task(id="b"),
        m.EndEvent(id="e"),
        flows=(
            flow("s1", "g"),
            flow("s2", "b"),
            flow("g", "b", "f_b", name="No"),
            flow("g", "a", condition=m.Expression("x > 1", "feel")),
            flow("a", "g"),  # back to an earlier element
            flow("b", "e"),
        ),
    )
    text = write_dsl(model)
    assert "  flows: explicit\n" in text
    assert '  FLOW f_b "No": g -> b DEFAULT\n' in text
    assert '  FLOW g -> a WHEN feel "x > 1"\n' in text
    assert "default:" not in text
    assert again(model) == model


def test_flows_the_sequence_does_not_make_are_written_where_the_reader_creates_them() -> None:
    model = one_process(
        m.StartEvent(id="s"),
        m.UserTask(id="review"),
        m.Task(id="fix"),
        m.EndEvent(id="e"),
        flows=(flow("s", "review"), flow("fix", "review", "back"), flow("review", "fix"), flow("fix", "e")),
    )
    text = write_dsl(model)
    assert "flows: explicit" not in text
    assert text.index("FLOW back: fix -> review") < text.index("TASK fix")
    assert again(model) == model


def test_a_default_flow_made_by_the_sequence_is_named_by_a_property() -> None:
    model = one_process(
        m.ExclusiveGateway(id="g", default="Flow_g_e"), m.EndEvent(id="e"), flows=(flow("g", "e"),)
    )
    assert "    default: Flow_g_e\n" in write_dsl(model)
    assert again(model) == model


def test_boundary_events_are_written_under_their_activity_when_they_follow_it() -> None:
    timer = m.TimerDefinition(timer=m.TimerKind.DURATION, expression=m.Expression("PT1H"))
    model = one_process(
        m.UserTask(id="review"),
        m.BoundaryEvent(id="late", attached_to="review", cancel_activity=False, definitions=(timer,)),
        m.EndEvent(id="e"),
        m.BoundaryEvent(id="failed", attached_to="review", definitions=(m.ErrorDefinition(),)),
        flows=(flow("review", "e"), flow("late", "e")),
    )
    text = write_dsl(model)
    assert '\n    ON late TIMER "1h"\n      interrupting: false\n' in text
    assert "\n  ON failed ERROR\n    attached_to: review\n" in text
    assert again(model) == model


def test_durations_are_friendly_only_when_they_read_back_the_same() -> None:
    model = one_process(
        m.UserTask(id="a", due="PT90M", sla="P1DT2H"),
        m.UserTask(id="b", due="P1Y", sla="PT1H30M"),
        m.UserTask(id="c", due="${deadline}"),
        flows=(flow("a", "b"), flow("b", "c")),
    )
    text = write_dsl(model)
    assert 'duration: "PT90M"' in text and 'sla: "1d 2h"' in text
    assert 'duration: "P1Y"' in text and 'sla: "1h 30m"' in text
    assert 'due: "${deadline}"' in text
    assert again(model) == model


def test_text_over_several_lines_is_written_as_a_block_when_that_is_exact() -> None:
    script = m.Script("total = 0\nfor x in items:\n    total += x\n", "python")
    model = one_process(
        m.ScriptTask(id="a", script=script, documentation="First line.\nSecond line."),
        m.ScriptTask(id="b", script=m.Script("  indented first line\nnext"), documentation="trailing\n\n"),
        flows=(flow("a", "b"),),
    )
    text = write_dsl(model)
    assert "    script: python |\n      total = 0\n      for x in items:\n          total += x\n" in text
    assert "    description: |-\n      First line.\n      Second line.\n" in text
    assert '    script: "  indented first line\\nnext"\n' in text
    assert again(model) == model


def test_odd_ids_names_and_languages_survive() -> None:
    model = one_process(
        m.Task(id="END", name='Say "hi"\t#1'),
        m.Task(id="a b", name=""),
        m.Task(id="true", inputs=(m.DataMapping("Total Amount", m.Expression("x", "weird lang")),)),
        flows=(flow("END", "a b", "`f`"), flow("a b", "true", condition=m.Expression("", ""))),
    )
    text = write_dsl(model)
    assert 'TASK `END` "Say \\"hi\\"\\t#1"' in text
    assert again(model) == model


def test_component_config_with_any_keys_and_values_survives() -> None:
    config = {
        "true": 1,
        "null": None,
        "END": 2,
        "a b": 3,
        "": 4,
        "nested": {"x": [1, {"y": "multi\nline"}], "z": {}},
        "text": "two\nlines",
        "numbers": [1e16, -0.5, 2.0],
        "empty": [],
    }
    model = one_process(
        m.ServiceTask(id="s", component=m.ComponentRef(type="http.request", config=m.freeze(config))),
        m.UserTask(id="u", assignment=m.Assignment(assignee="", candidate_groups=("a b", "END")), due="2h"),
        flows=(flow("s", "u", ""),),
    )
    text = write_dsl(model)
    assert '      "a b": 3\n' in text and "      text: |-\n        two\n        lines\n" in text
    assert again(model) == model


def test_an_element_the_model_does_not_know_is_refused_with_a_format_error() -> None:
    model = one_process(
        m.UnsupportedNode(id="c1", tag="{http://www.omg.org/spec/BPMN/20100524/MODEL}choreographyTask")
    )
    with pytest.raises(FormatError, match=r"'c1'.*no form in the DSL"):
        write_dsl(model)


def test_definition_level_details_are_written() -> None:
    model = m.Definitions(
        id="defs",
        name="Sales",
        documentation="All sales processes.",
        target_namespace="https://example.com/sales",
        processes=(m.Process(id="p", name="P", is_executable=False, version_tag="v2"),),
        messages=(m.Message(id="m1", name="Paid", item_ref="payment"),),
        signals=(m.Signal(id="Stop", name="Stop"),),
        errors=(m.Error(id="e1", error_code="E-1"),),
        escalations=(m.Escalation(id="x1", name="Late", escalation_code="LATE"),),
    )
    text = write_dsl(model)
    assert text.startswith('WORKFLOW p "P"\n  executable: false\n  version_tag: "v2"\n')
    assert 'SIGNAL "Stop"\n' in text
    assert again(model) == model


def test_the_example_files_and_the_documented_example_round_trip() -> None:
    sources = [path.read_text(encoding="utf-8") for path in sorted((ROOT / "examples").glob("*.apg"))]
    docs = (ROOT / "docs" / "formats.md").read_text(encoding="utf-8")
    section = docs[docs.index("<!-- section:dsl -->") : docs.index("<!-- /section:dsl -->")]
    sources += re.findall(r"<!-- example -->\s*\n```text\n(.*?)\n```", section, re.DOTALL)
    assert len(sources) >= 2
    for source in sources:
        model = read_dsl(source)
        assert model.processes and again(model) == model


def test_a_two_thousand_line_file_parses_in_well_under_two_seconds() -> None:
    step = (
        '  USER_TASK review_{i} "Review {i}"\n'
        '    duration: "2h"\n'
        "    candidate_groups: [hr, it]\n"
        '  SERVICE_TASK call_{i} "Call {i}"\n'
        "    component: http.request\n"
        '    config: {{"url": "https://example.com/{i}", "retries": [1, 2]}}\n'
        '  DECISION check_{i} "OK {i}?":\n'
        '    WHEN feel "= ok" -> review_{i}\n'
        "    OTHERWISE\n"
        "  FLOW review_{i} -> check_{i}\n"
    )
    text = 'WORKFLOW big "Big"\n  START\n' + "".join(step.format(i=i) for i in range(200)) + "  END\n"
    assert text.count("\n") >= 2000
    read_dsl(text)  # the grammar is built once per process; measure parsing itself
    started = time.perf_counter()
    model = read_dsl(text)
    assert time.perf_counter() - started < 2.0
    assert len(model.main_process.nodes) == 2 + 3 * 200  # no join: one branch jumps back
