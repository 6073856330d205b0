"""The webhook dispatcher: committed outbox events → one delivery per matching subscription →
signed HTTP POSTs, retried with backoff, logged attempt by attempt.

Fan-out: events are taken from the outbox in transactions that mark each one (a marker keyed by
the outbox id), locking the rows with ``FOR UPDATE SKIP LOCKED``; the deliveries are written in the
same transaction. Any number of dispatchers may run: each event is fanned out exactly once, also
when events commit out of id order (no high-water mark by id is ever trusted). A floor in time
(every event older is fanned out) bounds both the scan and the markers kept.

Sending: due deliveries are claimed with a lease, POSTed through the SSRF guard per Standard
Webhooks with the subscription's secret, and the result recorded, fenced by the claim. A failure
is tried again after 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h (±20 % jitter; ~28 h in all),
every try keeping the message's ``webhook-id``. When a subscription has had ``disable_after``
deliveries in a row fail for good it is disabled and a ``webhook.disabled`` event is recorded.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncConnection

from apg_workflow.components.builtins.integration.signing import event_body, signed_headers
from apg_workflow.components.builtins.integration.ssrf import AddressGuard, AllowList, GuardedTransport
from apg_workflow.components.errors import ComponentError
from apg_workflow.runtime.context import Runtime
from apg_workflow.runtime.wakeups import wait_any
from apg_workflow.runtime.worker import worker_name
from apg_workflow.store import webhooks as stored
from apg_workflow.store.webhooks import AttemptRecord, DeliveryRecord, FanOutEvent, SubscriptionRow
from apg_workflow.store.workflows import outbox_event

log = logging.getLogger(__name__)

DEFINITION_EVENTS = ("workflow.created", "workflow.updated", "workflow.deleted", "workflow.deployed")
EXECUTION_EVENTS = ("execution.started", "execution.completed", "execution.failed", "execution.cancelled")
TASK_EVENTS = ("task.created", "task.completed", "task.failed")
EVENTS = (*DEFINITION_EVENTS, *EXECUTION_EVENTS, *TASK_EVENTS, "webhook.disabled")
SYNONYMS = {name.replace("execution.", "workflow."): name for name in EXECUTION_EVENTS}
"""Names accepted when subscribing, for the execution events."""

RESPONSE_EXCERPT = 1024
Unseal = Callable[[SubscriptionRow], str]
"""Opens a subscription's sealed signing secret (the services own the keys)."""


def check_event_patterns(patterns: Iterable[str]) -> tuple[str, ...]:
    """The patterns, deduplicated; ValueError naming any that matches no event. A pattern is an
    event name (or a ``workflow.*`` synonym of an execution event), ``family.*`` or ``*``."""
    chosen = tuple(dict.fromkeys(patterns))
    if not chosen:
        raise ValueError("subscribe to at least one event (or '*' for all)")
    families = {name.split(".", 1)[0] + ".*" for name in EVENTS}
    unknown = [p for p in chosen if p != "*" and p not in EVENTS and p not in SYNONYMS and p not in families]
    if unknown:
        raise ValueError(
            f"unknown event(s) {', '.join(repr(p) for p in unknown)}: use {', '.join(EVENTS)}, "
            "a family such as 'task.*', or '*'"
        )
    return chosen


def event_matches(patterns: Iterable[str], event: str) -> bool:
    for pattern in patterns:
        pattern = SYNONYMS.get(pattern, pattern)
        if pattern in ("*", event) or (pattern.endswith(".*") and event.startswith(pattern[:-1])):
            return True
    return False


@dataclass(frozen=True, slots=True)
class DispatchPolicy:
    """How deliveries are tried: the waits between tries, their jitter (a fraction), how many
    deliveries failing for good in a row disable a subscription, the time one try may take, how
    many are sent at once, and how long a step's commit may lag its events' ``created_at`` (a
    step reads the clock after locking its execution, and a transaction is retried for at most a
    minute, each try stamping anew; the floor stays this far behind)."""

    retry_delays: tuple[float, ...] = (5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 36000.0)
    jitter: float = 0.2
    disable_after: int = 5
    timeout: float = 15.0
    concurrency: int = 20
    batch: int = 200
    commit_grace: timedelta = timedelta(minutes=2)  # a step stamps its rows inside its transaction
    floor_every: timedelta = timedelta(seconds=30)
    poll_seconds: float | None = None  # None: the settings' poll interval

    @property
    def lease(self) -> timedelta:
        return timedelta(seconds=self.timeout + 30.0)


def next_try(policy: DispatchPolicy, attempts: int, now: datetime, rand: float) -> datetime | None:
    """When to try again after the ``attempts``-th try failed (``rand`` in [0, 1) spreads it by the
    jitter); ``None`` once the retries are spent."""
    if attempts > len(policy.retry_delays):
        return None
    spread = 1.0 - policy.jitter + 2.0 * policy.jitter * rand
    return now + timedelta(seconds=policy.retry_delays[attempts - 1] * spread)


async def post(
    client: httpx.AsyncClient, url: str, headers: dict[str, str], body: bytes, *, at: datetime, timeout: float
) -> AttemptRecord:
    """One POST: the answer's status, latency until its headers and first KiB, or why it failed."""
    started = time.monotonic()
    status: int | None = None
    latency: int | None = None
    excerpt = bytearray()
    try:
        async with asyncio.timeout(timeout):
            async with client.stream("POST", url, content=body, headers=headers) as response:
                status = response.status_code
                latency = round((time.monotonic() - started) * 1000)
                async for chunk in response.aiter_bytes():
                    excerpt += chunk
                    if len(excerpt) >= RESPONSE_EXCERPT:
                        break
    except (httpx.HTTPError, httpx.InvalidURL, ComponentError, OSError, TimeoutError) as exc:
        error = getattr(exc, "message", None) or str(exc) or type(exc).__name__
        if isinstance(exc, TimeoutError):
            error = f"no complete answer within {timeout:g} s"
        if status is None:
            return AttemptRecord(0, at, None, round((time.monotonic() - started) * 1000), None, error)
    text = bytes(excerpt[:RESPONSE_EXCERPT]).decode("utf-8", "replace") or None
    return AttemptRecord(0, at, status, latency, text, None)


@dataclass
class Dispatcher:
    """Fans out and sends for one process. Use as ``async with`` (it owns an HTTP client)."""

    rt: Runtime
    unseal: Unseal
    policy: DispatchPolicy = DispatchPolicy()
    name: str = field(default_factory=worker_name)
    rand: Callable[[], float] = random.random
    _client: httpx.AsyncClient | None = None
    _inflight: set[asyncio.Task[None]] = field(default_factory=set)
    _floor_moved: datetime | None = None

    async def __aenter__(self) -> Dispatcher:
        allow = AllowList.parse(self.rt.settings.webhook_allowed_hosts)
        self._client = httpx.AsyncClient(
            transport=GuardedTransport(AddressGuard(allow)), follow_redirects=False, trust_env=False
        )
        await self.rt.db.transaction(stored.ensure_floor_txn)
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._inflight:
            await asyncio.wait(self._inflight, timeout=self.policy.timeout)
            for task in self._inflight:
                task.cancel()  # its claim expires: another dispatcher tries again
            await asyncio.gather(*self._inflight, return_exceptions=True)
        if self._client is not None:
            await self._client.aclose()

    # Fan-out ------------------------------------------------------------------------------------

    async def fan_out(self) -> int:
        """Turn the next batch of committed events into deliveries; how many events were taken."""
        now = self.rt.clock()

        async def work(conn: AsyncConnection) -> int:
            events = await stored.take_events(conn, limit=self.policy.batch)
            subscriptions = await stored.enabled_subscriptions(conn, (e.tenant_id for e in events))
            await stored.insert_deliveries(conn, list(_deliveries(events, subscriptions, now)))
            return len(events)

        return await self.rt.db.transaction(work)

    async def advance_floor(self) -> datetime:
        horizon = self.rt.clock() - self.policy.commit_grace
        floor = await self.rt.db.transaction(lambda conn: stored.advance_floor_txn(conn, horizon=horizon))
        self._floor_moved = self.rt.clock()
        return floor

    # Sending ------------------------------------------------------------------------------------

    async def deliver_due(self) -> int:
        """Send every delivery due now (up to a batch) and wait for the results; how many."""
        claimed = await self._claim(self.policy.batch)
        semaphore = asyncio.Semaphore(self.policy.concurrency)

        async def one(delivery: DeliveryRecord, subscription: SubscriptionRow | None) -> None:
            async with semaphore:
                await self._deliver(delivery, subscription)

        await asyncio.gather(*(one(d, s) for d, s in claimed))
        return len(claimed)

    async def _start_due(self) -> int:
        """Claim what fits beside the sends in flight and start sending it; how many were claimed."""
        room = self.policy.concurrency - len(self._inflight)
        if room <= 0:
            return 0
        claimed = await self._claim(room)
        for delivery, subscription in claimed:
            task = asyncio.create_task(self._deliver(delivery, subscription), name=f"webhook {delivery.id}")
            self._inflight.add(task)
            task.add_done_callback(self._inflight.discard)
        return len(claimed)

    async def _claim(self, limit: int) -> list[tuple[DeliveryRecord, SubscriptionRow | None]]:
        now = self.rt.clock()

        async def work(conn: AsyncConnection) -> list[tuple[DeliveryRecord, SubscriptionRow | None]]:
            claimed = await stored.claim_deliveries(
                conn, worker=self.name, now=now, until=now + self.policy.lease, limit=limit
            )
            owners = await stored.subscriptions_by_id(conn, (c.subscription_id for c in claimed))
            return [(c, owners.get(c.subscription_id)) for c in claimed]

        return await self.rt.db.transaction(work)

    async def _deliver(self, delivery: DeliveryRecord, subscription: SubscriptionRow | None) -> None:
        try:
            if subscription is None:  # deleted since the delivery was made
                await self.rt.db.transaction(lambda conn: stored.drop_delivery_txn(conn, delivery))
                return
            now = self.rt.clock()
            if not subscription.enabled:
                attempt = AttemptRecord(0, now, None, None, None, "the subscription is disabled")
            else:
                attempt = await self._send(delivery, subscription, now)
            await self._record(delivery, subscription, attempt)
        except Exception:
            log.exception(
                "webhook delivery %s failed unexpectedly; tried again when its claim ends", delivery.id
            )

    async def _send(
        self, delivery: DeliveryRecord, subscription: SubscriptionRow, now: datetime
    ) -> AttemptRecord:
        assert self._client is not None, "use the dispatcher as an async context manager"
        body = event_body(delivery.event_type, delivery.occurred_at, delivery.payload)
        try:
            secret = self.unseal(subscription)
        except Exception as exc:  # the keys changed: a failed try the log shows, retried as usual
            return AttemptRecord(0, now, None, None, None, f"the signing secret cannot be opened: {exc}")
        headers = signed_headers(secret, delivery.message_id, now, body)
        headers["user-agent"] = "apg-workflow-webhooks"
        return await post(self._client, subscription.url, headers, body, at=now, timeout=self.policy.timeout)

    async def _record(
        self, delivery: DeliveryRecord, subscription: SubscriptionRow, attempt: AttemptRecord
    ) -> None:
        tried = delivery.attempts + 1
        attempt = replace(attempt, attempt=tried)
        delivered = attempt.status_code is not None and 200 <= attempt.status_code < 300
        retry = (
            None
            if delivered or not subscription.enabled
            else next_try(self.policy, tried, attempt.at, self.rand())
        )
        status = "delivered" if delivered else "pending" if retry is not None else "failed"

        async def work(conn: AsyncConnection) -> None:
            if not await stored.finish_attempt_txn(conn, delivery, attempt, status=status, due_at=retry):
                log.info(
                    "webhook delivery %s: claim %d expired; result dropped", delivery.id, delivery.claims
                )
                return
            if delivered:
                await stored.reset_failures_txn(conn, subscription.id)
            elif status == "failed" and subscription.enabled:
                await self._count_failure(conn, subscription, attempt.at)

        await self.rt.db.transaction(work)

    async def _count_failure(
        self, conn: AsyncConnection, subscription: SubscriptionRow, now: datetime
    ) -> None:
        disabled = await stored.count_failure_txn(
            conn, subscription.id, now=now, disable_after=self.policy.disable_after
        )
        if disabled is None:
            return
        log.warning(
            "webhook %s disabled after %d deliveries failed in a row",
            disabled.id,
            disabled.consecutive_failures,
        )
        payload = {
            "webhook_id": disabled.id,
            "url": disabled.url,
            "consecutive_failures": disabled.consecutive_failures,
            "disabled_at": now.isoformat(),
        }
        await outbox_event(conn, disabled.tenant_id, "webhook.disabled", payload, now)

    # The loop -----------------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """Fan out and send until ``stop`` is set; then let sends in flight finish (for at most a
        try's timeout)."""
        poll = self.policy.poll_seconds or self.rt.settings.poll_interval_seconds
        log.info("webhook dispatcher %s started", self.name)
        while not stop.is_set():
            due: datetime | None = None
            try:
                # Idle passes only read: on SQLite they never queue for the write lock.
                waiting, due = await self.rt.db.read(stored.pending_work)
                taken = await self.fan_out() if waiting else 0
                now = self.rt.clock()
                started = await self._start_due() if taken or (due is not None and due <= now) else 0
                if self._floor_moved is None or now - self._floor_moved >= self.policy.floor_every:
                    await self.advance_floor()
                if taken or (started and len(self._inflight) < self.policy.concurrency):
                    continue
                due = await self.rt.db.read(stored.next_delivery_due)
            except Exception:
                log.exception("the webhook dispatcher failed; trying again")
            pause = poll if due is None else min(poll, (due - self.rt.clock()).total_seconds())
            await wait_any(stop, timeout=pause)
        log.info("webhook dispatcher %s stopped", self.name)


def _deliveries(
    events: Sequence[FanOutEvent], subscriptions: Sequence[SubscriptionRow], now: datetime
) -> Iterable[dict[str, Any]]:
    """A pending delivery, due now, per event and enabled subscription of its tenant that wants it;
    the deliveries of one event share its message id."""
    for event in events:
        message_id = f"msg_{uuid.uuid4().hex}"
        for subscription in subscriptions:
            if subscription.tenant_id == event.tenant_id and event_matches(subscription.events, event.event):
                yield {
                    "id": uuid.uuid4().hex,
                    "tenant_id": event.tenant_id,
                    "subscription_id": subscription.id,
                    "message_id": message_id,
                    "outbox_id": event.id,
                    "event_type": event.event,
                    "payload": event.payload,
                    "occurred_at": event.created_at,
                    "status": "pending",
                    "attempts": 0,
                    "due_at": now,
                    "claimed_by": None,
                    "created_at": now,
                }


__all__ = [
    "EVENTS",
    "SYNONYMS",
    "DispatchPolicy",
    "Dispatcher",
    "Unseal",
    "check_event_patterns",
    "event_matches",
    "next_try",
    "post",
]
