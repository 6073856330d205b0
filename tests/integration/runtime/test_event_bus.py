"""The live event bus on both dialects: committed outbox events reach subscribers once, in order,
scoped by tenant; replay joins live events without a gap or a duplicate; a slow subscriber is
dropped; on PostgreSQL a late commit below the cursor is still published, and a second process's
tail wakes on NOTIFY (or Redis) long before its poll interval."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import pytest
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from apg_workflow import services
from apg_workflow.runtime.context import Runtime, open_runtime
from apg_workflow.runtime.events import (
    EventBus,
    Subscription,
    SubscriptionDropped,
    TailCursor,
    event_filter,
    event_message,
    execution_topic,
    task_topic,
    workflow_topic,
)
from apg_workflow.store.outbox_reads import OutboxEvent, TaskRef
from apg_workflow.store.tables import outbox
from tests.integration.store.databases import deploy_text, settings_for

APPROVAL = json.dumps(
    {
        "name": "Approval",
        "activities": [
            {"id": "start", "type": "startEvent"},
            {
                "id": "approve",
                "type": "userTask",
                "name": "Approve",
                "assignee": "alice",
                "candidate_groups": ["managers"],
            },
            {"id": "end", "type": "endEvent"},
        ],
        "flows": [{"from": "start", "to": "approve"}, {"from": "approve", "to": "end"}],
    }
)
RUN = ["execution.started", "task.created", "task.completed", "execution.completed"]


@asynccontextmanager
async def tailing(bus: EventBus) -> AsyncIterator[EventBus]:
    stop = asyncio.Event()
    task = asyncio.create_task(bus.run(stop))
    await asyncio.wait_for(bus.started.wait(), 10)
    try:
        yield bus
    finally:
        stop.set()
        await task


async def take(sub: Subscription, count: int, *, timeout: float = 10.0) -> list[OutboxEvent]:
    async def collect() -> list[OutboxEvent]:
        found = []
        async for event in sub:
            found.append(event)
            if len(found) == count:
                break
        return found

    return await asyncio.wait_for(collect(), timeout)


async def start_approval(rt: Runtime) -> str:
    deployment = await deploy_text(rt, APPROVAL)
    started = await services.start(rt, deployment.key, variables={"amount": 10})
    return started.execution_id


async def complete_only_task(rt: Runtime, execution_id: str) -> None:
    tasks = await services.list_tasks(rt)
    (task,) = [t for t in tasks.items if t.execution_id == execution_id]
    await services.complete_task(rt, task.id, {"ok": True})


@pytest.mark.asyncio
async def test_an_execution_s_events_arrive_once_in_order_with_the_task(runtime: Runtime) -> None:
    async with tailing(EventBus.for_runtime(runtime)) as bus:
        sub = bus.subscribe(runtime.tenant)
        execution_id = await start_approval(runtime)
        await complete_only_task(runtime, execution_id)
        events = await take(sub, 4)

    assert [e.event for e in events] == RUN
    assert {e.execution_id for e in events} == {execution_id}
    assert [e.id for e in events] == sorted(e.id for e in events)
    assert events[0].workflow_key == "Approval"
    created = event_message(events[1])
    assert created["data"]["element_id"] == "approve"
    assert created["data"]["task"]["assignee"] == "alice"
    assert created["data"]["task"]["candidate_groups"] == ["managers"]
    assert event_message(events[2])["data"]["task"]["status"] == "completed"
    assert created["created_at"].endswith("Z")
    assert sub.dropped == "the server is shutting down"


@pytest.mark.asyncio
async def test_events_committed_before_the_tail_started_are_not_live(runtime: Runtime) -> None:
    earlier = await start_approval(runtime)
    async with tailing(EventBus.for_runtime(runtime)) as bus:
        sub = bus.subscribe(runtime.tenant)
        later = await start_approval(runtime)
        events = await take(sub, 2)
    assert {e.execution_id for e in events} == {later} and earlier != later


@pytest.mark.asyncio
async def test_another_tenant_never_sees_the_events(runtime: Runtime) -> None:
    other = runtime.for_tenant("other")
    async with tailing(EventBus.for_runtime(runtime)) as bus:
        theirs = bus.subscribe("other")
        mine = bus.subscribe(runtime.tenant)
        await start_approval(runtime)
        await take(mine, 2)
        own = await start_approval(other)
        events = await take(theirs, 2)
    assert {e.execution_id for e in events} == {own}
    assert {e.tenant_id for e in events} == {"other"}


@pytest.mark.asyncio
async def test_replay_then_live_without_gap_or_duplicate(runtime: Runtime) -> None:
    async with tailing(EventBus.for_runtime(runtime)) as bus:
        execution_id = await start_approval(runtime)
        sub = await bus.subscribe_execution(runtime.tenant, execution_id, replay=True)
        await complete_only_task(runtime, execution_id)
        events = await take(sub, 4)
    assert [e.event for e in events] == RUN
    assert len({e.id for e in events}) == 4


@pytest.mark.asyncio
async def test_a_slow_subscriber_is_dropped_and_the_others_go_on(runtime: Runtime) -> None:
    async with tailing(EventBus.for_runtime(runtime)) as bus:
        slow = bus.subscribe(runtime.tenant, limit=3)
        fast = bus.subscribe(runtime.tenant)
        for _ in range(2):
            await start_approval(runtime)
        events = await take(fast, 4)
        with pytest.raises(SubscriptionDropped, match="too slow: more than 3 events"):
            await take(slow, 4)
    assert len(events) == 4
    assert bus.subscriber_count == 0


@pytest.mark.asyncio
async def test_a_filter_by_name_takes_the_workflow_synonyms(runtime: Runtime) -> None:
    names = event_filter(["workflow.completed"])
    async with tailing(EventBus.for_runtime(runtime)) as bus:
        sub = bus.subscribe(runtime.tenant, lambda e: names(e.event))
        execution_id = await start_approval(runtime)
        await complete_only_task(runtime, execution_id)
        (event,) = await take(sub, 1)
    assert event.event == "execution.completed"
    assert event_filter(["task.*"])("task.created") and not event_filter(["task.*"])("execution.started")
    assert event_filter(None)("anything")


def _event(
    name: str, *, execution_id: str | None = "x", key: str | None = "k", tasks: tuple[TaskRef, ...] = ()
) -> OutboxEvent:
    return OutboxEvent(1, "t", execution_id, name, {}, datetime.now(UTC), key, tasks)


def test_the_topics_pick_their_events() -> None:
    task = TaskRef("x:1", "Review", None, ("bob",), ("managers",), "open")
    mine = task_topic(["maria", "u-1"], ["managers"])
    assert mine(_event("task.created", tasks=(task,)))
    assert task_topic(["bob"], [])(_event("task.completed", tasks=(task,)))
    assert not task_topic(["olaf"], ["sales"])(_event("task.created", tasks=(task,)))
    assert not mine(_event("task.created"))  # a service task: no user task to name anyone
    assert not mine(_event("execution.started", tasks=(task,)))

    every = workflow_topic()
    assert every(_event("workflow.deployed", execution_id=None))
    assert not every(_event("execution.started"))
    one = workflow_topic("k")
    assert one(_event("execution.started")) and one(_event("workflow.created", execution_id=None))
    assert not one(_event("execution.started", key="other"))

    assert execution_topic("x")(_event("task.created")) and not execution_topic("y")(_event("task.created"))
    assert not execution_topic()(_event("workflow.created", execution_id=None))


def test_the_cursor_remembers_skipped_ids_until_they_expire() -> None:
    cursor = TailCursor(10, track_gaps=True, gap_seconds=5)
    assert [i for i in (11, 14) if cursor.accept(i, now=0.0)] == [11, 14]
    assert cursor.missing(now=1.0) == [12, 13]
    assert cursor.accept(13, now=2.0) and not cursor.accept(13, now=2.0)
    assert not cursor.accept(14, now=2.0)
    assert cursor.missing(now=6.0) == []  # 12 never committed: forgotten after gap_seconds
    sqlite = TailCursor(10, track_gaps=False)
    assert sqlite.accept(14, now=0.0) and sqlite.missing(now=0.0) == []


async def _insert_event(conn: AsyncConnection, tenant: str, name: str) -> int:
    stmt = insert(outbox).values(
        tenant_id=tenant,
        execution_id=None,
        event=name,
        payload={"workflow_id": "k"},
        created_at=datetime.now(UTC),
    )
    result = await conn.execute(stmt.returning(outbox.c.id))
    return int(result.scalar_one())


@pytest.mark.asyncio
@pytest.mark.postgres
async def test_a_commit_below_the_cursor_is_published_once(postgres_runtime: Runtime) -> None:
    rt = postgres_runtime
    bus = EventBus(rt.db, poll_interval=0.05)
    async with tailing(bus):
        sub = bus.subscribe(rt.tenant)
        async with rt.db.engine.connect() as slow_conn:
            slow = await slow_conn.begin()
            first = await _insert_event(slow_conn, rt.tenant, "workflow.created")  # not committed yet
            second = await rt.db.transaction(lambda conn: _insert_event(conn, rt.tenant, "workflow.updated"))
            (seen,) = await take(sub, 1)
            assert (seen.id, seen.event) == (second, "workflow.updated") and first < second
            await slow.commit()
        (late,) = await take(sub, 1)
        assert (late.id, late.event, late.workflow_key) == (first, "workflow.created", "k")
        await asyncio.sleep(0.3)
        assert not sub._items  # published once, though asked for again until it came


@pytest.mark.asyncio
@pytest.mark.postgres
@pytest.mark.parametrize("wakeup", ["notify", pytest.param("redis", marks=pytest.mark.redis)])
async def test_another_process_tail_wakes_before_its_poll(
    postgres_runtime: Runtime, wakeup: str, request: pytest.FixtureRequest
) -> None:
    redis_url = request.getfixturevalue("redis_url") if wakeup == "redis" else None
    settings = settings_for(postgres_runtime.settings.database_url, poll_interval_seconds=60.0)
    settings = settings.model_copy(update={"redis_url": redis_url})
    async with open_runtime(settings) as here, open_runtime(settings) as there:
        local, remote = EventBus.for_runtime(here), EventBus.for_runtime(there)
        async with tailing(local), tailing(remote):
            await asyncio.sleep(0.3)  # the listeners are connected
            sub = remote.subscribe(there.tenant)
            loop = asyncio.get_running_loop()
            began = loop.time()
            execution_id = await start_approval(here)
            events = await take(sub, 2, timeout=10)
            waited = loop.time() - began
    assert {e.execution_id for e in events} == {execution_id}
    assert waited < 5, f"the remote tail waited {waited:.1f}s: no wake-up reached it"


@pytest.fixture
def postgres_runtime(runtime: Runtime) -> Runtime:
    if not runtime.db.is_postgres:
        pytest.skip("PostgreSQL only")
    return runtime
