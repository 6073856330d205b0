"""Connections: named, tenant-scoped credentials for components, sealed at rest.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "connections",
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("key_id", sa.String(32), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name="fk_connections_tenant_id_tenants"),
        sa.PrimaryKeyConstraint("tenant_id", "name", name="pk_connections"),
    )
    op.create_index("ix_connections_key_id", "connections", ["key_id"])


def downgrade() -> None:
    op.drop_index("ix_connections_key_id", table_name="connections")
    op.drop_table("connections")
