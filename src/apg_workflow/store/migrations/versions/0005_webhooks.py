"""Webhooks out (subscriptions, deliveries, their attempts, the dispatcher's outbox markers and
floor) and in (per-workflow inbound hooks).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

SERIAL = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _at(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _text(name: str, length: int | None = None, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.String(length) if length else sa.Text(), nullable=nullable)


def _tenant() -> sa.Column:
    return sa.Column("tenant_id", sa.String(64), nullable=False)


def _sealed() -> tuple[sa.Column, sa.Column]:
    return _text("key_id", 32, nullable=False), _text("secret", nullable=False)


def upgrade() -> None:
    op.create_table(
        "webhook_subscriptions",
        _text("id", 255, nullable=False),
        _tenant(),
        _text("url", 2000, nullable=False),
        _text("description", 500),
        sa.Column("events", sa.JSON(), nullable=False),
        *_sealed(),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("consecutive_failures", sa.Integer(), server_default=sa.text("0"), nullable=False),
        _at("disabled_at", True),
        _at("created_at"),
        _at("updated_at"),
        sa.PrimaryKeyConstraint("id", name="pk_webhook_subscriptions"),
    )
    op.create_index(
        "ix_webhook_subscriptions_tenant_id_created_at_id",
        "webhook_subscriptions",
        ["tenant_id", "created_at", "id"],
    )
    op.create_table(
        "webhook_deliveries",
        _text("id", 255, nullable=False),
        _tenant(),
        _text("subscription_id", 255, nullable=False),
        _text("message_id", 64, nullable=False),
        sa.Column("outbox_id", SERIAL, nullable=True),
        _text("event_type", 64, nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        _at("occurred_at"),
        _text("status", 16, nullable=False),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        _at("due_at", True),
        _text("claimed_by", 255),
        sa.Column("claims", sa.Integer(), server_default=sa.text("0"), nullable=False),
        _at("last_attempt_at", True),
        sa.Column("last_status_code", sa.Integer(), nullable=True),
        sa.Column("last_latency_ms", sa.Integer(), nullable=True),
        _text("last_response"),
        _text("last_error"),
        _at("created_at"),
        _at("delivered_at", True),
        sa.PrimaryKeyConstraint("id", name="pk_webhook_deliveries"),
        sa.UniqueConstraint(
            "subscription_id", "message_id", name="uq_webhook_deliveries_subscription_id_message_id"
        ),
    )
    op.create_index("ix_webhook_deliveries_due_at", "webhook_deliveries", ["due_at"])
    op.create_index(
        "ix_webhook_deliveries_tenant_id_subscription_id_created_at_id",
        "webhook_deliveries",
        ["tenant_id", "subscription_id", "created_at", "id"],
    )
    op.create_table(
        "webhook_attempts",
        sa.Column("id", SERIAL, primary_key=True, autoincrement=True),
        _tenant(),
        _text("delivery_id", 255, nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        _at("at"),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("latency_ms", sa.Integer(), nullable=True),
        _text("response"),
        _text("error"),
    )
    op.create_index("ix_webhook_attempts_delivery_id_id", "webhook_attempts", ["delivery_id", "id"])
    op.create_table(
        "webhook_dispatched",
        sa.Column("outbox_id", SERIAL, autoincrement=False, nullable=False),
        _at("occurred_at"),
        sa.PrimaryKeyConstraint("outbox_id", name="pk_webhook_dispatched"),
    )
    op.create_index("ix_webhook_dispatched_occurred_at", "webhook_dispatched", ["occurred_at"])
    op.create_table(
        "webhook_dispatch_floor",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        _at("floor"),
        sa.PrimaryKeyConstraint("id", name="pk_webhook_dispatch_floor"),
    )
    op.create_table(
        "inbound_webhooks",
        _text("id", 255, nullable=False),
        _tenant(),
        _text("description", 500),
        _text("action", 16, nullable=False),
        _text("workflow_key", 255),
        _text("message_name", 500),
        _text("correlation_key", 500),
        _text("scheme", 16, nullable=False),
        _text("signature_header", 100),
        _text("signature_encoding", 8),
        _text("timestamp_header", 100),
        sa.Column("tolerance_seconds", sa.Integer(), nullable=False),
        *_sealed(),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        _at("created_at"),
        _at("updated_at"),
        sa.PrimaryKeyConstraint("id", name="pk_inbound_webhooks"),
    )
    op.create_index(
        "ix_inbound_webhooks_tenant_id_created_at_id", "inbound_webhooks", ["tenant_id", "created_at", "id"]
    )


def downgrade() -> None:
    op.drop_index("ix_inbound_webhooks_tenant_id_created_at_id", table_name="inbound_webhooks")
    op.drop_table("inbound_webhooks")
    op.drop_table("webhook_dispatch_floor")
    op.drop_index("ix_webhook_dispatched_occurred_at", table_name="webhook_dispatched")
    op.drop_table("webhook_dispatched")
    op.drop_index("ix_webhook_attempts_delivery_id_id", table_name="webhook_attempts")
    op.drop_table("webhook_attempts")
    op.drop_index(
        "ix_webhook_deliveries_tenant_id_subscription_id_created_at_id", table_name="webhook_deliveries"
    )
    op.drop_index("ix_webhook_deliveries_due_at", table_name="webhook_deliveries")
    op.drop_table("webhook_deliveries")
    op.drop_index("ix_webhook_subscriptions_tenant_id_created_at_id", table_name="webhook_subscriptions")
    op.drop_table("webhook_subscriptions")
