"""The initial schema: tenants, workflows and versions, executions, history, jobs, timers, user
tasks, subscriptions and buffered messages, incidents, schedules, the outbox, the command inbox and
request results.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

SERIAL = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
ID = sa.String(255)


def _time(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _tenant() -> sa.Column:
    return sa.Column("tenant_id", sa.String(64), nullable=False)


def _serial_pk() -> sa.Column:
    return sa.Column("id", SERIAL, primary_key=True, autoincrement=True)


def _claims() -> list[sa.Column]:
    return [
        _time("due_at", nullable=True),
        sa.Column("claimed_by", sa.String(255), nullable=True),
        sa.Column("claims", sa.Integer(), server_default=sa.text("0"), nullable=False),
    ]


def _table(name: str, *columns: sa.Column | sa.Constraint) -> None:
    op.create_table(name, *columns)


def _index(table: str, *columns: str, unique: bool = False, where: str | None = None) -> None:
    options = {"sqlite_where": sa.text(where), "postgresql_where": sa.text(where)} if where else {}
    name = "uq_executions_business_key" if where else f"ix_{table}_{'_'.join(columns)}"
    op.create_index(name, table, list(columns), unique=unique, **options)


def upgrade() -> None:
    _table(
        "tenants",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        _time("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_tenants"),
    )
    _table(
        "workflows",
        _serial_pk(),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("name", sa.String(500), nullable=True),
        sa.Column("latest_version", sa.Integer(), nullable=False),
        _time("created_at"),
        _time("updated_at"),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name="fk_workflows_tenant_id_tenants"),
        sa.PrimaryKeyConstraint("id", name="pk_workflows"),
        sa.UniqueConstraint("tenant_id", "key", name="uq_workflows_tenant_id_key"),
    )
    _table(
        "workflow_versions",
        _serial_pk(),
        _tenant(),
        sa.Column("workflow_id", SERIAL, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("checksum", sa.String(64), nullable=False),
        sa.Column("main_process", sa.String(255), nullable=False),
        sa.Column("sources", sa.JSON(), nullable=False),
        _time("created_at"),
        sa.ForeignKeyConstraint(
            ["workflow_id"], ["workflows.id"], name="fk_workflow_versions_workflow_id_workflows"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_workflow_versions"),
        sa.UniqueConstraint("workflow_id", "version", name="uq_workflow_versions_workflow_id_version"),
    )
    _table(
        "start_triggers",
        _serial_pk(),
        _tenant(),
        sa.Column("workflow_id", SERIAL, nullable=False),
        sa.Column("version_id", SERIAL, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("name", sa.String(500), nullable=False),
        sa.Column("process_id", sa.String(255), nullable=False),
        sa.Column("element_id", sa.String(255), nullable=False),
        sa.ForeignKeyConstraint(
            ["version_id"], ["workflow_versions.id"], name="fk_start_triggers_version_id_workflow_versions"
        ),
        sa.ForeignKeyConstraint(
            ["workflow_id"], ["workflows.id"], name="fk_start_triggers_workflow_id_workflows"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_start_triggers"),
    )
    _index("start_triggers", "tenant_id", "kind", "name")
    _index("start_triggers", "workflow_id")
    _table(
        "executions",
        sa.Column("id", ID, nullable=False),
        _tenant(),
        sa.Column("workflow_id", SERIAL, nullable=False),
        sa.Column("version_id", SERIAL, nullable=False),
        sa.Column("process_id", sa.String(255), nullable=True),
        sa.Column("business_key", sa.String(255), nullable=True),
        sa.Column("parent_id", ID, nullable=True),
        sa.Column("root_id", ID, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("state", sa.JSON(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        _time("created_at"),
        _time("updated_at"),
        _time("ended_at", nullable=True),
        sa.ForeignKeyConstraint(
            ["version_id"], ["workflow_versions.id"], name="fk_executions_version_id_workflow_versions"
        ),
        sa.ForeignKeyConstraint(
            ["workflow_id"], ["workflows.id"], name="fk_executions_workflow_id_workflows"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_executions"),
    )
    _index("executions", "tenant_id", "created_at", "id")
    _index("executions", "tenant_id", "status", "created_at")
    _index("executions", "root_id")
    _index("executions", "parent_id")
    _index(
        "executions",
        "tenant_id",
        "workflow_id",
        "business_key",
        unique=True,
        where="business_key IS NOT NULL AND parent_id IS NULL",
    )
    _table(
        "history",
        _serial_pk(),
        _tenant(),
        sa.Column("execution_id", ID, nullable=False),
        _time("at"),
        sa.Column("event", sa.String(64), nullable=False),
        sa.Column("element_id", sa.String(255), nullable=True),
        sa.Column("instance_id", sa.String(32), nullable=True),
        sa.Column("data", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_history"),
    )
    _index("history", "execution_id", "id")
    _table(
        "jobs",
        sa.Column("id", ID, nullable=False),
        _tenant(),
        sa.Column("execution_id", ID, nullable=False),
        sa.Column("element_id", sa.String(255), nullable=False),
        sa.Column("component_type", sa.String(255), nullable=True),
        sa.Column("implementation", sa.String(500), nullable=True),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("variables", sa.JSON(), nullable=False),
        sa.Column("retry", sa.JSON(), nullable=True),
        sa.Column("attempt", sa.Integer(), nullable=False),
        _time("run_at", nullable=True),
        *_claims(),
        _time("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_jobs"),
    )
    _index("jobs", "due_at")
    _index("jobs", "execution_id")
    _table(
        "timers",
        sa.Column("id", ID, nullable=False),
        _tenant(),
        sa.Column("execution_id", ID, nullable=False),
        sa.Column("element_id", sa.String(255), nullable=False),
        _time("fire_at"),
        *_claims(),
        _time("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_timers"),
    )
    _index("timers", "due_at")
    _index("timers", "execution_id")
    _table(
        "user_tasks",
        sa.Column("id", ID, nullable=False),
        _tenant(),
        sa.Column("execution_id", ID, nullable=False),
        sa.Column("element_id", sa.String(255), nullable=False),
        sa.Column("name", sa.String(500), nullable=True),
        sa.Column("assignee", sa.String(255), nullable=True),
        sa.Column("candidate_users", sa.JSON(), nullable=False),
        sa.Column("candidate_groups", sa.JSON(), nullable=False),
        sa.Column("form", sa.JSON(), nullable=True),
        _time("due_at", nullable=True),
        sa.Column("priority", sa.Integer(), nullable=True),
        sa.Column("variables", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("result", sa.JSON(), nullable=True),
        _time("created_at"),
        _time("completed_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_user_tasks"),
    )
    _index("user_tasks", "tenant_id", "status", "created_at", "id")
    _index("user_tasks", "execution_id")
    _table(
        "subscriptions",
        sa.Column("id", ID, nullable=False),
        _tenant(),
        sa.Column("execution_id", ID, nullable=False),
        sa.Column("element_id", sa.String(255), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("name", sa.String(500), nullable=False),
        sa.Column("correlation_key", sa.String(500), nullable=True),
        _time("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_subscriptions"),
    )
    _index("subscriptions", "tenant_id", "kind", "name", "correlation_key")
    _index("subscriptions", "execution_id")
    _table(
        "buffered_messages",
        _serial_pk(),
        _tenant(),
        sa.Column("name", sa.String(500), nullable=False),
        sa.Column("correlation_key", sa.String(500), nullable=True),
        sa.Column("variables", sa.JSON(), nullable=False),
        _time("expires_at"),
        _time("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_buffered_messages"),
    )
    _index("buffered_messages", "tenant_id", "name", "correlation_key")
    _index("buffered_messages", "expires_at")
    _table(
        "incidents",
        sa.Column("id", ID, nullable=False),
        _tenant(),
        sa.Column("execution_id", ID, nullable=False),
        sa.Column("element_id", sa.String(255), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        _time("created_at"),
        _time("resolved_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_incidents"),
    )
    _index("incidents", "tenant_id", "status", "created_at", "id")
    _index("incidents", "execution_id")
    _table(
        "schedules",
        _serial_pk(),
        _tenant(),
        sa.Column("workflow_id", SERIAL, nullable=False),
        sa.Column("name", sa.String(200), nullable=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("expression", sa.String(200), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("variables", sa.JSON(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        _time("last_run_at", nullable=True),
        *_claims(),
        _time("created_at"),
        _time("updated_at"),
        sa.ForeignKeyConstraint(["workflow_id"], ["workflows.id"], name="fk_schedules_workflow_id_workflows"),
        sa.PrimaryKeyConstraint("id", name="pk_schedules"),
    )
    _index("schedules", "due_at")
    _index("schedules", "tenant_id", "workflow_id")
    _table(
        "outbox",
        _serial_pk(),
        _tenant(),
        sa.Column("execution_id", ID, nullable=True),
        sa.Column("event", sa.String(64), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        _time("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_outbox"),
    )
    _index("outbox", "created_at")
    _table(
        "commands",
        _serial_pk(),
        _tenant(),
        sa.Column("execution_id", ID, nullable=False),
        sa.Column("command", sa.JSON(), nullable=False),
        *_claims(),
        _time("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_commands"),
    )
    _index("commands", "due_at")
    _index("commands", "execution_id")
    _table(
        "requests",
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        _time("created_at"),
        sa.PrimaryKeyConstraint("tenant_id", "key", name="pk_requests"),
    )
    _index("requests", "created_at")


def downgrade() -> None:
    for table in (
        "requests",
        "commands",
        "outbox",
        "schedules",
        "incidents",
        "buffered_messages",
        "subscriptions",
        "user_tasks",
        "timers",
        "jobs",
        "history",
        "executions",
        "start_triggers",
        "workflow_versions",
        "workflows",
        "tenants",
    ):
        op.drop_table(table)
