"""The live event bus of an API process: it tails the transactional outbox and hands each committed
event, once and in id order, to in-process subscribers (WebSocket clients, GraphQL subscriptions).

Every API process tails the shared ``outbox`` table itself, so no event is lost whichever process
or worker committed it. A tail wakes on a commit in its own process, on a wake-up from other
processes — Redis pub/sub when ``APG_REDIS_URL`` is set, PostgreSQL ``LISTEN/NOTIFY`` otherwise —
and every poll interval in any case, so a lost wake-up costs at most one interval.

On PostgreSQL, ids come from a sequence when a row is written, not when it commits: a step may
commit after one with a higher id was read. The tail remembers the ids it skipped (gaps) for
``gap_seconds`` and asks for them again on each scan, so a late commit is still published, once.
Within one execution ids follow commit order (its steps lock its row), so per-execution order
holds. SQLite has one writer at a time and commits in id order: no gaps to track.

A subscriber reads from a bounded queue; one that falls ``queue_size`` events behind is dropped
(:class:`SubscriptionDropped` says why) rather than holding back the others.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable, Iterable
from contextlib import suppress
from typing import Any
from weakref import WeakKeyDictionary

import redis.asyncio as aioredis
from redis.exceptions import RedisError
from sqlalchemy.exc import DBAPIError

from apg_workflow.runtime.context import Runtime
from apg_workflow.runtime.wakeups import wait_any
from apg_workflow.runtime.webhooks import event_matches
from apg_workflow.store import Database, Outcome, Transitions
from apg_workflow.store.outbox_reads import (
    EVENTS_CHANNEL,
    MAX_BATCH,
    OutboxEvent,
    TaskRef,
    execution_events,
    outbox_after,
    outbox_head,
)

log = logging.getLogger(__name__)

Match = Callable[[OutboxEvent], bool]

GAP_SECONDS = 30.0
MAX_GAPS = 1000


class SubscriptionDropped(Exception):
    """The bus ended a subscription: its reader fell too far behind, or the process is stopping."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def event_filter(names: Iterable[str] | None) -> Callable[[str], bool]:
    """A test for event names, by the patterns webhook subscriptions use (exact names, ``family.*``,
    ``*``, and ``workflow.started`` … for the execution events); every name passes when ``names``
    is empty or ``None``."""
    patterns = tuple(names or ())
    if not patterns:
        return lambda _: True
    return lambda event: event_matches(patterns, event)


# Topics: which events a subscriber of each kind receives (the same rules for WebSocket and GraphQL).


def execution_topic(execution_id: str | None = None, names: Iterable[str] | None = None) -> Match:
    """Events of executions (``execution.*`` and ``task.*``): all of them, or one execution's."""
    accept = event_filter(names)
    return lambda event: (
        event.execution_id is not None
        and (execution_id is None or event.execution_id == execution_id)
        and accept(event.event)
    )


def workflow_topic(workflow_key: str | None = None, names: Iterable[str] | None = None) -> Match:
    """Definition events (``workflow.*``) of every workflow; with ``workflow_key``, that workflow's
    definition events and the events of its executions."""
    accept = event_filter(names)

    def match(event: OutboxEvent) -> bool:
        if not accept(event.event):
            return False
        if workflow_key is None:
            return event.execution_id is None and event.event.startswith("workflow.")
        return event.workflow_key == workflow_key

    return match


def task_topic(users: Iterable[str], groups: Iterable[str], names: Iterable[str] | None = None) -> Match:
    """The "my tasks" topic: ``task.*`` events of user tasks that name one of ``users`` as assignee
    or candidate, or one of ``groups`` as a candidate group. Tasks that name nobody are not sent, nor
    are the events of other activities (service tasks, scripts)."""
    people, teams, accept = frozenset(users), frozenset(groups), event_filter(names)

    def names_me(task: TaskRef) -> bool:
        return (
            task.assignee in people
            or not people.isdisjoint(task.candidate_users)
            or not teams.isdisjoint(task.candidate_groups)
        )

    return lambda event: (
        event.event.startswith("task.")
        and accept(event.event)
        and any(names_me(task) for task in event.tasks)
    )


class Subscription:
    """Events of one tenant that ``match`` accepts, in the order the bus publishes them. Iterate
    with ``async for``; the iteration ends after :meth:`close`, and raises
    :class:`SubscriptionDropped` when the bus ends it."""

    def __init__(self, bus: EventBus, tenant_id: str, match: Match, limit: int) -> None:
        self.tenant_id = tenant_id
        self.match = match
        self._bus = bus
        self._limit = limit
        self._items: deque[OutboxEvent] = deque()
        self._ready = asyncio.Event()
        self._replayed: set[int] = set()
        self._closed = False
        self.dropped: str | None = None

    def offer(self, event: OutboxEvent) -> None:
        """Queue ``event`` if it is for this subscription (drops the subscription when full)."""
        if self._closed or event.tenant_id != self.tenant_id or event.id in self._replayed:
            return
        if not self.match(event):
            return
        if len(self._items) >= self._limit:
            self.drop(f"too slow: more than {self._limit} events waiting to be read")
            return
        self._items.append(event)
        self._ready.set()

    def replayed(self, past: list[OutboxEvent]) -> None:
        """Put ``past`` (read after this subscription started) ahead of the live events, each once."""
        ids = {event.id for event in past}
        live = [event for event in self._items if event.id not in ids]
        self._items = deque([event for event in past if self.match(event)] + live)
        self._replayed |= ids
        self._ready.set()

    def drop(self, reason: str) -> None:
        if self._closed:
            return
        self.dropped = reason
        self._items.clear()
        self.close()

    def close(self) -> None:
        self._closed = True
        self._ready.set()
        self._bus.forget(self)

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> OutboxEvent:
        while not self._items:
            if self._closed:
                if self.dropped is not None:
                    raise SubscriptionDropped(self.dropped)
                raise StopAsyncIteration
            self._ready.clear()
            await self._ready.wait()
        return self._items.popleft()


class TailCursor:
    """Which outbox ids a tail has published: everything up to ``last``, except the ``gaps`` (ids
    skipped, with the time they were first missed), which it asks for again until they come or
    expire."""

    def __init__(self, last: int, *, track_gaps: bool, gap_seconds: float = GAP_SECONDS) -> None:
        self.last = last
        self.track_gaps = track_gaps
        self.gap_seconds = gap_seconds
        self.gaps: dict[int, float] = {}

    def missing(self, now: float) -> list[int]:
        """The gaps still worth asking for at ``now``."""
        expired = [gap for gap, since in self.gaps.items() if now - since > self.gap_seconds]
        for gap in expired:
            del self.gaps[gap]
        return sorted(self.gaps)

    def accept(self, event_id: int, now: float) -> bool:
        """Whether ``event_id`` is new (to publish); records the ids it jumps over."""
        if event_id in self.gaps:
            del self.gaps[event_id]
            return True
        if event_id <= self.last:
            return False
        if self.track_gaps:
            for gap in range(max(self.last + 1, event_id - MAX_GAPS), event_id):
                self.gaps[gap] = now
            while len(self.gaps) > MAX_GAPS:
                del self.gaps[min(self.gaps)]
        self.last = event_id
        return True

    def rewind(self, head: int) -> None:
        """The outbox restarted its ids below ``last`` (SQLite reuses them once the table empties)."""
        self.last = head
        self.gaps.clear()


class EventBus:
    """Tails the outbox of ``db`` and publishes to subscribers; :meth:`run` is the process's loop."""

    def __init__(
        self,
        db: Database,
        *,
        poll_interval: float = 1.0,
        redis_url: str | None = None,
        queue_size: int = 1000,
        gap_seconds: float = GAP_SECONDS,
    ) -> None:
        self.db = db
        self.poll_interval = poll_interval
        self.redis_url = redis_url
        self.queue_size = queue_size
        self.gap_seconds = gap_seconds
        self.started = asyncio.Event()
        self._wake = asyncio.Event()
        self._cursor: TailCursor | None = None
        self._subscribers: dict[str, set[Subscription]] = {}
        self._redis: aioredis.Redis | None = None
        self._publishing: asyncio.Future[None] | None = None
        self._publish_again = False

    @classmethod
    def for_runtime(cls, rt: Runtime) -> EventBus:
        """A bus on the runtime's database that hears the runtime's own commits at once."""
        settings = rt.settings
        bus = cls(rt.db, poll_interval=settings.poll_interval_seconds, redis_url=settings.redis_url)
        bus.attach(rt.transitions)
        return bus

    # Subscribing ------------------------------------------------------------------------------

    def subscribe(
        self, tenant_id: str, match: Match | None = None, *, limit: int | None = None
    ) -> Subscription:
        """Live events of ``tenant_id`` that ``match`` accepts, from now on."""
        sub = Subscription(self, tenant_id, match or (lambda _: True), limit or self.queue_size)
        self._subscribers.setdefault(tenant_id, set()).add(sub)
        return sub

    async def subscribe_execution(
        self,
        tenant_id: str,
        execution_id: str,
        names: Iterable[str] | None = None,
        *,
        replay: bool = False,
        limit: int | None = None,
    ) -> Subscription:
        """Events of one execution (those ``names`` accepts); with ``replay``, first those it already
        had (still in the outbox), then the live ones, with none twice and none missing between."""
        sub = self.subscribe(tenant_id, execution_topic(execution_id, names), limit=limit)
        if replay:
            past = await self.db.read(lambda conn: execution_events(conn, tenant_id, execution_id))
            sub.replayed(past)
        return sub

    def forget(self, sub: Subscription) -> None:
        subs = self._subscribers.get(sub.tenant_id)
        if subs is not None:
            subs.discard(sub)
            if not subs:
                del self._subscribers[sub.tenant_id]

    @property
    def subscriber_count(self) -> int:
        return sum(len(subs) for subs in self._subscribers.values())

    # Waking -----------------------------------------------------------------------------------

    def attach(self, transitions: Transitions) -> None:
        """Hear every commit of ``transitions`` (this process's steps) and announce it."""
        previous = transitions.on_commit

        def on_commit(outcome: Outcome) -> None:
            if previous is not None:
                previous(outcome)
            self.announce()

        transitions.on_commit = on_commit

    def announce(self) -> None:
        """Events were committed here: scan now, and wake the other processes' tails."""
        self._wake.set()
        if self.redis_url is None:
            self.db.notify(EVENTS_CHANNEL)
        elif self._publishing is None:
            self._publishing = asyncio.ensure_future(self._publish_wakeups())
        else:
            self._publish_again = True

    async def _publish_wakeups(self) -> None:
        """One Redis PUBLISH per burst of announcements (asks made meanwhile fold into one more)."""
        try:
            again = True
            while again:
                self._publish_again = False
                try:
                    await self._redis_client().publish(EVENTS_CHANNEL, b"")
                except (RedisError, OSError) as exc:
                    log.info("event wake-up not published (other processes will poll): %s", exc)
                again = self._publish_again
        finally:
            self._publishing = None

    def _redis_client(self) -> aioredis.Redis:
        if self._redis is None:
            assert self.redis_url is not None
            self._redis = aioredis.from_url(self.redis_url)
        return self._redis

    async def _listen(self, stop: asyncio.Event) -> None:
        if self.redis_url is None:
            await self.db.listen(EVENTS_CHANNEL, self._wake.set, stop)
            return
        while not stop.is_set():
            try:
                async with self._redis_client().pubsub() as pubsub:
                    await pubsub.subscribe(EVENTS_CHANNEL)
                    self._wake.set()  # what was published while not subscribed
                    while not stop.is_set():
                        if await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0):
                            self._wake.set()
            except (RedisError, OSError) as exc:
                log.info("event wake-ups from Redis interrupted (polling meanwhile): %s", exc)
                with suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), 1.0)

    # Tailing ----------------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """Tail the outbox until ``stop``; then end every subscription."""
        listener = asyncio.create_task(self._listen(stop))
        try:
            await self._start(stop)
            idle = 0
            while not stop.is_set():
                await wait_any(self._wake, stop, timeout=self.poll_interval)
                self._wake.clear()
                published = await self._scan_all(stop)
                idle = 0 if published else idle + 1
                if idle and idle % 30 == 0:
                    await self._check_head()
        finally:
            listener.cancel()
            with suppress(asyncio.CancelledError):
                await listener
            for subs in list(self._subscribers.values()):
                for sub in list(subs):
                    sub.drop("the server is shutting down")
            if self._publishing is not None:
                await self._publishing
            if self._redis is not None:
                await self._redis.aclose()
                self._redis = None

    async def _start(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                head = await self.db.read(outbox_head)
            except (DBAPIError, OSError) as exc:
                log.warning("event tail cannot start yet: %s", exc)
                await wait_any(stop, timeout=self.poll_interval)
                continue
            self._cursor = TailCursor(head, track_gaps=self.db.is_postgres, gap_seconds=self.gap_seconds)
            self.started.set()
            return

    async def _scan_all(self, stop: asyncio.Event) -> int:
        """Scan until caught up; a database failure is logged and left to the next poll."""
        total = 0
        try:
            while not stop.is_set():
                count, full = await self.scan()
                total += count
                if not full:
                    break
        except (DBAPIError, OSError) as exc:
            log.warning("event tail: reading the outbox failed (trying again): %s", exc)
        return total

    async def scan(self) -> tuple[int, bool]:
        """Read what committed since the last scan and publish it: (how many events, whether the
        read was a full batch, so that more may be waiting)."""
        cursor = self._cursor
        if cursor is None:
            return 0, False
        loop = asyncio.get_running_loop()
        after, missing = cursor.last, cursor.missing(loop.time())
        rows = await self.db.read(lambda conn: outbox_after(conn, after, missing=missing))
        now = loop.time()
        fresh = [event for event in rows if cursor.accept(event.id, now)]
        self.publish(fresh)
        return len(fresh), sum(1 for event in rows if event.id > after) >= MAX_BATCH

    async def _check_head(self) -> None:
        cursor = self._cursor
        try:
            head = await self.db.read(outbox_head)
        except (DBAPIError, OSError):
            return
        if cursor is not None and head < cursor.last:
            log.info("outbox ids restarted at %d (were at %d)", head, cursor.last)
            cursor.rewind(head)

    def publish(self, events: Iterable[OutboxEvent]) -> None:
        for event in events:
            for sub in list(self._subscribers.get(event.tenant_id, ())):
                sub.offer(event)


_BUSES: WeakKeyDictionary[Database, EventBus] = WeakKeyDictionary()


def event_bus(rt: Runtime) -> EventBus:
    """The bus of this process on the runtime's database: made on first use, shared by the
    WebSocket and GraphQL handlers and the loop that runs it (every tenant's copy of the runtime
    shares the database, so the same bus)."""
    bus = _BUSES.get(rt.db)
    if bus is None:
        bus = _BUSES[rt.db] = EventBus.for_runtime(rt)
    return bus


def event_message(event: OutboxEvent) -> dict[str, Any]:
    """An event as clients receive it: ``{"type": "event", "id", "event", "execution_id",
    "workflow_key", "data", "created_at"}``. A user task's events carry the task in ``data.task``
    (or, when one step made several instances of it, all of them in ``data.tasks``)."""
    data = dict(event.payload)
    if len(event.tasks) == 1:
        data["task"] = event.tasks[0].to_json()
    elif event.tasks:
        data["tasks"] = [task.to_json() for task in event.tasks]
    return {
        "type": "event",
        "id": event.id,
        "event": event.event,
        "execution_id": event.execution_id,
        "workflow_key": event.workflow_key,
        "data": data,
        "created_at": event.created_at.isoformat().replace("+00:00", "Z"),
    }


__all__ = [
    "EventBus",
    "Subscription",
    "SubscriptionDropped",
    "TailCursor",
    "event_bus",
    "event_filter",
    "event_message",
    "execution_topic",
    "task_topic",
    "workflow_topic",
]
