"""The schema (SQLAlchemy Core). Every table carries ``tenant_id``. Alembic's revisions in
``migrations/versions`` build exactly this schema (a test compares them).

Hot tables (jobs, timers, commands, subscriptions) hold only what is live and are claimed through
one ``due_at`` index: a row is claimable when ``due_at <= now``; a claim moves ``due_at`` to the end
of its lease and bumps ``claims`` (the fencing token).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on both dialects (SQLite keeps naive UTC text)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: the store keeps aware UTC datetimes")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


ID = String(255)
ACTIVE_ROOT = "status IN ('pending', 'running') AND parent_id IS NULL"  # what a concurrency limit counts
QUEUED = "status = 'queued'"
# Each step rewrites its execution's row: room on the page lets PostgreSQL update it in place (a
# "HOT" update, touching none of the table's indexes) instead of in every index each time.
EXECUTIONS_FILLFACTOR = 50
Serial = BigInteger().with_variant(Integer(), "sqlite")  # SQLite autoincrements INTEGER PRIMARY KEY only


def _tenant() -> Column[Any]:
    return Column("tenant_id", String(64), nullable=False)


def _created() -> Column[Any]:
    return Column("created_at", UTCDateTime(), nullable=False)


def _claim_columns() -> tuple[Column[Any], ...]:
    return (
        Column("due_at", UTCDateTime(), nullable=True),  # claimable from; NULL = held back
        Column("claimed_by", String(255), nullable=True),
        Column("claims", Integer, nullable=False, server_default=text("0")),
    )


tenants = Table(
    "tenants",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    _created(),
    Column("max_concurrent_executions", Integer, nullable=True),  # active root executions; NULL = no limit
)

workflows = Table(
    "workflows",
    metadata,
    Column("id", Serial, primary_key=True, autoincrement=True),
    Column("tenant_id", String(64), ForeignKey("tenants.id"), nullable=False),
    Column("key", String(255), nullable=False),
    Column("name", String(500), nullable=True),
    Column("latest_version", Integer, nullable=False),
    _created(),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("max_concurrent_executions", Integer, nullable=True),  # active root executions; NULL = no limit
    # What the API shows and filters on; a deleted workflow keeps its versions for its executions.
    Column("description", Text, nullable=True),
    Column("category", String(100), nullable=True),
    Column("status", String(16), nullable=False, server_default=text("'active'")),  # active | deleted
    UniqueConstraint("tenant_id", "key"),
)

workflow_versions = Table(
    "workflow_versions",
    metadata,
    Column("id", Serial, primary_key=True, autoincrement=True),
    _tenant(),
    Column("workflow_id", Serial, ForeignKey("workflows.id"), nullable=False),
    Column("version", Integer, nullable=False),
    Column("checksum", String(64), nullable=False),
    Column("main_process", String(255), nullable=False),
    Column("sources", JSON, nullable=False),  # [{"name", "format", "text"}], the main file first
    _created(),
    UniqueConstraint("workflow_id", "version"),
)

# Message and signal start events of the latest version of each workflow.
start_triggers = Table(
    "start_triggers",
    metadata,
    Column("id", Serial, primary_key=True, autoincrement=True),
    _tenant(),
    Column("workflow_id", Serial, ForeignKey("workflows.id"), nullable=False),
    Column("version_id", Serial, ForeignKey("workflow_versions.id"), nullable=False),
    Column("kind", String(16), nullable=False),  # message | signal
    Column("name", String(500), nullable=False),
    Column("process_id", String(255), nullable=False),
    Column("element_id", String(255), nullable=False),
    Index(None, "tenant_id", "kind", "name"),
    Index(None, "workflow_id"),
)

executions = Table(
    "executions",
    metadata,
    Column("id", ID, primary_key=True),
    _tenant(),
    Column("workflow_id", Serial, ForeignKey("workflows.id"), nullable=False),
    Column("version_id", Serial, ForeignKey("workflow_versions.id"), nullable=False),
    Column("process_id", String(255), nullable=True),
    Column("business_key", String(255), nullable=True),
    Column("parent_id", ID, nullable=True),
    Column("root_id", ID, nullable=False),
    Column(
        "status", String(16), nullable=False
    ),  # queued | pending | running | completed | failed | cancelled
    Column("state", JSON, nullable=True),
    Column("version", Integer, nullable=False),  # bumped by every write (optimistic version)
    Column("error", Text, nullable=True),
    _created(),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("ended_at", UTCDateTime(), nullable=True),
    Index(None, "tenant_id", "created_at", "id"),
    Index(None, "tenant_id", "status", "created_at"),
    # Concurrency limits (see limits.py): active root executions by tenant and workflow, and the
    # queue, oldest first. Partial, so that executions outside them cost nothing to keep.
    Index(
        "ix_executions_active",
        "tenant_id",
        "workflow_id",
        sqlite_where=text(ACTIVE_ROOT),
        postgresql_where=text(ACTIVE_ROOT),
    ),
    Index(
        "ix_executions_queued",
        "tenant_id",
        "created_at",
        sqlite_where=text(QUEUED),
        postgresql_where=text(QUEUED),
    ),
    Index(None, "root_id"),
    Index(None, "parent_id"),
    Index(
        "uq_executions_business_key",
        "tenant_id",
        "workflow_id",
        "business_key",
        unique=True,
        sqlite_where=text("business_key IS NOT NULL AND parent_id IS NULL"),
        postgresql_where=text("business_key IS NOT NULL AND parent_id IS NULL"),
    ),
    postgresql_with={"fillfactor": EXECUTIONS_FILLFACTOR},
)

history = Table(
    "history",
    metadata,
    Column("id", Serial, primary_key=True, autoincrement=True),
    _tenant(),
    Column("execution_id", ID, nullable=False),
    Column("at", UTCDateTime(), nullable=False),
    Column("event", String(64), nullable=False),
    Column("element_id", String(255), nullable=True),
    Column("instance_id", String(32), nullable=True),
    Column("data", JSON, nullable=True),
    Index(None, "execution_id", "id"),
)

jobs = Table(
    "jobs",
    metadata,
    Column("id", ID, primary_key=True),
    _tenant(),
    Column("execution_id", ID, nullable=False),
    Column("element_id", String(255), nullable=False),
    Column("component_type", String(255), nullable=True),
    Column("implementation", String(500), nullable=True),
    Column("config", JSON, nullable=False),
    Column("variables", JSON, nullable=False),
    Column("retry", JSON, nullable=True),
    Column("attempt", Integer, nullable=False),
    Column("run_at", UTCDateTime(), nullable=True),  # a retry's earliest time
    *_claim_columns(),
    _created(),
    Index(None, "due_at"),
    Index(None, "execution_id"),
)

timers = Table(
    "timers",
    metadata,
    Column("id", ID, primary_key=True),
    _tenant(),
    Column("execution_id", ID, nullable=False),
    Column("element_id", String(255), nullable=False),
    Column("fire_at", UTCDateTime(), nullable=False),
    *_claim_columns(),
    _created(),
    Index(None, "due_at"),
    Index(None, "execution_id"),
)

user_tasks = Table(
    "user_tasks",
    metadata,
    Column("id", ID, primary_key=True),
    _tenant(),
    Column("execution_id", ID, nullable=False),
    Column("element_id", String(255), nullable=False),
    Column("name", String(500), nullable=True),
    Column("assignee", String(255), nullable=True),
    Column("candidate_users", JSON, nullable=False),
    Column("candidate_groups", JSON, nullable=False),
    Column("form", JSON, nullable=True),
    Column("due_at", UTCDateTime(), nullable=True),
    Column("priority", Integer, nullable=True),
    Column("variables", JSON, nullable=False),
    Column("status", String(16), nullable=False),  # open | completed | cancelled
    Column("result", JSON, nullable=True),
    _created(),
    Column("completed_at", UTCDateTime(), nullable=True),
    Index(None, "tenant_id", "status", "created_at", "id"),
    Index(None, "execution_id"),
)

subscriptions = Table(
    "subscriptions",
    metadata,
    Column("id", ID, primary_key=True),
    _tenant(),
    Column("execution_id", ID, nullable=False),
    Column("element_id", String(255), nullable=False),
    Column("kind", String(16), nullable=False),  # message | signal
    Column("name", String(500), nullable=False),
    Column("correlation_key", String(500), nullable=True),
    _created(),
    Index(None, "tenant_id", "kind", "name", "correlation_key"),
    Index(None, "execution_id"),
)

# Messages that matched no subscription, kept until ``expires_at``.
buffered_messages = Table(
    "buffered_messages",
    metadata,
    Column("id", Serial, primary_key=True, autoincrement=True),
    _tenant(),
    Column("name", String(500), nullable=False),
    Column("correlation_key", String(500), nullable=True),
    Column("variables", JSON, nullable=False),
    Column("expires_at", UTCDateTime(), nullable=False),
    _created(),
    Index(None, "tenant_id", "name", "correlation_key"),
    Index(None, "expires_at"),
)

incidents = Table(
    "incidents",
    metadata,
    Column("id", ID, primary_key=True),
    _tenant(),
    Column("execution_id", ID, nullable=False),
    Column("element_id", String(255), nullable=False),
    Column("message", Text, nullable=False),
    Column("status", String(16), nullable=False),  # open | resolved
    _created(),
    Column("resolved_at", UTCDateTime(), nullable=True),
    Index(None, "tenant_id", "status", "created_at", "id"),
    Index(None, "execution_id"),
)

schedules = Table(
    "schedules",
    metadata,
    Column("id", Serial, primary_key=True, autoincrement=True),
    _tenant(),
    Column("workflow_id", Serial, ForeignKey("workflows.id"), nullable=False),
    Column("name", String(200), nullable=True),
    Column("kind", String(16), nullable=False),  # cron | interval | once
    Column("expression", String(200), nullable=False),
    Column("timezone", String(64), nullable=False),
    Column("variables", JSON, nullable=False),
    Column("enabled", Boolean, nullable=False),
    Column("last_run_at", UTCDateTime(), nullable=True),
    *_claim_columns(),  # due_at = the next run
    _created(),
    Column("updated_at", UTCDateTime(), nullable=False),
    Index(None, "due_at"),
    Index(None, "tenant_id", "workflow_id"),
)

# Events leaving through the transactional outbox (webhooks, WebSocket fan-out).
outbox = Table(
    "outbox",
    metadata,
    Column("id", Serial, primary_key=True, autoincrement=True),
    _tenant(),
    Column("execution_id", ID, nullable=True),
    Column("event", String(64), nullable=False),
    Column("payload", JSON, nullable=False),
    _created(),
    Index(None, "created_at"),
)

# Commands for an execution produced by another one's step (a child's end for its parent, a
# message, a signal, a start): delivered right after the producing commit, or claimed by a worker.
commands = Table(
    "commands",
    metadata,
    Column("id", Serial, primary_key=True, autoincrement=True),
    _tenant(),
    Column("execution_id", ID, nullable=False),
    Column("command", JSON, nullable=False),
    *_claim_columns(),
    _created(),
    Index(None, "due_at"),
    Index(None, "execution_id"),
)

# Results of requests a client may retry (a start with a request id, a correlated message).
requests = Table(
    "requests",
    metadata,
    Column("tenant_id", String(64), primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("result", JSON, nullable=False),
    _created(),
    Index(None, "created_at"),
)

# Named credentials for components, one row per tenant and name. ``payload`` is the connection's
# settings as JSON, sealed (AES-GCM) with the key ``key_id`` names; ``type`` is kept in clear.
connections = Table(
    "connections",
    metadata,
    Column("tenant_id", String(64), ForeignKey("tenants.id"), primary_key=True),
    Column("name", String(100), primary_key=True),
    Column("type", String(16), nullable=False),
    Column("key_id", String(32), nullable=False),
    Column("payload", Text, nullable=False),
    _created(),
    Column("updated_at", UTCDateTime(), nullable=False),
    Index(None, "key_id"),
)

__all__ = [
    "ID",
    "UTCDateTime",
    "buffered_messages",
    "commands",
    "connections",
    "executions",
    "history",
    "incidents",
    "jobs",
    "metadata",
    "outbox",
    "requests",
    "schedules",
    "start_triggers",
    "subscriptions",
    "tenants",
    "timers",
    "user_tasks",
    "workflow_versions",
    "workflows",
]
