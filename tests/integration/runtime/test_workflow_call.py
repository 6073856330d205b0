"""``workflow.call``: a service task that starts another workflow and waits for its result.

On the durable runtime (SQLite and PostgreSQL, a real worker) the called workflow starts in the
calling execution's tenant and the caller receives its final variables; a called workflow that
fails is a BPMN error an error boundary event catches; a retried job (the called workflow still ran
at the timeout) waits for the execution its first attempt started instead of starting another.
Under ``apg-workflow run`` the called workflow runs in memory from the files given.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from typer.testing import CliRunner

from apg_workflow import services
from apg_workflow.cli import app
from apg_workflow.components import ConfigurationError
from apg_workflow.formats import load
from apg_workflow.runtime.components import StoredWorkflowCalls
from apg_workflow.runtime.context import Runtime, open_runtime
from apg_workflow.runtime.local import LocalRunner
from apg_workflow.runtime.registry import platform_registry
from apg_workflow.runtime.worker import Worker
from tests.integration.components.support import run
from tests.integration.store.databases import deploy_text, settings_for, wait_for
from tests.integration.store.workflows import bpmn

ENDED = ("completed", "failed", "cancelled")


def _process(process_id: str, body: str, flows: list[tuple[str, str]]) -> str:
    arrows = "".join(
        f'<sequenceFlow id="{process_id}_f{i}" sourceRef="{a}" targetRef="{b}"/>'
        for i, (a, b) in enumerate(flows)
    )
    return f'<process id="{process_id}" isExecutable="true">{body}{arrows}</process>'


def _service(task_id: str, component: str, config: dict[str, Any], extensions: str = "") -> str:
    configured = (
        f'<apg:component type="{component}"><apg:config>{json.dumps(config)}</apg:config></apg:component>'
    )
    extensions = f"<extensionElements>{configured}{extensions}</extensionElements>"
    return f'<serviceTask id="{task_id}">{extensions}</serviceTask>'


def caller(process_id: str, config: dict[str, Any], extensions: str = "") -> str:
    """start → ``call`` (workflow.call with ``config``) → end; a ``workflow-failed`` error on
    ``call`` goes to ``handled``, keeping the error message in ``failure``."""
    body = (
        '<startEvent id="start"/>'
        + _service("call", "workflow.call", config, extensions)
        + '<boundaryEvent id="failed" attachedToRef="call">'
        + '<errorEventDefinition errorRef="Failed"/></boundaryEvent>'
        + '<endEvent id="end"/><endEvent id="handled"/>'
    )
    error = (
        '<error id="Failed" errorCode="workflow-failed"><extensionElements>'
        "<apg:payloadVariable>failure</apg:payloadVariable></extensionElements></error>"
    )
    return bpmn(
        error + _process(process_id, body, [("start", "call"), ("call", "end"), ("failed", "handled")])
    )


def scorer(process_id: str = "score", formula: str = "n * 2") -> str:
    """start → a script setting ``score`` → end."""
    script = f'<scriptTask id="compute"><script>score = {formula}</script></scriptTask>'
    body = f'<startEvent id="s"/>{script}<endEvent id="e"/>'
    return bpmn(_process(process_id, body, [("s", "compute"), ("compute", "e")]))


FRAGILE = bpmn(
    _process(
        "fragile",
        '<startEvent id="s"/>'
        + _service(
            "check", "flow.raise_error", {"code": "no-credit", "message": "no credit file for ${customer}"}
        )
        + '<endEvent id="e"/>',
        [("s", "check"), ("check", "e")],
    )
)
APPROVAL = bpmn(
    _process(
        "approval",
        '<startEvent id="s"/><userTask id="approve" name="Approve"/><endEvent id="e"/>',
        [("s", "approve"), ("approve", "e")],
    )
)
SLOW_SCORE = bpmn(
    _process(
        "score",
        '<startEvent id="s"/><intermediateCatchEvent id="hour"><timerEventDefinition>'
        "<timeDuration>PT1H</timeDuration></timerEventDefinition></intermediateCatchEvent>"
        '<scriptTask id="compute"><script>score = n * 2</script></scriptTask><endEvent id="e"/>',
        [("s", "hour"), ("hour", "compute"), ("compute", "e")],
    )
)


# On the durable runtime ---------------------------------------------------------------------------


@asynccontextmanager
async def worker(rt: Runtime) -> AsyncIterator[None]:
    """A worker whose workflow.call starts executions in ``rt``'s store."""
    stop = asyncio.Event()
    task = asyncio.create_task(Worker(rt, platform_registry(StoredWorkflowCalls(rt))).run(stop))
    try:
        yield
    finally:
        stop.set()
        await task


async def _ended(rt: Runtime, execution_id: str) -> bool:
    return (await services.show(rt, execution_id))["status"] in ENDED


async def _executions_of(rt: Runtime, key: str) -> list[str]:
    return [e.id for e in (await services.list_executions(rt)).items if e.workflow_key == key]


async def _job_failed(rt: Runtime, execution_id: str) -> bool:
    return any(entry["event"] == "job.failed" for entry in await services.history(rt, execution_id))


@pytest.mark.asyncio
async def test_the_caller_receives_the_called_workflows_variables(runtime: Runtime) -> None:
    await deploy_text(runtime, scorer())
    await deploy_text(runtime, caller("order", {"workflow": "score", "variables": {"n": "${amount}"}}))
    started = await services.start(runtime, "order", variables={"amount": 21, "note": "kept here"})
    async with worker(runtime):
        await wait_for(lambda: _ended(runtime, started.execution_id))

    shown = await services.show(runtime, started.execution_id)
    [child] = await _executions_of(runtime, "score")
    assert shown["status"] == "completed"
    assert shown["completed"] == ["start", "call", "end"]
    assert shown["variables"] == {
        "amount": 21,
        "note": "kept here",
        "n": 21,
        "score": 42,
        "called_execution_id": child,
    }
    called = await services.show(runtime, child)
    assert (called["status"], called["variables"]) == ("completed", {"n": 21, "score": 42})


@pytest.mark.asyncio
async def test_a_pinned_version_and_an_output_variable(runtime: Runtime) -> None:
    await deploy_text(runtime, scorer(formula="n * 2"))
    await deploy_text(runtime, scorer(formula="n * 3"))  # version 2, the latest
    config = {"workflow": "score", "version": 1, "output_variable": "check", "execution_variable": None}
    await deploy_text(runtime, caller("order", config))
    started = await services.start(runtime, "order", variables={"n": 5})
    async with worker(runtime):
        await wait_for(lambda: _ended(runtime, started.execution_id))

    shown = await services.show(runtime, started.execution_id)
    assert shown["variables"] == {"n": 5, "check": {"n": 5, "score": 10}}
    [child] = await _executions_of(runtime, "score")
    assert (await services.get(runtime, child)).workflow_version == 1


@pytest.mark.asyncio
async def test_a_failing_called_workflow_is_a_bpmn_error_the_boundary_event_catches(runtime: Runtime) -> None:
    await deploy_text(runtime, FRAGILE)
    await deploy_text(runtime, caller("guarded", {"workflow": "fragile"}))
    started = await services.start(runtime, "guarded", variables={"customer": "C-7"})
    async with worker(runtime):
        await wait_for(lambda: _ended(runtime, started.execution_id))

    shown = await services.show(runtime, started.execution_id)
    assert (shown["status"], shown["completed"]) == ("completed", ["start", "failed", "handled"])
    [child] = await _executions_of(runtime, "fragile")
    assert f"the called workflow 'fragile' (execution {child}) failed" in shown["variables"]["failure"]
    assert "no credit file for C-7" in shown["variables"]["failure"]
    history = await services.history(runtime, started.execution_id)
    [thrown] = [entry for entry in history if entry["event"] == "error.thrown"]
    assert thrown["data"]["code"] == "workflow-failed"
    assert not [entry for entry in history if entry["event"] == "job.failed"]  # not retried


@pytest.mark.asyncio
async def test_a_retried_job_waits_for_the_same_execution_instead_of_starting_another(
    runtime: Runtime,
) -> None:
    await deploy_text(runtime, APPROVAL)
    retry = '<apg:retry maxAttempts="50" initialBackoff="PT0.1S" multiplier="1" jitter="false"/>'
    await deploy_text(runtime, caller("asks", {"workflow": "approval", "timeout": 0.3}, retry))
    started = await services.start(runtime, "asks", variables={"request": "R-1"})
    async with worker(runtime):
        await wait_for(lambda: _job_failed(runtime, started.execution_id))
        await asyncio.sleep(0.5)  # another attempt or two, each finding the same execution
        [task] = (await services.list_tasks(runtime)).items
        await services.complete_task(runtime, task.id, {"approved": True})
        await wait_for(lambda: _ended(runtime, started.execution_id))

    [child] = await _executions_of(runtime, "approval")
    assert task.execution_id == child
    shown = await services.show(runtime, started.execution_id)
    assert shown["status"] == "completed"
    assert shown["variables"] == {"request": "R-1", "approved": True, "called_execution_id": child}
    history = await services.history(runtime, started.execution_id)
    failures = [entry["data"] for entry in history if entry["event"] == "job.failed"]
    assert len(failures) >= 2
    assert all(
        f"the called workflow 'approval' (execution {child}) is still running after" in f["message"]
        and "(at approve)" in f["message"]
        for f in failures
    )


@pytest.mark.asyncio
async def test_without_waiting_the_caller_goes_on_at_once(runtime: Runtime) -> None:
    await deploy_text(runtime, APPROVAL)
    await deploy_text(runtime, caller("fire", {"workflow": "approval", "wait": False}))
    started = await services.start(runtime, "fire", variables={"request": "R-2"})
    async with worker(runtime):
        await wait_for(lambda: _ended(runtime, started.execution_id))

    shown = await services.show(runtime, started.execution_id)
    [child] = await _executions_of(runtime, "approval")
    assert (shown["status"], shown["variables"]) == (
        "completed",
        {"request": "R-2", "called_execution_id": child},
    )
    called = await services.show(runtime, child)
    assert (called["status"], called["active"], called["variables"]) == (
        "waiting",
        ["approve"],
        {"request": "R-2"},
    )


@pytest.mark.asyncio
async def test_an_unknown_workflow_opens_an_incident_that_names_it(runtime: Runtime) -> None:
    await deploy_text(runtime, caller("lost", {"workflow": "nowhere", "version": 3}))
    started = await services.start(runtime, "lost")
    async with worker(runtime):
        await wait_for(lambda: _has_incident(runtime))
    [incident] = (await services.list_incidents(runtime)).items
    assert (incident.execution_id, incident.element_id) == (started.execution_id, "call")
    assert incident.message == "there is no deployed workflow 'nowhere' version 3"


async def _has_incident(rt: Runtime) -> bool:
    return bool((await services.list_incidents(rt)).items)


@pytest.mark.asyncio
async def test_the_called_workflow_runs_in_the_callers_tenant(database_url: str, runtime: Runtime) -> None:
    async with open_runtime(settings_for(database_url, tenant="acme")) as acme:
        await deploy_text(acme, scorer(formula="n * 2"))
        await deploy_text(runtime, scorer(formula="-1"))  # the default tenant's own 'score'
        await deploy_text(acme, caller("order", {"workflow": "score"}))
        started = await services.start(acme, "order", variables={"n": 4})
        async with worker(runtime):  # a worker serves every tenant
            await wait_for(lambda: _ended(acme, started.execution_id))

        shown = await services.show(acme, started.execution_id)
        assert (shown["status"], shown["variables"]["score"]) == ("completed", 8)
        assert len(await _executions_of(acme, "score")) == 1
        assert await _executions_of(runtime, "score") == []


# In memory (apg-workflow run) ---------------------------------------------------------------------


def _run_in_memory(*texts: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    with LocalRunner([load(text) for text in texts], virtual_time=True) as runner:
        return runner.summary(runner.run(None, variables))


def test_in_memory_the_called_workflow_runs_from_the_files_given() -> None:
    config = {"workflow": "score", "variables": {"n": "${amount}"}, "timeout": 7200}
    result = _run_in_memory(caller("order", config), SLOW_SCORE, variables={"amount": 21})
    assert result["status"] == "completed"
    assert result["variables"] == {"amount": 21, "n": 21, "score": 42, "called_execution_id": "e2"}
    assert result["completed"] == ["start", "call", "end"]


def test_in_memory_a_called_workflow_still_running_at_the_timeout_is_retried_then_an_incident() -> None:
    result = _run_in_memory(
        caller("order", {"workflow": "score", "timeout": 60}), SLOW_SCORE, variables={"n": 1}
    )
    assert result["status"] == "failed"
    assert (
        "the called workflow 'score' (execution e2) is still running after 60s (at hour)" in result["error"]
    )


def test_in_memory_a_failing_called_workflow_is_caught_by_the_boundary_event() -> None:
    result = _run_in_memory(
        caller("guarded", {"workflow": "fragile"}), FRAGILE, variables={"customer": "C-9"}
    )
    assert (result["status"], result["completed"]) == ("completed", ["start", "failed", "handled"])
    assert "no credit file for C-9" in result["variables"]["failure"]


def test_in_memory_an_unknown_or_self_calling_workflow_fails_with_a_clear_message() -> None:
    result = _run_in_memory(caller("lost", {"workflow": "nowhere"}), SLOW_SCORE)
    assert result["status"] == "failed"
    assert (
        "there is no workflow 'nowhere' in the files given to run (processes: lost, score)" in result["error"]
    )
    looping = _run_in_memory(caller("loop", {"workflow": "loop"}))
    assert looping["status"] == "completed"  # the deepest call failed, and its caller caught it
    assert (
        "workflow.call is nested more than 32 deep: does 'loop' call itself?"
        in looping["variables"]["failure"]
    )


def test_apg_workflow_run_takes_the_called_workflow_from_more_files(tmp_path: Any) -> None:
    (tmp_path / "order.bpmn").write_text(caller("order", {"workflow": "score", "timeout": 7200}))
    (tmp_path / "score.bpmn").write_text(SLOW_SCORE)
    files = [str(tmp_path / "order.bpmn"), str(tmp_path / "score.bpmn")]
    done = CliRunner().invoke(app, ["run", *files, "--input", '{"n": 5}', "--virtual-time", "--json"])
    assert done.exit_code == 0, done.output
    result = json.loads(done.stdout.splitlines()[-1])
    assert (result["status"], result["variables"]["score"]) == ("completed", 10)


@pytest.mark.asyncio
async def test_without_a_runner_that_reaches_executions_it_refuses_clearly() -> None:
    with pytest.raises(
        ConfigurationError, match=r"workflow\.call cannot run here: this runner does not reach"
    ):
        await run("workflow.call", {"workflow": "score"}, {"n": 1})
