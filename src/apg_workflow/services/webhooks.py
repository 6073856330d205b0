"""Webhook subscriptions: a tenant's URLs that receive its events, signed per Standard Webhooks.

A subscription's signing secret (``whsec_…``) is made here, returned once, at creation, and sealed
at rest with the keys of ``APG_SECRET_KEYS`` (bound to the tenant and subscription id); only the
dispatcher opens it, to sign. Target URLs must be http(s); a literal private, loopback or
link-local address (or ``localhost``) is refused at once unless ``webhook_allowed_hosts`` lists it,
and every delivery goes through the SSRF guard again, after resolving the host.
"""

from __future__ import annotations

import asyncio
import ipaddress
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.ext.asyncio import AsyncConnection

from apg_workflow.components.builtins.integration.signing import new_secret
from apg_workflow.components.builtins.integration.ssrf import AllowList, blocked_reason
from apg_workflow.components.errors import ConfigurationError
from apg_workflow.runtime import webhooks as dispatch
from apg_workflow.runtime.context import Runtime
from apg_workflow.security.secrets import Sealed, SecretKeyError
from apg_workflow.services.audit import audit
from apg_workflow.services.connections import SecretsUnavailable, keyring
from apg_workflow.services.errors import Conflict, ServiceError
from apg_workflow.settings import Settings
from apg_workflow.store import NotFound, Page
from apg_workflow.store import webhooks as stored
from apg_workflow.store.webhooks import AttemptRecord, DeliveryRecord, SubscriptionRow

MAX_URL = 2000


class WebhookRejected(ServiceError):
    """A subscription's URL or events that cannot be accepted."""


@dataclass(frozen=True, slots=True)
class Subscription:
    """A subscription as callers see it (never its secret)."""

    id: str
    url: str
    description: str | None
    events: tuple[str, ...]
    enabled: bool
    consecutive_failures: int
    disabled_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: SubscriptionRow) -> Subscription:
        return cls(**{name: getattr(row, name) for name in cls.__dataclass_fields__})


@dataclass(frozen=True, slots=True)
class CreatedSubscription:
    subscription: Subscription
    secret: str  # shown once


@dataclass(frozen=True, slots=True)
class SubscriptionChanges:
    """What an update changes; ``None`` keeps the current value (an empty description clears it)."""

    url: str | None = None
    events: tuple[str, ...] | None = None
    description: str | None = None
    enabled: bool | None = None


# Secrets ------------------------------------------------------------------------------------------


def _context(kind: str, tenant_id: str, object_id: str) -> bytes:
    """What a sealed secret is bound to: it opens only for this tenant's object of this id."""
    return f"apg-workflow {kind}\0{tenant_id}\0{object_id}".encode()


def seal_secret(settings: Settings, kind: str, tenant_id: str, object_id: str, secret: str) -> Sealed:
    return keyring(settings).seal(secret.encode(), _context(kind, tenant_id, object_id))


def open_secret(settings: Settings, kind: str, tenant_id: str, object_id: str, sealed: Sealed) -> str:
    try:
        return keyring(settings).open(sealed, _context(kind, tenant_id, object_id)).decode()
    except SecretKeyError as exc:
        raise SecretsUnavailable(exc.message) from None


def _unseal(settings: Settings) -> dispatch.Unseal:
    def unseal(row: SubscriptionRow) -> str:
        return open_secret(settings, "webhook", row.tenant_id, row.id, Sealed(row.key_id, row.secret))

    return unseal


# Validation ---------------------------------------------------------------------------------------


def check_target(settings: Settings, url: str) -> str:
    """The URL, if it may be a webhook target (see the module's docstring); else :class:`WebhookRejected`."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        parts.port  # noqa: B018  (raises on a malformed port)
    except ValueError:
        raise WebhookRejected("the webhook URL is malformed") from None
    if parts.scheme not in ("http", "https") or not host or len(url) > MAX_URL:
        raise WebhookRejected(
            f"a webhook URL is an absolute http:// or https:// URL of at most {MAX_URL} characters"
        )
    try:
        allow = AllowList.parse(settings.webhook_allowed_hosts)
    except ConfigurationError as exc:
        raise WebhookRejected(f"webhook_allowed_hosts: {exc}") from None
    if allow.allows_host(host):
        return url
    if host == "localhost" or host.endswith(".localhost"):
        raise WebhookRejected(_refused(host, "a loopback name"))
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return url  # a name: checked against what it resolves to at every delivery
    reason = blocked_reason(address)
    if reason is not None and not allow.allows_address(address):
        raise WebhookRejected(_refused(host, reason))
    return url


def _refused(host: str, reason: str) -> str:
    return (
        f"refused webhook target {host}: it is {reason}, blocked to prevent server-side request forgery "
        "(an operator can allow it with APG_WEBHOOK_ALLOWED_HOSTS)"
    )


def check_events(events: Iterable[str]) -> tuple[str, ...]:
    try:
        return dispatch.check_event_patterns(events)
    except ValueError as exc:
        raise WebhookRejected(str(exc)) from None


# Subscriptions ------------------------------------------------------------------------------------


async def create_subscription(
    rt: Runtime,
    *,
    url: str,
    events: Iterable[str] = ("*",),
    description: str | None = None,
    enabled: bool = True,
    actor: str | None = None,
) -> CreatedSubscription:
    """Subscribe ``url`` to ``events``; the answer carries the signing secret, never shown again."""
    now = rt.clock()
    subscription_id = f"wh_{uuid.uuid4().hex}"
    secret = new_secret()
    sealed = seal_secret(rt.settings, "webhook", rt.tenant, subscription_id, secret)
    row = SubscriptionRow(
        id=subscription_id,
        tenant_id=rt.tenant,
        url=check_target(rt.settings, url),
        description=description or None,
        events=check_events(events),
        key_id=sealed.key_id,
        secret=sealed.token,
        enabled=enabled,
        consecutive_failures=0,
        disabled_at=None,
        created_at=now,
        updated_at=now,
    )
    details = {"url": row.url, "events": list(row.events)}

    async def work(conn: AsyncConnection) -> None:
        await stored.insert_subscription_txn(conn, row)
        await audit(conn, rt, actor, "webhook.created", "webhook", subscription_id, details)

    await rt.db.transaction(work)
    return CreatedSubscription(Subscription.of(row), secret)


async def get_subscription(rt: Runtime, subscription_id: str) -> Subscription:
    row = await rt.db.read(lambda conn: stored.get_subscription(conn, rt.tenant, subscription_id))
    return Subscription.of(row)


async def list_subscriptions(
    rt: Runtime, *, limit: int = 50, cursor: str | None = None
) -> Page[Subscription]:
    page = await rt.db.read(
        lambda conn: stored.list_subscriptions(conn, rt.tenant, limit=limit, cursor=cursor)
    )
    return Page(tuple(Subscription.of(row) for row in page.items), page.next_cursor)


async def update_subscription(
    rt: Runtime, subscription_id: str, changes: SubscriptionChanges, *, actor: str | None = None
) -> Subscription:
    """Apply ``changes``. Enabling a disabled subscription clears its failure count."""
    now = rt.clock()
    values: dict[str, Any] = {"updated_at": now}
    if changes.url is not None:
        values["url"] = check_target(rt.settings, changes.url)
    if changes.events is not None:
        values["events"] = list(check_events(changes.events))
    if changes.description is not None:
        values["description"] = changes.description or None
    if changes.enabled is not None:
        values["enabled"] = changes.enabled
        if changes.enabled:
            values |= {"consecutive_failures": 0, "disabled_at": None}
    details = {k: v for k, v in values.items() if k in ("url", "events", "description", "enabled")}

    async def work(conn: AsyncConnection) -> None:
        await stored.update_subscription_txn(conn, rt.tenant, subscription_id, values)
        await audit(conn, rt, actor, "webhook.updated", "webhook", subscription_id, details)

    await rt.db.transaction(work)
    return await get_subscription(rt, subscription_id)


async def delete_subscription(rt: Runtime, subscription_id: str, *, actor: str | None = None) -> None:
    """Remove the subscription with its delivery log."""

    async def work(conn: AsyncConnection) -> None:
        await stored.delete_subscription_txn(conn, rt.tenant, subscription_id)
        await audit(conn, rt, actor, "webhook.deleted", "webhook", subscription_id)

    await rt.db.transaction(work)


# Deliveries ---------------------------------------------------------------------------------------


async def list_deliveries(
    rt: Runtime,
    subscription_id: str,
    *,
    status: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> Page[DeliveryRecord]:
    """The subscription's deliveries, newest first (raises ``NotFound`` for an unknown subscription)."""

    async def work(conn: AsyncConnection) -> Page[DeliveryRecord]:
        await stored.get_subscription(conn, rt.tenant, subscription_id)
        return await stored.list_deliveries(
            conn, rt.tenant, subscription_id, status=status, limit=limit, cursor=cursor
        )

    return await rt.db.read(work)


async def get_delivery(
    rt: Runtime, subscription_id: str, delivery_id: str
) -> tuple[DeliveryRecord, tuple[AttemptRecord, ...]]:
    """A delivery of the subscription with every attempt made, oldest first."""

    async def work(conn: AsyncConnection) -> tuple[DeliveryRecord, tuple[AttemptRecord, ...]]:
        delivery = await _delivery_of(conn, rt.tenant, subscription_id, delivery_id)
        return delivery, await stored.list_attempts(conn, delivery_id)

    return await rt.db.read(work)


async def redeliver(
    rt: Runtime, subscription_id: str, delivery_id: str, *, actor: str | None = None
) -> DeliveryRecord:
    """Try the delivery again now, with the same ``webhook-id`` (receivers drop what they had)."""
    now = rt.clock()

    async def work(conn: AsyncConnection) -> DeliveryRecord:
        await _delivery_of(conn, rt.tenant, subscription_id, delivery_id)
        subscription = await stored.get_subscription(conn, rt.tenant, subscription_id)
        if not subscription.enabled:
            raise Conflict(f"webhook '{subscription.id}' is disabled: enable it before redelivering")
        await stored.redeliver_txn(conn, rt.tenant, delivery_id, now)
        await audit(conn, rt, actor, "webhook.redelivered", "webhook_delivery", delivery_id)
        return await stored.get_delivery(conn, rt.tenant, delivery_id)

    return await rt.db.transaction(work)


async def _delivery_of(
    conn: AsyncConnection, tenant_id: str, subscription_id: str, delivery_id: str
) -> DeliveryRecord:
    delivery = await stored.get_delivery(conn, tenant_id, delivery_id)
    if delivery.subscription_id != subscription_id:
        raise NotFound("webhook delivery", delivery_id)
    return delivery


# The dispatcher -----------------------------------------------------------------------------------


def dispatcher(rt: Runtime, policy: dispatch.DispatchPolicy | None = None) -> dispatch.Dispatcher:
    """A dispatcher for ``rt`` that opens subscription secrets with the configured keys."""
    return dispatch.Dispatcher(rt, _unseal(rt.settings), policy or dispatch.DispatchPolicy())


def dispatch_loop(
    rt: Runtime, policy: dispatch.DispatchPolicy | None = None
) -> Callable[[asyncio.Event], Awaitable[None]]:
    """The dispatcher as a background loop of a process (``loop(stop)``)."""

    async def loop(stop: asyncio.Event) -> None:
        async with dispatcher(rt, policy) as running:
            await running.run(stop)

    loop.__qualname__ = "webhook dispatcher"
    return loop


__all__ = [
    "CreatedSubscription",
    "Subscription",
    "SubscriptionChanges",
    "WebhookRejected",
    "audit",
    "check_target",
    "create_subscription",
    "delete_subscription",
    "dispatch_loop",
    "dispatcher",
    "get_delivery",
    "get_subscription",
    "list_deliveries",
    "list_subscriptions",
    "open_secret",
    "redeliver",
    "seal_secret",
    "update_subscription",
]
