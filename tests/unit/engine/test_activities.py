"""Service jobs (with retries and incidents), user tasks, manual, send and receive tasks."""

from __future__ import annotations

from datetime import timedelta

import pytest

from apg_workflow.engine import CompleteJob
from apg_workflow.engine.memory import CommandRejected
from apg_workflow.engine.memory_driver import JobError
from apg_workflow.model import (
    Assignment,
    ComponentRef,
    Form,
    ManualTask,
    ReceiveTask,
    RetryPolicy,
    SendTask,
    ServiceTask,
    UserTask,
    freeze,
)

from .builders import END, START, definitions, mapping
from .conftest import EngineFactory


def _service(**kwargs: object) -> ServiceTask:
    return ServiceTask(
        id="call", component=ComponentRef(type="http.request", config=freeze({"url": "x"})), **kwargs
    )  # type: ignore[arg-type]


def test_a_service_task_emits_a_job_that_a_handler_completes(engine: EngineFactory) -> None:
    run = engine(definitions([START, _service(), END], ["start > call > end"]))
    seen = []
    run.register_job_handler("http.request", lambda job: seen.append(job) or {"status": 200})
    eid = run.start(variables={"id": 7})
    assert run.status(eid) == "completed"
    assert run.variables(eid) == {"id": 7, "status": 200}
    assert seen[0].config == {"url": "x"} and seen[0].variables == {"id": 7} and seen[0].attempt == 1


def test_an_unhandled_job_waits_and_stale_completions_are_refused(engine: EngineFactory) -> None:
    run = engine(definitions([START, _service(), END], ["start > call > end"]))
    eid = run.start()
    [job] = run.jobs(eid)
    assert run.active(eid) == ["call"]
    with pytest.raises(CommandRejected, match="stale"):
        run._run(eid, CompleteJob(job_id=job.job_id, attempt=9))
    run.complete_job(job.job_id, {"ok": True})
    assert run.status(eid) == "completed"
    with pytest.raises(CommandRejected):
        run.complete_job(job.job_id)


def test_input_and_output_mappings_keep_job_results_local(engine: EngineFactory) -> None:
    task = _service(
        inputs=(mapping("url", "base + '/users'"),), outputs=(mapping("user_count", "len(body)"),)
    )
    run = engine(definitions([START, task, END], ["start > call > end"]))
    run.register_job_handler(
        "http.request", lambda job: {"body": [1, 2, 3], "url_seen": job.variables["url"]}
    )
    eid = run.start(variables={"base": "http://api"})
    assert run.variables(eid) == {"base": "http://api", "user_count": 3}


def test_failed_jobs_retry_with_backoff_then_open_an_incident(engine: EngineFactory) -> None:
    policy = RetryPolicy(max_attempts=3, initial_backoff="PT10S", jitter=False)
    run = engine(definitions([START, _service(retry=policy), END], ["start > call > end"]))
    attempts = []

    def flaky(job: object) -> dict[str, object]:
        attempts.append(run.now)
        raise RuntimeError("connection refused")

    run.register_job_handler("http.request", flaky)
    eid = run.start()
    assert len(attempts) == 1
    run.advance(timedelta(seconds=10))
    run.advance(timedelta(seconds=20))
    assert [int((t - attempts[0]).total_seconds()) for t in attempts] == [0, 10, 30]
    [(incident_id, (_, element, message))] = run.incidents.items()
    assert element == "call" and "connection refused" in message
    run.register_job_handler("http.request", lambda job: {"done": job.attempt})
    run.retry_incident(incident_id)
    assert run.status(eid) == "completed"
    assert run.variables(eid) == {"done": 4}


def test_a_job_error_without_retry_opens_an_incident_at_once(engine: EngineFactory) -> None:
    run = engine(definitions([START, _service(), END], ["start > call > end"]))

    def broken(job: object) -> None:
        raise JobError("bad request", retryable=False)

    run.register_job_handler("http.request", broken)
    run.start()
    assert [m for _, _, m in run.incidents.values()] == ["bad request"]


def test_result_variable_holds_the_whole_job_result(engine: EngineFactory) -> None:
    run = engine(definitions([START, _service(result_variable="response"), END], ["start > call > end"]))
    run.register_job_handler("http.request", lambda job: {"status": 201})
    eid = run.start()
    assert run.variables(eid) == {"response": {"status": 201}}


def test_user_task_with_assignee_candidates_due_date_and_form(engine: EngineFactory) -> None:
    task = UserTask(
        id="review",
        name="Review",
        assignment=Assignment(assignee="${owner}", candidate_groups=("managers", "=extra_groups")),
        due="PT2H",
        priority=5,
        form=Form(key="review-form"),
    )
    run = engine(definitions([START, task, END], ["start > review > end"]))
    eid = run.start(variables={"owner": "ana", "extra_groups": ["audit"]})
    [item] = run.tasks(eid)
    assert (item.name, item.assignee, item.candidate_groups) == ("Review", "ana", ("managers", "audit"))
    assert item.due_at == run.now + timedelta(hours=2) and item.priority == 5
    assert item.form == {"key": "review-form", "schema": None}
    run.complete_task(item.task_id, {"approved": True})
    assert run.status(eid) == "completed" and run.variables(eid)["approved"] is True
    with pytest.raises(CommandRejected):
        run.complete_task(item.task_id)


def test_manual_task_waits_for_a_person_too(engine: EngineFactory) -> None:
    run = engine(definitions([START, ManualTask(id="sign"), END], ["start > sign > end"]))
    eid = run.start()
    [item] = run.tasks(eid)
    run.complete_task(item.task_id)
    assert run.status(eid) == "completed"


def test_send_task_messages_a_receive_task_of_another_execution(engine: EngineFactory) -> None:
    sender = definitions(
        [START, SendTask(id="send", message_ref="order"), END], ["start > send > end"], process_id="s"
    )
    receiver = definitions(
        [START, ReceiveTask(id="wait", message_ref="order"), END],
        ["start > wait > end"],
        process_id="r",
        messages=["order"],
    )
    run = engine([receiver, sender])
    waiting = run.start("r")
    assert run.active(waiting) == ["wait"]
    run.start("s", {"item": "book"})
    assert run.status(waiting) == "completed"
    assert run.variables(waiting)["item"] == "book"
