"""The durable runtime on both dialects: deploy and versions, idempotent starts, user tasks,
messages (buffered too), signals, call activities, cancellation, fencing and serialization. Where
it applies, the durable result is compared with the in-memory engine's."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from apg_workflow import services
from apg_workflow.engine.commands import CompleteJob
from apg_workflow.engine.memory import MemoryEngine
from apg_workflow.formats import load
from apg_workflow.runtime.context import Runtime
from apg_workflow.services import Conflict
from apg_workflow.store import CommandRejected, Fence, NotFound, StaleClaim
from apg_workflow.store import queries as q
from apg_workflow.store.tables import jobs, subscriptions, timers, user_tasks
from tests.integration.store.databases import Clock, deploy_text
from tests.integration.store.workflows import (
    CALLER,
    MESSAGE_START,
    OWN_SIGNAL,
    PAYMENT,
    SIGNAL,
    TIMER,
    TWO_TASKS,
    service_chain,
)

pytestmark = pytest.mark.asyncio


async def _count(rt: Runtime, table, *where) -> int:  # type: ignore[no-untyped-def]
    return await rt.db.read(lambda conn: _scalar(conn, select(func.count()).select_from(table).where(*where)))


async def _scalar(conn, stmt):  # type: ignore[no-untyped-def]
    return (await conn.execute(stmt)).scalar_one()


async def _open_tasks(rt: Runtime) -> dict[str, str]:
    page = await services.list_tasks(rt)
    return {t.element_id: t.id for t in page.items}


async def test_deploying_an_unchanged_definition_keeps_its_version(runtime: Runtime) -> None:
    first = await deploy_text(runtime, TWO_TASKS)
    again = await deploy_text(runtime, TWO_TASKS)
    changed = await deploy_text(runtime, TWO_TASKS.replace("Legal review", "Legal check"))
    assert (first.key, first.version, first.created) == ("review", 1, True)
    assert (again.version, again.created) == (1, False)
    assert (changed.version, changed.created) == (2, True)
    old = await services.start(runtime, "review", version=1)
    new = await services.start(runtime, "review")
    assert (await services.get(runtime, old.execution_id)).workflow_version == 1
    assert (await services.get(runtime, new.execution_id)).workflow_version == 2


async def test_an_invalid_definition_is_refused_with_its_problems(runtime: Runtime) -> None:
    broken = TWO_TASKS.replace('<sequenceFlow id="f6" sourceRef="join" targetRef="end"/>', "")
    with pytest.raises(services.InvalidDefinition) as refused:
        await deploy_text(runtime, broken.replace('targetRef="split"', 'targetRef="nowhere"'))
    assert refused.value.problems


async def test_start_with_a_business_key_or_request_id_is_idempotent(runtime: Runtime) -> None:
    await deploy_text(runtime, TWO_TASKS)
    first = await services.start(runtime, "review", business_key="order-7")
    again = await services.start(runtime, "review", business_key="order-7")
    assert first.created and not again.created and again.execution_id == first.execution_id
    by_request = await services.start(runtime, "review", request_id="req-1")
    repeated = await services.start(runtime, "review", request_id="req-1")
    assert repeated.execution_id == by_request.execution_id and not repeated.created
    racing = await asyncio.gather(*(services.start(runtime, "review", business_key="race") for _ in range(4)))
    assert len({s.execution_id for s in racing}) == 1
    assert len((await services.list_executions(runtime)).items) == 3
    with pytest.raises(NotFound):
        await services.start(runtime, "no-such-workflow")


async def test_user_tasks_complete_once_and_the_run_matches_memory(runtime: Runtime) -> None:
    await deploy_text(runtime, TWO_TASKS)
    started = await services.start(runtime, "review", variables={"amount": 5})
    tasks = await _open_tasks(runtime)
    assert set(tasks) == {"legal", "finance"}
    await services.complete_task(runtime, tasks["legal"], {"legal_ok": True})
    done = await services.complete_task(runtime, tasks["legal"], {"legal_ok": True})  # a retried request
    assert done.status == "completed"
    await services.complete_task(runtime, tasks["finance"], {"finance_ok": True})

    memory = MemoryEngine(load(TWO_TASKS))
    ref = memory.start(variables={"amount": 5})
    by_element = {t.element_id: t.task_id for t in memory.tasks()}
    memory.complete_task(by_element["legal"], {"legal_ok": True})
    memory.complete_task(by_element["finance"], {"finance_ok": True})
    shown = await services.show(runtime, started.execution_id)
    assert shown == {"id": started.execution_id, **memory.summary(ref)}
    assert shown["status"] == "completed"


async def test_two_tasks_of_one_execution_completed_concurrently_both_count(runtime: Runtime) -> None:
    await deploy_text(runtime, TWO_TASKS)
    for _ in range(3):
        started = await services.start(runtime, "review")
        tasks = await _open_tasks(runtime)
        await asyncio.gather(
            services.complete_task(runtime, tasks["legal"], {"a": 1}),
            services.complete_task(runtime, tasks["finance"], {"b": 2}),
        )
        shown = await services.show(runtime, started.execution_id)
        assert shown["status"] == "completed" and shown["variables"] == {"a": 1, "b": 2}
        assert shown["completed"].count("join") == 1


async def test_messages_correlate_by_key_and_wait_in_the_buffer(runtime: Runtime) -> None:
    await deploy_text(runtime, PAYMENT)
    a = await services.start(runtime, "order", variables={"order_id": "A"})
    b = await services.start(runtime, "order", variables={"order_id": "B"})
    assert (
        await services.correlate(runtime, "Paid", correlation_key="B", variables={"amount": 3})
        == b.execution_id
    )
    assert (await services.show(runtime, b.execution_id))["status"] == "completed"
    assert (await services.show(runtime, a.execution_id))["status"] == "waiting"
    # A message no one waits for yet is buffered, and taken by the subscription that comes later.
    assert await services.correlate(runtime, "Paid", correlation_key="C", variables={"amount": 9}) is None
    c = await services.start(runtime, "order", variables={"order_id": "C"})
    shown = await services.show(runtime, c.execution_id)
    assert shown["status"] == "completed" and shown["variables"]["amount"] == 9
    # A retried correlation with the same request id is answered from the first one.
    first = await services.correlate(runtime, "Paid", correlation_key="A", request_id="m-1")
    assert await services.correlate(runtime, "Paid", correlation_key="A", request_id="m-1") == first
    assert await _count(runtime, subscriptions) == 0


async def test_a_message_start_event_starts_the_workflow(runtime: Runtime) -> None:
    await deploy_text(runtime, MESSAGE_START)
    started = await services.correlate(runtime, "NewLead", variables={"name": "Ada"})
    assert started is not None
    shown = await services.show(runtime, started)
    assert shown["active"] == ["call"] and shown["variables"] == {"name": "Ada"}


async def test_a_signal_reaches_every_waiting_execution(runtime: Runtime) -> None:
    await deploy_text(runtime, SIGNAL)
    ids = [(await services.start(runtime, "race")).execution_id for _ in range(3)]
    assert await services.broadcast(runtime, "Go", variables={"go": True}) == 3
    for execution_id in ids:
        shown = await services.show(runtime, execution_id)
        assert shown["status"] == "completed" and shown["variables"] == {"go": True}
    assert await services.broadcast(runtime, "Go") == 0


async def test_a_call_activity_runs_a_child_execution(runtime: Runtime) -> None:
    await deploy_text(runtime, CALLER)
    parent = await services.start(runtime, "parent", variables={"x": 2})
    shown = await services.show(runtime, parent.execution_id)
    assert shown["active"] == ["call", "approve"]
    children = [
        x for x in (await services.list_executions(runtime)).items if x.parent_id == parent.execution_id
    ]
    assert len(children) == 1 and children[0].status == "running"
    await services.complete_task(runtime, (await _open_tasks(runtime))["approve"], {"ok": True})

    memory = MemoryEngine(load(CALLER))
    ref = memory.start(variables={"x": 2})
    memory.complete_task(memory.tasks()[0].task_id, {"ok": True})
    assert await services.show(runtime, parent.execution_id) == {
        "id": parent.execution_id,
        **memory.summary(ref),
    }
    assert (await services.get(runtime, children[0].id)).status == "completed"


async def test_cancelling_drops_tasks_timers_and_child_executions(
    clock_runtime: tuple[Runtime, Clock],
) -> None:
    rt, _ = clock_runtime
    await deploy_text(rt, CALLER)
    await deploy_text(rt, TIMER)
    parent = await services.start(rt, "parent", variables={"x": 1})
    waiting = await services.start(rt, "wait")
    assert await _count(rt, timers) == 1
    assert await services.cancel(rt, parent.execution_id) == "cancelled"
    assert await services.cancel(rt, waiting.execution_id) == "cancelled"
    assert await _count(rt, timers) == 0
    assert await _count(rt, user_tasks, user_tasks.c.status == "open") == 0
    assert {x.status for x in (await services.list_executions(rt)).items} == {"cancelled"}
    with pytest.raises(CommandRejected):
        await services.cancel(rt, waiting.execution_id)


async def test_a_cancelled_task_cannot_be_completed(runtime: Runtime) -> None:
    await deploy_text(runtime, TWO_TASKS)
    started = await services.start(runtime, "review")
    tasks = await _open_tasks(runtime)
    await services.cancel(runtime, started.execution_id)
    with pytest.raises(Conflict):
        await services.complete_task(runtime, tasks["legal"], {})


async def test_a_stale_job_completion_is_refused(clock_runtime: tuple[Runtime, Clock]) -> None:
    rt, clock = clock_runtime
    await deploy_text(rt, service_chain("one", 1))
    started = await services.start(rt, "one")
    lease = timedelta(seconds=30)

    async def claim(worker: str):  # type: ignore[no-untyped-def]
        now = clock()
        return await rt.db.transaction(
            lambda conn: q.claim_jobs(conn, worker=worker, now=now, until=now + lease, limit=10)
        )

    [first] = await claim("w1")
    assert await claim("w2") == []  # leased
    clock.advance(timedelta(minutes=1))  # w1's lease ran out: w2 takes the job over
    [second] = await claim("w2")
    assert (second.id, second.claims) == (first.id, first.claims + 1)
    done = CompleteJob(job_id=first.id, attempt=first.attempt, variables={"by": "w1"})
    with pytest.raises(StaleClaim):
        await rt.transitions.apply(started.execution_id, done, fence=Fence(jobs, first.id, first.claims))
    done = CompleteJob(job_id=second.id, attempt=second.attempt, variables={"by": "w2"})
    await rt.transitions.apply(started.execution_id, done, fence=Fence(jobs, second.id, second.claims))
    shown = await services.show(rt, started.execution_id)
    assert shown["status"] == "completed" and shown["variables"] == {"by": "w2"}
    assert await _count(rt, jobs) == 0


async def test_a_thrown_signal_reaches_its_own_catcher_once(runtime: Runtime) -> None:
    await deploy_text(runtime, OWN_SIGNAL)
    listener = await services.start(runtime, "pinger", variables={"pings": 0})
    thrower = await services.start(runtime, "pinger", variables={"pings": 0})
    # Each execution counts its own ping once, and the other's ping once more.
    assert (await services.show(runtime, thrower.execution_id))["variables"]["pings"] == 1
    assert (await services.show(runtime, listener.execution_id))["variables"]["pings"] == 2

    memory = MemoryEngine(load(OWN_SIGNAL))
    first = memory.start(variables={"pings": 0})
    second = memory.start(variables={"pings": 0})
    assert memory.variables(first)["pings"] == 2 and memory.variables(second)["pings"] == 1


async def test_a_start_whose_commit_was_not_acknowledged_is_not_lost_or_doubled(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    await deploy_text(runtime, TWO_TASKS)
    db = runtime.transitions.db
    original = db.transaction

    async def ack_lost_once(work):  # the first commit lands, but the caller retries as if it had not
        await original(work)
        monkeypatch.setattr(db, "transaction", original)
        return await original(work)

    monkeypatch.setattr(db, "transaction", ack_lost_once)
    started = await services.start(runtime, "review")
    assert started.created
    assert [x.id for x in (await services.list_executions(runtime)).items] == [started.execution_id]
