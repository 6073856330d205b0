"""The webhook dispatcher on both dialects: committed events reach subscribers signed per Standard
Webhooks (verified with the ``standardwebhooks`` library), failures are retried with backoff under
one ``webhook-id``, persistent failure disables a subscription with an event, redelivery resends,
several dispatchers fan each event out exactly once, and a claimed delivery survives its
dispatcher dying."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
import pytest_asyncio
from sqlalchemy import func, select
from standardwebhooks import Webhook

from apg_workflow import services
from apg_workflow.runtime.context import Runtime, open_runtime
from apg_workflow.runtime.webhooks import DispatchPolicy
from apg_workflow.services import webhooks
from apg_workflow.store import webhooks as stored
from apg_workflow.store.tables import outbox
from apg_workflow.store.webhook_tables import webhook_deliveries, webhook_dispatched
from apg_workflow.store.workflows import outbox_event
from tests.integration.components import conftest as loopback
from tests.integration.components.conftest import LoopbackHttp, Received
from tests.integration.store.databases import Clock, deploy_text, settings_for, wait_for
from tests.integration.store.workflows import TWO_TASKS

pytestmark = pytest.mark.asyncio
http_server = loopback.http_server  # the loopback HTTP server fixture, as the receiver
FAST = DispatchPolicy(retry_delays=(0.0, 0.0, 0.0), jitter=0.0, timeout=5.0)


@pytest_asyncio.fixture
async def rt(database_url: str) -> AsyncIterator[Runtime]:
    async with open_runtime(settings_for(database_url, webhook_allowed_hosts=["127.0.0.1"])) as runtime:
        yield runtime


def verified(secret: str, request: Received) -> dict[str, Any]:
    """What a receiver's ``standardwebhooks`` check makes of the request (raises when it fails)."""
    return Webhook(secret).verify(request.body, request.headers)  # type: ignore[no-any-return]


def scripted(*statuses: int) -> Callable[[Received], tuple[int, dict[str, str], str]]:
    """Answers with ``statuses`` in turn, then 200."""
    left = list(statuses)

    def answer(request: Received) -> tuple[int, dict[str, str], str]:
        status = left.pop(0) if left else 200
        return status, {"Content-Type": "text/plain"}, f"answer {status}"

    return answer


async def run_everything(rt: Runtime, policy: DispatchPolicy = FAST) -> None:
    async with webhooks.dispatcher(rt, policy) as dispatcher:
        while await dispatcher.fan_out():
            pass
        await dispatcher.deliver_due()


async def deliveries(rt: Runtime, subscription_id: str) -> list[stored.DeliveryRecord]:
    page = await webhooks.list_deliveries(rt, subscription_id, limit=500)
    return list(page.items)


async def test_execution_and_task_events_reach_the_subscriber_signed(
    rt: Runtime, http_server: LoopbackHttp
) -> None:
    http_server.route("/hook", scripted())
    created = await webhooks.create_subscription(
        rt, url=http_server.url("/hook"), events=["workflow.started", "task.created"]
    )
    assert created.secret.startswith("whsec_")
    await deploy_text(rt, TWO_TASKS)
    started = await services.start(rt, "review", variables={"amount": 12})

    await run_everything(rt)

    events = [verified(created.secret, request) for request in http_server.received]
    assert sorted(e["type"] for e in events) == ["execution.started", "task.created", "task.created"]
    assert {e["data"]["execution_id"] for e in events} == {started.execution_id}
    assert {e["data"]["element_id"] for e in events if e["type"] == "task.created"} == {"legal", "finance"}
    assert all(e["timestamp"].endswith("Z") for e in events)
    assert len({r.headers["webhook-id"] for r in http_server.received}) == 3
    logged = await deliveries(rt, created.subscription.id)
    assert {d.status for d in logged} == {"delivered"}
    assert all(d.last_status_code == 200 and d.last_latency_ms is not None for d in logged)


async def test_the_dispatch_loop_delivers_as_events_commit_and_stops_on_request(
    rt: Runtime, http_server: LoopbackHttp
) -> None:
    http_server.route("/hook", scripted(503))
    created = await webhooks.create_subscription(rt, url=http_server.url("/hook"), events=["execution.*"])
    stop = asyncio.Event()
    loop = asyncio.create_task(webhooks.dispatch_loop(rt, replace(FAST, poll_seconds=0.02))(stop))
    try:
        await deploy_text(rt, TWO_TASKS)
        started = await services.start(rt, "review")
        await services.cancel(rt, started.execution_id)

        async def both_delivered() -> bool:
            return {d.status for d in await deliveries(rt, created.subscription.id)} == {"delivered"} and len(
                await deliveries(rt, created.subscription.id)
            ) == 2

        await wait_for(both_delivered)
    finally:
        stop.set()
        await asyncio.wait_for(loop, 10)
    events = [verified(created.secret, r)["type"] for r in http_server.received]
    assert sorted(set(events)) == ["execution.cancelled", "execution.started"]
    assert len(events) == 3  # one answered 503 first and was tried again


async def test_a_receiver_failing_three_times_gets_the_event_on_the_fourth_try_with_one_webhook_id(
    database_url: str, http_server: LoopbackHttp
) -> None:
    clock = Clock()
    settings = settings_for(database_url, webhook_allowed_hosts=["127.0.0.1"])
    async with open_runtime(settings, clock=clock) as rt:
        http_server.route("/hook", scripted(500, 500, 500))
        created = await webhooks.create_subscription(rt, url=http_server.url("/hook"), events=["*"])
        await _outbox_event(rt, "workflow.deployed", {"key": "orders"})
        waits = []
        async with webhooks.dispatcher(rt, DispatchPolicy(jitter=0.0)) as dispatcher:
            await dispatcher.fan_out()
            for _ in range(4):
                assert await dispatcher.deliver_due() == 1
                assert await dispatcher.deliver_due() == 0  # not due again before its backoff
                [delivery] = await deliveries(rt, created.subscription.id)
                if delivery.due_at is not None:
                    waits.append((delivery.due_at - clock.now).total_seconds())
                    clock.advance(delivery.due_at - clock.now)

    assert waits == [5.0, 300.0, 1800.0]  # the default schedule: 5 s, 5 min, 30 min, …
    assert [r.headers["webhook-id"] for r in http_server.received] == [delivery.message_id] * 4
    first, last = http_server.received[0], http_server.received[-1]
    assert first.body == last.body
    for request in (first, last):  # signed at the time of each try
        at = datetime.fromtimestamp(int(request.headers["webhook-timestamp"]), UTC)
        signature = Webhook(created.secret).sign(delivery.message_id, at, request.body.decode())
        assert request.headers["webhook-signature"] == signature
    assert delivery.status == "delivered" and delivery.attempts == 4
    async with open_runtime(settings) as rt:
        _, attempts = await webhooks.get_delivery(rt, created.subscription.id, delivery.id)
    assert [(a.attempt, a.status_code, a.response) for a in attempts] == [
        (1, 500, "answer 500"),
        (2, 500, "answer 500"),
        (3, 500, "answer 500"),
        (4, 200, "answer 200"),
    ]


async def test_persistent_failure_disables_the_subscription_and_records_an_event(
    rt: Runtime, http_server: LoopbackHttp
) -> None:
    http_server.route("/down", lambda r: (503, {}, "down"))
    http_server.route("/ops", scripted())
    failing = await webhooks.create_subscription(rt, url=http_server.url("/down"), events=["workflow.*"])
    watcher = await webhooks.create_subscription(rt, url=http_server.url("/ops"), events=["webhook.disabled"])
    policy = replace(FAST, retry_delays=(0.0,), disable_after=2)
    for key in ("a", "b"):
        await _outbox_event(rt, "workflow.created", {"key": key})
    await run_everything(rt, policy)  # two tries each
    await run_everything(rt, policy)

    disabled = await webhooks.get_subscription(rt, failing.subscription.id)
    assert not disabled.enabled and disabled.disabled_at is not None
    assert disabled.consecutive_failures == 2
    assert {d.status for d in await deliveries(rt, failing.subscription.id)} == {"failed"}
    await run_everything(rt, policy)  # the webhook.disabled event goes out
    [notice] = [verified(watcher.secret, r) for r in http_server.received if r.path == "/ops"]
    assert notice["type"] == "webhook.disabled"
    assert notice["data"]["webhook_id"] == failing.subscription.id

    await _outbox_event(rt, "workflow.created", {"key": "c"})
    await run_everything(rt, policy)
    assert len(await deliveries(rt, failing.subscription.id)) == 2  # a disabled subscription gets nothing new
    with pytest.raises(services.Conflict):
        await webhooks.redeliver(
            rt, failing.subscription.id, (await deliveries(rt, failing.subscription.id))[0].id
        )
    enabled = await webhooks.update_subscription(
        rt, failing.subscription.id, webhooks.SubscriptionChanges(enabled=True)
    )
    assert enabled.enabled and enabled.consecutive_failures == 0 and enabled.disabled_at is None


async def test_redelivery_resends_with_the_same_webhook_id(rt: Runtime, http_server: LoopbackHttp) -> None:
    http_server.route("/hook", scripted())
    created = await webhooks.create_subscription(rt, url=http_server.url("/hook"))
    await _outbox_event(rt, "workflow.deployed", {"key": "orders", "version": 2})
    await run_everything(rt)
    [delivery] = await deliveries(rt, created.subscription.id)

    again = await webhooks.redeliver(rt, created.subscription.id, delivery.id)
    assert again.status == "pending"
    await run_everything(rt)

    first, second = http_server.received
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == delivery.message_id
    assert verified(created.secret, second)["data"] == {"key": "orders", "version": 2}
    [redelivered] = await deliveries(rt, created.subscription.id)
    assert redelivered.status == "delivered" and redelivered.attempts == 2


async def test_a_blocked_target_fails_the_try_without_a_request(
    rt: Runtime, http_server: LoopbackHttp
) -> None:
    created = await webhooks.create_subscription(rt, url=http_server.url("/hook"))
    async with open_runtime(settings_for(rt.settings.database_url)) as guarded:  # 127.0.0.1 not allowed
        await _outbox_event(guarded, "workflow.created", {"key": "x"})
        await run_everything(guarded, replace(FAST, retry_delays=()))
    [delivery] = await deliveries(rt, created.subscription.id)
    assert delivery.status == "failed"
    assert delivery.last_error is not None and "server-side request forgery" in delivery.last_error
    assert http_server.received == []


async def test_a_claimed_delivery_is_sent_after_its_dispatcher_died(
    database_url: str, http_server: LoopbackHttp
) -> None:
    clock = Clock()
    settings = settings_for(database_url, webhook_allowed_hosts=["127.0.0.1"])
    async with open_runtime(settings, clock=clock) as rt:
        http_server.route("/hook", scripted())
        created = await webhooks.create_subscription(rt, url=http_server.url("/hook"))
        await _outbox_event(rt, "workflow.created", {"key": "survivor"})
        doomed = webhooks.dispatcher(rt, FAST)
        await doomed.fan_out()
        [(claimed, _)] = await doomed._claim(10)  # claimed, then the process dies before sending
        assert claimed.claims == 1

        async with webhooks.dispatcher(rt, FAST) as successor:
            assert await successor.deliver_due() == 0  # the dead one's lease still holds
            clock.advance(FAST.lease + timedelta(seconds=1))
            assert await successor.deliver_due() == 1

    [request] = http_server.received
    assert verified(created.secret, request)["data"] == {"key": "survivor"}


@pytest.mark.postgres
async def test_two_dispatchers_fan_out_every_event_exactly_once_even_committed_out_of_order(
    database_url: str,
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("concurrent dispatchers with row locks: PostgreSQL")
    settings = settings_for(database_url)
    async with open_runtime(settings) as one, open_runtime(settings) as two:
        subs = [
            (
                await webhooks.create_subscription(one, url=f"https://example.com/{i}", events=events)
            ).subscription
            for i, events in enumerate((["*"], ["workflow.created"], ["task.*"]))
        ]
        raw = await asyncpg.connect(database_url)
        late = raw.transaction()
        await late.start()  # an event whose step commits after all those below
        late_id = await raw.fetchval(
            "INSERT INTO outbox (tenant_id, event, payload, created_at) "
            "VALUES ($1, $2, $3, now()) RETURNING id",
            "default",
            "workflow.created",
            json.dumps({"key": "late"}),
        )
        for index in range(300):
            await _outbox_event(one, "workflow.created" if index % 2 else "task.created", {"n": index})

        async def drain(rt: Runtime) -> None:
            async with webhooks.dispatcher(rt, replace(FAST, batch=17)) as dispatcher:
                while await dispatcher.fan_out():
                    await dispatcher.advance_floor()

        await asyncio.gather(drain(one), drain(two), drain(one))
        await late.commit()
        await raw.close()
        await asyncio.gather(drain(two), drain(one))

        async def counts(conn: Any) -> dict[str, tuple[int, int]]:
            d = webhook_deliveries.c
            rows = await conn.execute(
                select(d.subscription_id, func.count(), func.count(d.outbox_id.distinct())).group_by(
                    d.subscription_id
                )
            )
            return {row[0]: (row[1], row[2]) for row in rows}

        found = await one.db.read(counts)
        late_deliveries = await one.db.read(
            lambda conn: conn.execute(
                select(func.count())
                .select_from(webhook_deliveries)
                .where(webhook_deliveries.c.outbox_id == late_id)
            )
        )
    assert found == {subs[0].id: (301, 301), subs[1].id: (151, 151), subs[2].id: (150, 150)}
    assert late_deliveries.scalar_one() == 2


async def test_the_floor_bounds_the_markers_but_never_passes_an_event_not_fanned_out(rt: Runtime) -> None:
    await webhooks.create_subscription(rt, url="https://example.com/hook")
    for index in range(5):
        await _outbox_event(rt, "workflow.created", {"n": index})
    policy = replace(FAST, commit_grace=timedelta(0))
    async with webhooks.dispatcher(rt, replace(policy, batch=2)) as dispatcher:
        await dispatcher.fan_out()
        floor = await dispatcher.advance_floor()
        oldest_left = await rt.db.read(
            lambda conn: conn.execute(select(func.min(outbox.c.created_at)).where(outbox.c.id > 2))
        )
        assert floor == oldest_left.scalar_one()  # stops at the first event still waiting
        while await dispatcher.fan_out():
            pass
        await dispatcher.advance_floor()
    marked = await rt.db.read(lambda conn: conn.execute(select(func.count()).select_from(webhook_dispatched)))
    assert marked.scalar_one() == 0  # every event is below the floor now: no marker is kept
    total = await rt.db.read(lambda conn: conn.execute(select(func.count()).select_from(webhook_deliveries)))
    assert total.scalar_one() == 5


async def _outbox_event(rt: Runtime, event: str, payload: dict[str, Any]) -> None:
    now = rt.clock()
    await rt.db.transaction(lambda conn: outbox_event(conn, rt.tenant, event, payload, now))
