"""Third-party BPMN and DMN files run through the CLI contract (tests/conformance/thirdparty).

Every file was written by another project (SpiffWorkflow's, Flowable's and Camunda's own test suites
and examples; see ``thirdparty/PROVENANCE.md``) and is stored unchanged. Each case runs
``apg-workflow run FILE [MORE_FILES…] --virtual-time --json`` and checks the JSON result against
what the source project's own test asserts (named in ``source``) or, where no test says, what BPMN
2.0 prescribes — never against what our engine happened to produce.

A loop or multi-instance activity appears in ``completed`` once per iteration and once as a whole
(:func:`loop`). A case the engine gets wrong is ``xfail(strict=True)`` with the precise cause
(``bug``), so that a fix shows up as an unexpected pass; the last tests are minimal reproductions
of engine bugs the corpus found, kept as regression tests once fixed.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from apg_workflow.cli import app

CORPUS = Path(__file__).resolve().parent / "thirdparty"
SPIFF = "spiffworkflow/bpmn/data"
SPIFF_EXT = "spiffworkflow/spiff/data"
FLOWABLE = "flowable"
CAMUNDA = "camunda-bpm-examples"

runner = CliRunner()


def loop(iterations: int) -> int:
    """How often a loop or multi-instance activity of ``iterations`` rounds is in ``completed``."""
    return iterations + 1


@dataclass(frozen=True)
class Case:
    """One run of third-party files and what its source says must come out."""

    id: str
    files: tuple[str, ...]
    source: str
    input: dict[str, Any] = field(default_factory=dict)
    tasks: dict[str, Any] = field(default_factory=dict)
    process: str | None = None
    status: str = "completed"
    variables: dict[str, Any] = field(default_factory=dict)  # a subset of the final variables
    missing: tuple[str, ...] = ()  # variables that must not be there
    completed: tuple[str, ...] | None = None  # the exact order of completed elements
    counts: dict[str, int] = field(default_factory=dict)  # element → times completed
    never: tuple[str, ...] = ()  # elements that must not complete
    active: tuple[str, ...] = ()  # elements that must still be active
    error: str | None = None  # a part of the failure message
    bug: str | None = None  # why our engine fails this case (an xfail)


def run(files: tuple[str, ...] | list[Path], *options: str) -> dict[str, Any]:
    paths = [str(f if isinstance(f, Path) else CORPUS / f) for f in files]
    result = runner.invoke(app, ["run", *paths, "--virtual-time", "--json", *options])
    lines = result.stdout.strip().splitlines()
    assert lines, f"no output (exit {result.exit_code}): {result.output}"
    summary: dict[str, Any] = json.loads(lines[-1])
    assert result.exit_code == (0 if summary["status"] in ("completed", "waiting") else 1)
    return summary


def validate(file: str) -> list[dict[str, Any]]:
    result = runner.invoke(app, ["validate", str(CORPUS / file), "--json"])
    problems: list[dict[str, Any]] = json.loads(result.stdout.strip().splitlines()[-1])["problems"]
    return problems


CASES = [
    # --- SpiffWorkflow: Python conditions and scripts as Spiff writes them -----------------------
    Case(
        "spiff-inclusive-default-only",
        (f"{SPIFF}/inclusive_gateway.bpmn",),
        "InclusiveGatewayTest.testDefaultConditionOnly",
        tasks={"set_data": {"v": -1, "u": -1, "w": -1}},
        variables={"v": 0, "u": -1, "w": -1},
        completed=("StartEvent_1", "set_data", "first", "increment_v", "second", "Event_05yg5je"),
    ),
    Case(
        "spiff-inclusive-parallel-condition",
        (f"{SPIFF}/inclusive_gateway.bpmn",),
        "InclusiveGatewayTest.testParallelCondition",
        tasks={"set_data": {"v": 0, "u": 1, "w": 1}},
        variables={"v": 0, "u": 1, "w": 1},
        counts={"u_plus_v": 1, "w_plus_v": 1, "second": 1, "Event_05yg5je": 1},
        never=("increment_v",),
    ),
    Case(
        "spiff-inclusive-no-path-from-second-gateway",
        (f"{SPIFF}/inclusive_gateway.bpmn",),
        "InclusiveGatewayTest.testNoPathFromSecondGateway (the gateway 'second' errors)",
        tasks={"set_data": {"v": 0, "u": -1, "w": -1}},
        status="failed",
        active=("second",),
        error="second",
    ),
    Case(
        "spiff-standard-loop-maximum",
        (f"{SPIFF}/standard_loop.bpmn",),
        "StandardLoopTest.testLoopMaximum (loopMaximum=3 with 'not done' true)",
        input={"done": False},
        counts={"any_task": loop(3)},
    ),
    Case(
        "spiff-standard-loop-test-before-skips",
        (f"{SPIFF}/standard_loop.bpmn",),
        "StandardLoopTest.testSkipLoop (testBefore with 'not done' false: no iteration)",
        input={"done": True},
        counts={"any_task": loop(0)},
        completed=("StartEvent_1", "any_task", "Event_1xk7z3g"),
    ),
    Case(
        "spiff-call-activity-across-files",
        (f"{SPIFF}/call_activity_end_event.bpmn", f"{SPIFF}/call_activity_call_activity.bpmn"),
        "CallActivityTest.test_data_persists_through_call_activity and "
        "test_call_activity_allows_removal_of_data",
        variables={"pre_var": "some string", "my_var": "World", "my_other_var": "Mike"},
        missing=("remove_this_var",),
        counts={"Sub_Bpmn_Task": 1, "Activity_12zat0d": 1, "Activity_1ta6769": 1},
    ),
    Case(
        "spiff-event-based-gateway-timer-wins",
        (f"{SPIFF}/event-gateway.bpmn",),
        "EventBasedGatewayTest.testTimeout (timer_event completed, both message events cancelled)",
        completed=("StartEvent_1", "Gateway_1dxbnbw", "Gateway_1434v9l", "timer_event", "timer_end"),
        never=("message_1_event", "message_2_event"),
    ),
    Case(
        "spiff-event-subprocess-started-by-own-signal",
        (f"{SPIFF}/event-subprocess.bpmn",),
        "EventSubprocessTest.testEventSubprocess (the signal thrown after set_data starts 'sub')",
        counts={"task": 1, "Event_17xen75": 1},
    ),
    Case(
        "spiff-non-interrupting-timer-on-user-task",
        (f"{SPIFF}/boundary_timer_on_task.bpmn",),
        "TimerDurationBoundaryOnTaskTest (the timer fires, the user task stays ready)",
        status="waiting",
        variables={"timer_called": True},
        counts={"Event_0y4hbl0": 1, "set_variable": 1},
        active=("user_task",),
        never=("final_end_event",),
    ),
    Case(
        "spiff-timer-boundary-dropped-when-task-completes",
        (f"{SPIFF}/boundary_timer_on_task.bpmn",),
        "BPMN: a boundary timer is cancelled with the activity it is attached to",
        tasks={"user_task": {}},
        variables={"timer_called": False},
        completed=("StartEvent_1", "Activity_0dzjjk3", "user_task", "final_end_event"),
        never=("Event_0y4hbl0", "set_variable"),
    ),
    Case(
        "spiff-exclusive-no-default-greater",
        (f"{SPIFF}/exclusive_gateway_no_default.bpmn",),
        "ExclusiveGatewayNoDefaultTest (x > 1 takes Flow_Greater1 to a terminate end)",
        input={"x": 2},
        completed=("StartEvent_1", "Gateway_CheckValue", "Activity_Greater", "Event_End"),
    ),
    Case(
        "spiff-exclusive-no-default-less",
        (f"{SPIFF}/exclusive_gateway_no_default.bpmn",),
        "ExclusiveGatewayNoDefaultTest (x < 1 takes Flow_Less1)",
        input={"x": 0},
        completed=("StartEvent_1", "Gateway_CheckValue", "Activity_Less", "Event_End"),
    ),
    Case(
        "spiff-exclusive-no-default-no-flow",
        (f"{SPIFF}/exclusive_gateway_no_default.bpmn",),
        "ExclusiveGatewayNoDefaultTest.testRunThroughHappy (x == 1: no flow, the gateway errors)",
        input={"x": 1},
        status="failed",
        active=("Gateway_CheckValue",),
        error="CheckValue",
    ),
    Case(
        "spiff-parallel-join-in-loop",
        (f"{SPIFF}/parallel_join_in_loop.bpmn",),
        "BPMN: the parallel join fires once per round; 'plan' runs while plan_runs < 3",
        tasks={"assess": {}},
        variables={"plan_runs": 3, "backbone_done": True},
        counts={"join": 3, "plan": 3, "assess": 2, "loop_split": 2, "end": 1},
    ),
    Case(
        "spiff-error-end-caught-by-boundary",
        (f"{SPIFF_EXT}/error_event_payload.bpmn",),
        "EventPayloadTest.testErrorEvent (the error end event in the sub-process reaches 'catch')",
        input={"error": True, "payload": "ERROR!"},
        counts={"catch": 1, "Event_1nd3odq": 1},
        never=("Event_03ddub8", "Activity_1qrttpi", "Event_1n1i393"),
    ),
    Case(
        "spiff-error-payload-variable",
        (f"{SPIFF_EXT}/error_event_payload.bpmn",),
        "EventPayloadTest.testErrorEvent (workflow data {'result': 'ERROR!'})",
        input={"error": True, "payload": "ERROR!"},
        variables={"result": "ERROR!"},
    ),
    Case(
        "spiff-error-not-thrown",
        (f"{SPIFF_EXT}/error_event_payload.bpmn",),
        "BPMN: with the condition false the default flow ends the sub-process normally",
        input={"error": False},
        counts={"Event_03ddub8": 1, "Activity_1qrttpi": 1, "Event_1n1i393": 1},
        never=("catch",),
    ),
    Case(
        "spiff-pre-and-post-scripts",
        (f"{SPIFF_EXT}/prescript_postscript.bpmn",),
        "PrescriptPostsciptTest.testTask ({'a': 1, 'b': 2, 'c': 12, 'z': 6})",
        input={"a": 1, "b": 2},
        variables={"a": 1, "b": 2, "c": 12, "z": 6},
        missing=("x", "y"),
    ),
    Case(
        "spiff-business-rule-task-dmn-unique-overlap",
        (f"{SPIFF_EXT}/business_rule_task.bpmn", f"{SPIFF_EXT}/dmn/business_rules.dmn"),
        "DMN 1.3 hit policies: with UNIQUE (the default) two matching rules ('\"X\"' and the "
        "empty entry) are an error. SpiffWorkflow's BusinessRuleTaskTest expects completion because "
        "its UNIQUE returns the first match; the spec's reading is kept here",
        variables={"question": "X"},
        status="failed",
        active=("Activity_0diq2z1",),
        error="UNIQUE",
    ),
    # --- Flowable: JUEL conditions, flowable:/activiti: extensions, no diagrams ------------------
    Case(
        "flowable-inclusive-gateway-inside-parallel-multi-instance",
        (f"{FLOWABLE}/gateway/InclusiveGatewayTest.insideMultiInstanceParallelSubProcess.bpmn20.xml",),
        "InclusiveGatewayTest.testInclusiveGatewayInclusiveGatewayInsideParallelMultiInstanceSubProcess",
        tasks={"*": {}},
        counts={
            "taskInclusive1": 3,
            "taskInclusive2": 3,
            "taskInclusive3": 3,
            "inclusiveJoin": 3,
            "postForkTask": 3,
            "multiInstanceSubProcess": loop(3),
            "lastTask": 1,
            "theEnd": 1,
        },
    ),
    Case(
        "flowable-inclusive-fork-without-join",
        (f"{FLOWABLE}/gateway/InclusiveGatewayTest.simpleParallelFlow.bpmn20.xml",),
        "InclusiveGatewayTest (simpleParallelFlow: three ${true} flows, each reaching the end event)",
        tasks={"*": {}},
        counts={"taskInclusive1": 1, "taskInclusive2": 1, "taskInclusive3": 1, "endEvent": 3},
    ),
    Case(
        "flowable-error-propagates-through-two-call-levels",
        (
            f"{FLOWABLE}/event/error/catchError4.bpmn",
            f"{FLOWABLE}/event/error/catchError3.bpmn",
            f"{FLOWABLE}/event/error/throwError.bpmn",
        ),
        "ErrorPropagationTest.test (the only task is 'MyErrorTaskNested')",
        status="waiting",
        active=("myErrorTaskNested",),
        never=("otherErrorsTaskNested", "catchOtherErrorsNested", "myErrorTask", "otherErrorsTask"),
    ),
    Case(
        "flowable-sequential-multi-instance-over-collection",
        (f"{FLOWABLE}/multiinstance/MultiInstanceTest.sequentialUserTasksWithCollection.bpmn20.xml",),
        "MultiInstanceTest (loopDataInputRef taskUserList, inputDataItem taskUser: one task each)",
        input={"taskUserList": ["kermit", "gonzo", "mispiggy"]},
        tasks={"miTasks": {}},
        counts={"miTasks": loop(3), "theEnd": 1},
        never=("timer", "taskAfterTimer"),
    ),
    Case(
        "flowable-timer-interrupts-multi-instance",
        (f"{FLOWABLE}/multiinstance/MultiInstanceTest.sequentialUserTasksWithCollection.bpmn20.xml",),
        "BPMN: the interrupting PT2H boundary timer cancels the unfinished multi-instance",
        input={"taskUserList": ["kermit", "gonzo", "mispiggy"]},
        status="waiting",
        completed=("theStart", "timer"),
        active=("taskAfterTimer",),
    ),
    Case(
        "flowable-activiti-collection-and-element-variable",
        (f"{FLOWABLE}/multiinstance/MultiInstanceTest.testParallelUserTasksCustomExtensions.bpmn20.xml",),
        "MultiInstanceTest.testParallelUserTasksCustomExtensions (one task per assignee)",
        input={"assigneeList": ["kermit", "gonzo", "fozzie"]},
        tasks={"*": {}},
        counts={"miTasks": loop(3), "theEnd": 1},
    ),
    Case(
        "flowable-namespace-collection-and-element-variable",
        (
            f"{FLOWABLE}/multiinstance/"
            "MultiInstanceTest.testLoopCounterVariableForSequentialMultiInstance.bpmn20.xml",
        ),
        "MultiInstanceTest.testLoopCounterVariableForSequentialMultiInstance (three sequential tasks)",
        input={"myCollection": [1, 2, 3], "initiator": "kermit"},
        tasks={"*": {}},
        counts={"formTask1": loop(3), "endNoneEvent1": 1},
    ),
    # --- Camunda 7 examples ---------------------------------------------------------------------
    Case(
        "camunda-call-activity-across-files-waits-in-child",
        (
            f"{CAMUNDA}/multi-tenancy/tenant-identifier-shared-definitions/mainProcess.bpmn",
            f"{CAMUNDA}/multi-tenancy/tenant-identifier-shared-definitions/subProcess.bpmn",
        ),
        "camunda-bpm-examples multi-tenancy: the called process waits in its user task",
        status="waiting",
        active=("CallActivity_0ahffuc", "UserTask_0zlyiaz"),
    ),
    Case(
        "camunda-call-activity-across-files-task-by-name",
        (
            f"{CAMUNDA}/multi-tenancy/tenant-identifier-shared-definitions/mainProcess.bpmn",
            f"{CAMUNDA}/multi-tenancy/tenant-identifier-shared-definitions/subProcess.bpmn",
        ),
        "BPMN: the call activity completes after its called process; Camunda 7 passes no variables "
        "without camunda:in/out",
        tasks={"task in default subprocess": {"answer": 42}},
        missing=("answer",),
        completed=(
            "StartEvent_1",
            "StartEvent_1",
            "UserTask_0zlyiaz",
            "EndEvent_09z3uwr",
            "CallActivity_0ahffuc",
            "EndEvent_0pf67o7",
        ),
    ),
    Case(
        "camunda-java-delegate-fails-naming-the-class",
        (f"{CAMUNDA}/deployment/servlet-pa/exampleProcess.bpmn",),
        "docs/cli.md: a foreign implementation (a Java class) fails the task with a message that says so",
        status="failed",
        active=("ServiceTask_1",),
        error="org.camunda.bpm.platform.example.servlet.ExampleServiceTask",
    ),
]


def _options(case: Case) -> list[str]:
    options = []
    if case.process:
        options += ["--process", case.process]
    if case.input:
        options += ["--input", json.dumps(case.input)]
    if case.tasks:
        options += ["--tasks", json.dumps(case.tasks)]
    return options


def _params() -> list[Any]:
    def marks(case: Case) -> list[pytest.MarkDecorator]:
        return [pytest.mark.xfail(strict=True, reason=case.bug)] if case.bug else []

    return [pytest.param(case, id=case.id, marks=marks(case)) for case in CASES]


@pytest.mark.parametrize("case", _params())
def test_third_party_file_runs_as_its_source_expects(case: Case) -> None:
    result = run(case.files, *_options(case))
    assert result["status"] == case.status, result
    for name, value in case.variables.items():
        assert result["variables"].get(name) == value, (name, result)
    assert not set(case.missing) & set(result["variables"]), result
    if case.completed is not None:
        assert result["completed"] == list(case.completed), result
    counted = Counter(result["completed"])
    assert {element: counted[element] for element in case.counts} == case.counts, result
    assert not set(case.never) & set(result["completed"]), result
    assert set(case.active) <= set(result["active"]), result
    if case.error is not None:
        assert case.error in (result["error"] or ""), result


# --- Files using what the engine documents as not executed --------------------------------------


@pytest.mark.parametrize(
    ("file", "element", "code"),
    [
        (f"{SPIFF}/ad_hoc_subprocess.bpmn", "subprocess", "not-executed"),
        (
            f"{FLOWABLE}/event/error/BoundaryErrorEventTest.testCatchErrorOnGroovyScriptTask.bpmn20.xml",
            "theScript",
            "unsupported-language",
        ),
    ],
    ids=["spiff-ad-hoc-sub-process", "flowable-groovy-script-task"],
)
def test_not_executed_elements_are_reported_and_fail_by_name(file: str, element: str, code: str) -> None:
    warnings = [(p["code"], p["element_id"]) for p in validate(file) if p["severity"] == "warning"]
    assert (code, element) in warnings
    result = run((file,))
    assert result["status"] == "failed"
    assert element in result["active"] and element in (result["error"] or "")


def test_every_corpus_file_is_listed_in_the_provenance() -> None:
    provenance = (CORPUS / "PROVENANCE.md").read_text(encoding="utf-8")
    files = [p for p in CORPUS.rglob("*") if p.is_file() and p.suffix in (".bpmn", ".xml", ".dmn")]
    assert len(files) >= 25
    unlisted = [str(p.relative_to(CORPUS)) for p in files if f"`{p.relative_to(CORPUS)}`" not in provenance]
    assert not unlisted


# --- Minimal reproductions of engine bugs the corpus found (fixed) --------------------------------

_HEAD = '<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="urn:x">'


def _write(tmp_path: Path, body: str) -> list[Path]:
    path = tmp_path / "repro.bpmn"
    path.write_text(f'{_HEAD}<process id="p" isExecutable="true">{body}</process></definitions>')
    return [path]


def _flows(*pairs: str) -> str:
    return "".join(
        f'<sequenceFlow id="f{i}" sourceRef="{pair.split(">")[0]}" targetRef="{pair.split(">")[1]}"/>'
        for i, pair in enumerate(pairs)
    )


def test_repro_inclusive_join_after_synchronous_branches(tmp_path: Path) -> None:
    true = "<conditionExpression>True</conditionExpression>"
    body = (
        '<startEvent id="s"/><inclusiveGateway id="split"/><inclusiveGateway id="join"/><endEvent id="e"/>'
        '<scriptTask id="a"><script>a = 1</script></scriptTask>'
        '<scriptTask id="b"><script>b = 1</script></scriptTask>'
        f'<sequenceFlow id="t1" sourceRef="split" targetRef="a">{true}</sequenceFlow>'
        f'<sequenceFlow id="t2" sourceRef="split" targetRef="b">{true}</sequenceFlow>'
        + _flows("s>split", "a>join", "b>join", "join>e")
    )
    assert Counter(run(_write(tmp_path, body))["completed"])["join"] == 1


def test_repro_signal_thrown_starts_own_event_sub_process(tmp_path: Path) -> None:
    signal = '<signalEventDefinition signalRef="go"/>'
    sub_process = (
        '<subProcess id="esp" triggeredByEvent="true"><startEvent id="caught" isInterrupting="false">'
        f"{signal}"
        '</startEvent><endEvent id="esp_end"/><sequenceFlow id="g" sourceRef="caught" targetRef="esp_end"/>'
        "</subProcess>"
    )
    body = (
        f'<startEvent id="s"/><intermediateThrowEvent id="throw">{signal}</intermediateThrowEvent>'
        f'<endEvent id="e"/>{_flows("s>throw", "throw>e")}{sub_process}'
    )
    path = _write(tmp_path, body)[0]
    path.write_text(path.read_text().replace(_HEAD, _HEAD + '<signal id="go" name="go"/>'))
    assert "caught" in run([path])["completed"]


def test_repro_specific_error_boundary_wins_over_catch_all(tmp_path: Path) -> None:
    body = (
        '<startEvent id="s"/><subProcess id="sub"><startEvent id="ss"/>'
        '<endEvent id="boom"><errorEventDefinition errorRef="E"/></endEvent>'
        '<sequenceFlow id="g" sourceRef="ss" targetRef="boom"/></subProcess>'
        '<boundaryEvent id="any" attachedToRef="sub"><errorEventDefinition/></boundaryEvent>'
        '<boundaryEvent id="specific" attachedToRef="sub">'
        '<errorEventDefinition errorRef="E"/></boundaryEvent>'
        '<endEvent id="e1"/><endEvent id="e2"/>' + _flows("s>sub", "any>e1", "specific>e2")
    )
    assert run(_write(tmp_path, body))["completed"][-2:] == ["specific", "e2"]
