"""Concurrency limits: how many root executions of a workflow, or of a tenant, may be active at
once. A start beyond a limit is stored ``queued`` and started when a slot frees, oldest first. Two
partial indexes hold only what the limits look at: the active root executions (counted per tenant,
per workflow, or all) and the queued ones, oldest first. On PostgreSQL the executions table keeps
half of each page free, for in-place updates of the row every step rewrites.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

ACTIVE_ROOT = "status IN ('pending', 'running') AND parent_id IS NULL"
QUEUED = "status = 'queued'"


def upgrade() -> None:
    with op.batch_alter_table("workflows") as batch:
        batch.add_column(sa.Column("max_concurrent_executions", sa.Integer(), nullable=True))
    with op.batch_alter_table("tenants") as batch:
        batch.add_column(sa.Column("max_concurrent_executions", sa.Integer(), nullable=True))
    _partial_index("ix_executions_active", ["tenant_id", "workflow_id"], ACTIVE_ROOT)
    _partial_index("ix_executions_queued", ["tenant_id", "created_at"], QUEUED)
    if op.get_context().dialect.name == "postgresql":
        # Every step rewrites its execution's row: free room on its page keeps the rewrite in place
        # (a HOT update, which touches no index) instead of adding an entry to every index.
        op.execute("ALTER TABLE executions SET (fillfactor = 50)")


def _partial_index(name: str, columns: list[str], where: str) -> None:
    options = {"sqlite_where": sa.text(where), "postgresql_where": sa.text(where)}
    op.create_index(name, "executions", columns, **options)


def downgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        op.execute("ALTER TABLE executions RESET (fillfactor)")
    op.drop_index("ix_executions_queued", table_name="executions")
    op.drop_index("ix_executions_active", table_name="executions")
    with op.batch_alter_table("tenants") as batch:
        batch.drop_column("max_concurrent_executions")
    with op.batch_alter_table("workflows") as batch:
        batch.drop_column("max_concurrent_executions")
