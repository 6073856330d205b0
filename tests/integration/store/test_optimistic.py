"""The single-statement transitions (PostgreSQL) never decide differently from the locked ones:
a process whose remembered execution moved (another process stepped it) falls back and loses no
update; a start sees a new version or a new limit at once; a statement whose acknowledgement was
lost is not applied twice. On SQLite the same tests run through the locked path."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from datetime import timedelta
from typing import Any

import pytest

from apg_workflow import services
from apg_workflow.engine.commands import CompleteJob
from apg_workflow.runtime.context import Runtime, open_runtime
from apg_workflow.services import limits
from apg_workflow.store import Fence, JobRecord, StaleClaim
from apg_workflow.store import queries as q
from apg_workflow.store.tables import jobs
from tests.integration.store.databases import deploy_text, settings_for
from tests.integration.store.workflows import bpmn, service_chain

pytestmark = pytest.mark.asyncio
LEASE = timedelta(minutes=5)

FAN_OUT = bpmn("""
<process id="fan" isExecutable="true">
  <startEvent id="start"/>
  <parallelGateway id="split"/>
  <serviceTask id="a"/>
  <serviceTask id="b"/>
  <serviceTask id="c"/>
  <parallelGateway id="join"/>
  <endEvent id="end"/>
  <sequenceFlow id="f1" sourceRef="start" targetRef="split"/>
  <sequenceFlow id="f2" sourceRef="split" targetRef="a"/>
  <sequenceFlow id="f3" sourceRef="split" targetRef="b"/>
  <sequenceFlow id="f4" sourceRef="split" targetRef="c"/>
  <sequenceFlow id="f5" sourceRef="a" targetRef="join"/>
  <sequenceFlow id="f6" sourceRef="b" targetRef="join"/>
  <sequenceFlow id="f7" sourceRef="c" targetRef="join"/>
  <sequenceFlow id="f8" sourceRef="join" targetRef="end"/>
</process>""")


async def _claim(rt: Runtime) -> list[JobRecord]:
    now = rt.clock()
    return await rt.db.transaction(
        lambda conn: q.claim_jobs(conn, worker="w", now=now, until=now + LEASE, limit=10)
    )


async def _complete(rt: Runtime, job: JobRecord) -> None:
    done = CompleteJob(job_id=job.id, attempt=job.attempt, variables={job.element_id: True})
    await rt.transitions.apply(job.execution_id, done, fence=Fence(jobs, job.id, job.claims))


async def test_steps_of_one_execution_from_two_processes_lose_no_update(database_url: str) -> None:
    async with AsyncExitStack() as stack:
        here, there = [
            await stack.enter_async_context(open_runtime(settings_for(database_url))) for _ in range(2)
        ]
        await deploy_text(here, FAN_OUT)
        started = await services.start(here, "fan")
        by_element = {job.element_id: job for job in await _claim(here)}
        await _complete(here, by_element["a"])  # this process remembers the execution after a
        await _complete(there, by_element["b"])  # another process moves it on
        await _complete(here, by_element["c"])  # what this process remembers is stale: it reads again
        shown = await services.show(here, started.execution_id)
        assert shown["status"] == "completed"
        assert shown["variables"] == {"a": True, "b": True, "c": True}


async def test_a_start_sees_a_new_version_and_a_new_limit_at_once(runtime: Runtime) -> None:
    await deploy_text(runtime, service_chain("chain", 1))
    first = await services.start(runtime, "chain")
    await deploy_text(runtime, service_chain("chain", 2))
    second = await services.start(runtime, "chain")
    versions = [(await services.get(runtime, s.execution_id)).workflow_version for s in (first, second)]
    assert versions == [1, 2]
    await limits.set_workflow_limit(runtime, "chain", 2)
    third = await services.start(runtime, "chain")
    assert (first.status, second.status, third.status) == ("running", "running", "queued")


async def test_a_statement_whose_acknowledgement_was_lost_is_not_applied_twice(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not runtime.db.is_postgres:
        pytest.skip("statements outside a transaction: PostgreSQL")
    await deploy_text(runtime, service_chain("chain", 2))
    db = runtime.db
    original = db.alone

    async def ack_lost_once(call: Callable[[Any], Awaitable[Any]]) -> Any:
        await original(call)  # the statement commits, but its answer never arrives: tried again
        monkeypatch.setattr(db, "alone", original)
        return await original(call)

    monkeypatch.setattr(db, "alone", ack_lost_once)
    lost = await services.start(runtime, "chain")
    assert lost.created and lost.status == "running"
    assert [x.id for x in (await services.list_executions(runtime)).items] == [lost.execution_id]

    started = await services.start(runtime, "chain")
    [job] = [job for job in await _claim(runtime) if job.execution_id == started.execution_id]
    monkeypatch.setattr(db, "alone", ack_lost_once)
    with pytest.raises(StaleClaim):  # as a lost commit on the locked path: the report is done
        await _complete(runtime, job)
    [following] = [job for job in await _claim(runtime) if job.execution_id == started.execution_id]
    assert following.element_id == "t2"
    events = [e["event"] for e in await services.history(runtime, started.execution_id)]
    assert events.count("element.completed") == 2  # start and t1, once each
