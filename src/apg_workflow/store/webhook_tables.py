"""The schema of webhooks, both ways, on the store's ``metadata`` (migration ``0005``).

Out: a tenant's ``webhook_subscriptions`` (a target URL, the events it wants, a signing secret
sealed by the caller); ``webhook_deliveries``, one per event and subscription, claimed through
``due_at`` like the other hot tables (NULL once delivered or given up); ``webhook_attempts``, the log
of every try. The dispatcher marks each outbox event it has fanned out in ``webhook_dispatched`` (so
that several dispatchers, and events committed out of id order, still give exactly one delivery per
subscription) and keeps in ``webhook_dispatch_floor`` the time before which every event is known to
be fanned out, so that neither the outbox scan nor the markers grow with the outbox.

In: ``inbound_webhooks``, per-workflow URLs that start an execution or correlate a message when a
request carries a valid signature.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from apg_workflow.store.tables import ID, Serial, UTCDateTime, _claim_columns, _created, _tenant, metadata


def _sealed_secret() -> tuple[Column[str], Column[str]]:
    """A secret sealed by the services (AES-GCM), with the id of the key that sealed it."""
    return Column("key_id", String(32), nullable=False), Column("secret", Text, nullable=False)


webhook_subscriptions = Table(
    "webhook_subscriptions",
    metadata,
    Column("id", ID, primary_key=True),
    _tenant(),
    Column("url", String(2000), nullable=False),
    Column("description", String(500), nullable=True),
    Column("events", JSON, nullable=False),  # event names, `family.*` or `*`
    *_sealed_secret(),
    Column("enabled", Boolean, nullable=False),
    Column("consecutive_failures", Integer, nullable=False, server_default=text("0")),
    Column("disabled_at", UTCDateTime(), nullable=True),
    _created(),
    Column("updated_at", UTCDateTime(), nullable=False),
    Index(None, "tenant_id", "created_at", "id"),
)

webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", ID, primary_key=True),
    _tenant(),
    Column("subscription_id", ID, nullable=False),
    Column("message_id", String(64), nullable=False),  # `webhook-id`: one per event, kept on every try
    Column("outbox_id", Serial, nullable=True),
    Column("event_type", String(64), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("occurred_at", UTCDateTime(), nullable=False),
    Column("status", String(16), nullable=False),  # pending | delivered | failed
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    *_claim_columns(),  # due_at: the next try; NULL once delivered or failed
    Column("last_attempt_at", UTCDateTime(), nullable=True),
    Column("last_status_code", Integer, nullable=True),
    Column("last_latency_ms", Integer, nullable=True),
    Column("last_response", Text, nullable=True),  # the first KiB of the answer
    Column("last_error", Text, nullable=True),
    _created(),
    Column("delivered_at", UTCDateTime(), nullable=True),
    UniqueConstraint("subscription_id", "message_id"),
    Index(None, "due_at"),
    Index(None, "tenant_id", "subscription_id", "created_at", "id"),
)

webhook_attempts = Table(
    "webhook_attempts",
    metadata,
    Column("id", Serial, primary_key=True, autoincrement=True),
    _tenant(),
    Column("delivery_id", ID, nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("at", UTCDateTime(), nullable=False),
    Column("status_code", Integer, nullable=True),
    Column("latency_ms", Integer, nullable=True),
    Column("response", Text, nullable=True),
    Column("error", Text, nullable=True),
    Index(None, "delivery_id", "id"),
)

webhook_dispatched = Table(
    "webhook_dispatched",
    metadata,
    Column("outbox_id", Serial, primary_key=True, autoincrement=False),
    Column("occurred_at", UTCDateTime(), nullable=False),  # the outbox row's created_at
    Index(None, "occurred_at"),
)

webhook_dispatch_floor = Table(
    "webhook_dispatch_floor",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),  # always 1
    Column("floor", UTCDateTime(), nullable=False),
)

inbound_webhooks = Table(
    "inbound_webhooks",
    metadata,
    Column("id", ID, primary_key=True),  # public: the last segment of the hook's URL
    _tenant(),
    Column("description", String(500), nullable=True),
    Column("action", String(16), nullable=False),  # start | correlate
    Column("workflow_key", String(255), nullable=True),
    Column("message_name", String(500), nullable=True),
    Column("correlation_key", String(500), nullable=True),  # a JSON pointer or JMESPath into the body
    Column("scheme", String(16), nullable=False),  # standard | github | stripe | hmac-header
    Column("signature_header", String(100), nullable=True),
    Column("signature_encoding", String(8), nullable=True),  # hex | base64
    Column("timestamp_header", String(100), nullable=True),
    Column("tolerance_seconds", Integer, nullable=False),
    *_sealed_secret(),
    Column("enabled", Boolean, nullable=False),
    _created(),
    Column("updated_at", UTCDateTime(), nullable=False),
    Index(None, "tenant_id", "created_at", "id"),
)

__all__ = [
    "inbound_webhooks",
    "webhook_attempts",
    "webhook_deliveries",
    "webhook_dispatch_floor",
    "webhook_dispatched",
    "webhook_subscriptions",
]
