"""Outgoing webhooks at rest: subscriptions, deliveries and their attempts, and the dispatcher's
SQL (fan out committed outbox events, claim due deliveries, record a try fenced by its claim).

Every function takes the connection of the caller's transaction; none commits. Reads for the API
are scoped by tenant; the dispatcher's statements work across tenants.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table, delete, exists, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from apg_workflow.store.errors import NotFound
from apg_workflow.store.reads import _page, _paged
from apg_workflow.store.records import Page, _fields
from apg_workflow.store.tables import outbox
from apg_workflow.store.webhook_tables import (
    webhook_attempts,
    webhook_deliveries,
    webhook_dispatch_floor,
    webhook_dispatched,
    webhook_subscriptions,
)

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
s = webhook_subscriptions.c
d = webhook_deliveries.c


@dataclass(frozen=True, slots=True)
class SubscriptionRow:
    id: str
    tenant_id: str
    url: str
    description: str | None
    events: tuple[str, ...]
    key_id: str
    secret: str  # sealed
    enabled: bool
    consecutive_failures: int
    disabled_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_row(cls, row: Any) -> SubscriptionRow:
        values = _fields(cls, row)
        return cls(**values | {"events": tuple(values["events"])})

    def to_row(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__} | {
            "events": list(self.events)
        }


@dataclass(frozen=True, slots=True)
class DeliveryRecord:
    """One event for one subscription; ``claims`` fences the dispatcher that holds it."""

    id: str
    tenant_id: str
    subscription_id: str
    message_id: str
    event_type: str
    payload: Any
    occurred_at: datetime
    status: str
    attempts: int
    due_at: datetime | None
    claims: int
    last_attempt_at: datetime | None
    last_status_code: int | None
    last_latency_ms: int | None
    last_response: str | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None

    @classmethod
    def from_row(cls, row: Any) -> DeliveryRecord:
        return cls(**_fields(cls, row))


@dataclass(frozen=True, slots=True)
class AttemptRecord:
    """One try of a delivery: the answer's status, how long it took, its first KiB, or the error."""

    attempt: int
    at: datetime
    status_code: int | None
    latency_ms: int | None
    response: str | None
    error: str | None

    @classmethod
    def from_row(cls, row: Any) -> AttemptRecord:
        return cls(**_fields(cls, row))


@dataclass(frozen=True, slots=True)
class FanOutEvent:
    id: int
    tenant_id: str
    event: str
    payload: Any
    created_at: datetime


_DELIVERY = [d[name] for name in DeliveryRecord.__dataclass_fields__]
_ATTEMPT = [webhook_attempts.c[name] for name in AttemptRecord.__dataclass_fields__]


def _dialect_insert(conn: AsyncConnection) -> Any:
    return postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert


# Rows a tenant owns, by id (subscriptions here, inbound hooks in :mod:`.inbound_hooks`) ----------


async def owned_row(conn: AsyncConnection, table: Table, kind: str, tenant_id: str, row_id: str) -> Any:
    stmt = select(table).where(table.c.tenant_id == tenant_id, table.c.id == row_id)
    row = (await conn.execute(stmt)).first()
    if row is None:
        raise NotFound(kind, row_id)
    return row


async def owned_page(
    conn: AsyncConnection, table: Table, record: Any, tenant_id: str, limit: int, cursor: str | None
) -> Page[Any]:
    """A tenant's rows as records, oldest first."""
    stmt = select(table).where(table.c.tenant_id == tenant_id)
    rows = await conn.execute(_page(stmt, table, cursor, limit, newest_first=False))
    return _paged([record.from_row(r) for r in rows], limit)


async def update_owned(
    conn: AsyncConnection, table: Table, kind: str, tenant_id: str, row_id: str, values: Mapping[str, Any]
) -> None:
    stmt = update(table).where(table.c.tenant_id == tenant_id, table.c.id == row_id).values(dict(values))
    if (await conn.execute(stmt)).rowcount != 1:
        raise NotFound(kind, row_id)


async def delete_owned(conn: AsyncConnection, table: Table, kind: str, tenant_id: str, row_id: str) -> None:
    stmt = delete(table).where(table.c.tenant_id == tenant_id, table.c.id == row_id)
    if (await conn.execute(stmt)).rowcount != 1:
        raise NotFound(kind, row_id)


# Subscriptions ------------------------------------------------------------------------------------


async def insert_subscription_txn(conn: AsyncConnection, row: SubscriptionRow) -> None:
    await conn.execute(insert(webhook_subscriptions).values(row.to_row()))


async def get_subscription(conn: AsyncConnection, tenant_id: str, subscription_id: str) -> SubscriptionRow:
    row = await owned_row(conn, webhook_subscriptions, "webhook", tenant_id, subscription_id)
    return SubscriptionRow.from_row(row)


async def list_subscriptions(
    conn: AsyncConnection, tenant_id: str, *, limit: int = 50, cursor: str | None = None
) -> Page[SubscriptionRow]:
    """A tenant's subscriptions, oldest first."""
    return await owned_page(conn, webhook_subscriptions, SubscriptionRow, tenant_id, limit, cursor)


async def update_subscription_txn(
    conn: AsyncConnection, tenant_id: str, subscription_id: str, values: Mapping[str, Any]
) -> None:
    await update_owned(conn, webhook_subscriptions, "webhook", tenant_id, subscription_id, values)


async def delete_subscription_txn(conn: AsyncConnection, tenant_id: str, subscription_id: str) -> None:
    """The subscription with its deliveries and their attempts."""
    await delete_owned(conn, webhook_subscriptions, "webhook", tenant_id, subscription_id)
    owned = select(d.id).where(d.subscription_id == subscription_id)
    await conn.execute(delete(webhook_attempts).where(webhook_attempts.c.delivery_id.in_(owned)))
    await conn.execute(delete(webhook_deliveries).where(d.subscription_id == subscription_id))


async def subscriptions_by_id(conn: AsyncConnection, ids: Iterable[str]) -> dict[str, SubscriptionRow]:
    chosen = sorted(set(ids))
    if not chosen:
        return {}
    rows = await conn.execute(select(webhook_subscriptions).where(s.id.in_(chosen)))
    return {row.id: SubscriptionRow.from_row(row) for row in rows}


async def enabled_subscriptions(conn: AsyncConnection, tenant_ids: Iterable[str]) -> list[SubscriptionRow]:
    chosen = sorted(set(tenant_ids))
    if not chosen:
        return []
    stmt = select(webhook_subscriptions).where(s.tenant_id.in_(chosen), s.enabled.is_(True)).order_by(s.id)
    return [SubscriptionRow.from_row(row) for row in await conn.execute(stmt)]


async def count_failure_txn(
    conn: AsyncConnection, subscription_id: str, *, now: datetime, disable_after: int
) -> SubscriptionRow | None:
    """One more delivery given up on; the subscription when this failure disabled it."""
    stmt = (
        update(webhook_subscriptions)
        .where(s.id == subscription_id)
        .values(consecutive_failures=s.consecutive_failures + 1)
        .returning(s.consecutive_failures, s.enabled)
    )
    row = (await conn.execute(stmt)).first()
    if row is None or not row.enabled or row.consecutive_failures < disable_after:
        return None
    disable = (
        update(webhook_subscriptions)
        .where(s.id == subscription_id, s.enabled.is_(True))
        .values(enabled=False, disabled_at=now, updated_at=now)
        .returning(*webhook_subscriptions.c)
    )
    disabled = (await conn.execute(disable)).first()
    return SubscriptionRow.from_row(disabled) if disabled is not None else None


async def reset_failures_txn(conn: AsyncConnection, subscription_id: str) -> None:
    stmt = update(webhook_subscriptions).where(s.id == subscription_id, s.consecutive_failures != 0)
    await conn.execute(stmt.values(consecutive_failures=0))


# Deliveries ---------------------------------------------------------------------------------------


async def list_deliveries(
    conn: AsyncConnection,
    tenant_id: str,
    subscription_id: str,
    *,
    status: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> Page[DeliveryRecord]:
    """A subscription's deliveries, newest first."""
    stmt = select(*_DELIVERY).where(d.tenant_id == tenant_id, d.subscription_id == subscription_id)
    if status is not None:
        stmt = stmt.where(d.status == status)
    rows = await conn.execute(_page(stmt, webhook_deliveries, cursor, limit, newest_first=True))
    return _paged([DeliveryRecord.from_row(r) for r in rows], limit)


async def get_delivery(conn: AsyncConnection, tenant_id: str, delivery_id: str) -> DeliveryRecord:
    stmt = select(*_DELIVERY).where(d.tenant_id == tenant_id, d.id == delivery_id)
    row = (await conn.execute(stmt)).first()
    if row is None:
        raise NotFound("webhook delivery", delivery_id)
    return DeliveryRecord.from_row(row)


async def list_attempts(conn: AsyncConnection, delivery_id: str) -> tuple[AttemptRecord, ...]:
    a = webhook_attempts.c
    rows = await conn.execute(select(*_ATTEMPT).where(a.delivery_id == delivery_id).order_by(a.id))
    return tuple(AttemptRecord.from_row(r) for r in rows)


async def redeliver_txn(conn: AsyncConnection, tenant_id: str, delivery_id: str, now: datetime) -> None:
    """Make the delivery due now (its message id unchanged), whatever its status."""
    stmt = (
        update(webhook_deliveries)
        .where(d.tenant_id == tenant_id, d.id == delivery_id)
        .values(status="pending", due_at=now, claimed_by=None)
    )
    if (await conn.execute(stmt)).rowcount != 1:
        raise NotFound("webhook delivery", delivery_id)


async def insert_deliveries(conn: AsyncConnection, rows: Sequence[Mapping[str, Any]]) -> None:
    """New deliveries; one that repeats a (subscription, message id) is skipped."""
    if rows:
        stmt = _dialect_insert(conn)(webhook_deliveries).on_conflict_do_nothing(
            index_elements=[d.subscription_id, d.message_id]
        )
        await conn.execute(stmt, [dict(row) for row in rows])


async def claim_deliveries(
    conn: AsyncConnection, *, worker: str, now: datetime, until: datetime, limit: int
) -> list[DeliveryRecord]:
    """Take up to ``limit`` due deliveries, most overdue first, for ``worker`` until ``until``."""
    due = (
        select(d.id).where(d.due_at <= now).order_by(d.due_at).limit(limit).with_for_update(skip_locked=True)
    )
    stmt = (
        update(webhook_deliveries)
        .where(d.id.in_(due))
        .values(due_at=until, claimed_by=worker, claims=d.claims + 1)
        .returning(*_DELIVERY)
    )
    return [DeliveryRecord.from_row(row) for row in await conn.execute(stmt)]


async def finish_attempt_txn(
    conn: AsyncConnection,
    delivery: DeliveryRecord,
    attempt: AttemptRecord,
    *,
    status: str,
    due_at: datetime | None,
) -> bool:
    """Record a try of a claimed delivery and its new status; False (nothing written) when the
    claim is no longer current."""
    stmt = (
        update(webhook_deliveries)
        .where(d.id == delivery.id, d.claims == delivery.claims)
        .values(
            status=status,
            attempts=d.attempts + 1,
            due_at=due_at,
            claimed_by=None,
            last_attempt_at=attempt.at,
            last_status_code=attempt.status_code,
            last_latency_ms=attempt.latency_ms,
            last_response=attempt.response,
            last_error=attempt.error,
            delivered_at=attempt.at if status == "delivered" else d.delivered_at,
        )
    )
    if (await conn.execute(stmt)).rowcount != 1:
        return False
    values = {name: getattr(attempt, name) for name in AttemptRecord.__dataclass_fields__}
    await conn.execute(
        insert(webhook_attempts).values(tenant_id=delivery.tenant_id, delivery_id=delivery.id, **values)
    )
    return True


async def drop_delivery_txn(conn: AsyncConnection, delivery: DeliveryRecord) -> None:
    """Remove a claimed delivery whose subscription no longer exists."""
    await conn.execute(delete(webhook_deliveries).where(d.id == delivery.id, d.claims == delivery.claims))


async def next_delivery_due(conn: AsyncConnection) -> datetime | None:
    return (await conn.execute(select(func.min(d.due_at)))).scalar_one_or_none()


# Fan-out of the outbox ----------------------------------------------------------------------------

m = webhook_dispatched.c


def _undispatched(floor: datetime) -> Any:
    return outbox.c.created_at >= floor, ~exists().where(m.outbox_id == outbox.c.id)


async def ensure_floor_txn(conn: AsyncConnection) -> None:
    """Create the floor's row (at the epoch) if it is missing: dispatchers do so before their first
    fan-out, so that the share lock :func:`take_events` takes on it always has a row to hold."""
    floors = webhook_dispatch_floor.c
    await conn.execute(
        _dialect_insert(conn)(webhook_dispatch_floor)
        .values(id=1, floor=EPOCH)
        .on_conflict_do_nothing(index_elements=[floors.id])
    )


async def _floor(conn: AsyncConnection, *, exclusive: bool) -> datetime:
    """The floor, locked until the transaction ends: shared by fan-outs, exclusive for a move (which
    drops markers a fan-out reading an older floor would miss)."""
    floors = webhook_dispatch_floor.c
    stmt = select(floors.floor).where(floors.id == 1).with_for_update(read=not exclusive)
    return (await conn.execute(stmt)).scalar_one_or_none() or EPOCH


async def take_events(conn: AsyncConnection, *, limit: int) -> list[FanOutEvent]:
    """Lock up to ``limit`` outbox events above the floor not fanned out yet (skipping those another
    dispatcher holds) and mark them, in id order. An event another dispatcher marked since this
    one's snapshot is left out: the marker's key decides, so each event is taken exactly once."""
    floor = await _floor(conn, exclusive=False)
    o = outbox.c
    stmt = (
        select(o.id, o.tenant_id, o.event, o.payload, o.created_at)
        .where(*_undispatched(floor))
        .order_by(o.id)
        .limit(limit)
        .with_for_update(skip_locked=True, of=outbox)
    )
    events = [FanOutEvent(*row) for row in await conn.execute(stmt)]
    if not events:
        return []
    marks = [{"outbox_id": e.id, "occurred_at": e.created_at} for e in events]
    mark = (
        _dialect_insert(conn)(webhook_dispatched)
        .values(marks)
        .on_conflict_do_nothing(index_elements=[m.outbox_id])
        .returning(m.outbox_id)
    )
    taken = {row[0] for row in await conn.execute(mark)}
    return [e for e in events if e.id in taken]


async def pending_work(conn: AsyncConnection) -> tuple[bool, datetime | None]:
    """Whether events wait to be fanned out, and when the next delivery is due: what an idle
    dispatcher reads (without a lock) before it opens a write transaction."""
    floors = webhook_dispatch_floor.c
    floor = select(floors.floor).where(floors.id == 1).scalar_subquery()
    waiting = select(outbox.c.id).where(outbox.c.created_at >= func.coalesce(floor, EPOCH))
    waiting = waiting.where(~exists().where(m.outbox_id == outbox.c.id)).limit(1)
    found = (await conn.execute(waiting)).first() is not None
    return found, await next_delivery_due(conn)


async def advance_floor_txn(conn: AsyncConnection, *, horizon: datetime) -> datetime:
    """Move the floor up to the oldest event not fanned out yet, but never past ``horizon`` (now
    minus the longest a step's transaction may take to commit: an event committed later than its
    ``created_at`` must still be above the floor). Markers below the new floor are dropped."""
    await ensure_floor_txn(conn)
    current = await _floor(conn, exclusive=True)
    oldest = select(func.min(outbox.c.created_at)).where(*_undispatched(current))
    waiting = (await conn.execute(oldest)).scalar_one_or_none()
    target = max(current, min(waiting, horizon) if waiting is not None else horizon)
    if target > current:
        floors = webhook_dispatch_floor.c
        await conn.execute(update(webhook_dispatch_floor).where(floors.id == 1).values(floor=target))
        await conn.execute(delete(webhook_dispatched).where(m.occurred_at < target))
    return target


__all__ = [
    "AttemptRecord",
    "DeliveryRecord",
    "FanOutEvent",
    "SubscriptionRow",
    "advance_floor_txn",
    "claim_deliveries",
    "count_failure_txn",
    "delete_owned",
    "delete_subscription_txn",
    "drop_delivery_txn",
    "enabled_subscriptions",
    "ensure_floor_txn",
    "finish_attempt_txn",
    "get_delivery",
    "get_subscription",
    "insert_deliveries",
    "insert_subscription_txn",
    "list_attempts",
    "list_deliveries",
    "list_subscriptions",
    "next_delivery_due",
    "owned_page",
    "owned_row",
    "pending_work",
    "redeliver_txn",
    "reset_failures_txn",
    "subscriptions_by_id",
    "take_events",
    "update_owned",
    "update_subscription_txn",
]
