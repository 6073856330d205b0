"""The tables of the service API: users and their API keys, the audit log, and the responses kept
for ``Idempotency-Key`` retries. Defined on the one :data:`~apg_workflow.store.tables.metadata`."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from apg_workflow.store.tables import ID, Serial, UTCDateTime, metadata

# Login names are unique across tenants, so a login needs no tenant.
users = Table(
    "users",
    metadata,
    Column("id", ID, primary_key=True),
    Column("tenant_id", String(64), ForeignKey("tenants.id"), nullable=False),
    Column("username", String(150), nullable=False),
    Column("password_hash", String(255), nullable=False),
    Column("roles", JSON, nullable=False),
    Column("groups", JSON, nullable=False),
    Column("active", Boolean, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    UniqueConstraint("username"),
    Index(None, "tenant_id"),
)

# ``prefix`` finds the row; ``hash`` (SHA-256 of the whole key) proves it. The key is shown once.
api_keys = Table(
    "api_keys",
    metadata,
    Column("id", ID, primary_key=True),
    Column("tenant_id", String(64), ForeignKey("tenants.id"), nullable=False),
    Column("user_id", ID, ForeignKey("users.id"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("prefix", String(32), nullable=False),
    Column("hash", String(64), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("last_used_at", UTCDateTime(), nullable=True),
    Column("revoked_at", UTCDateTime(), nullable=True),
    UniqueConstraint("prefix"),
    Index(None, "tenant_id", "user_id"),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Serial, primary_key=True, autoincrement=True),
    Column("tenant_id", String(64), nullable=False),
    Column("at", UTCDateTime(), nullable=False),
    Column("actor", String(150), nullable=True),
    Column("action", String(100), nullable=False),
    Column("object_type", String(50), nullable=False),
    Column("object_id", String(255), nullable=True),
    Column("details", JSON, nullable=True),
    Index(None, "tenant_id", "id"),
)

# A mutating request sent with ``Idempotency-Key``: the answer to replay when it comes again.
idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("tenant_id", String(64), primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("fingerprint", String(64), nullable=False),  # method, path and body hash
    Column("status_code", Integer, nullable=False),
    Column("body", Text, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Index(None, "created_at"),
)

__all__ = ["api_keys", "audit_log", "idempotency_keys", "users"]
