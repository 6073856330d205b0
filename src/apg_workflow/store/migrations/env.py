"""Alembic environment: runs on the connection :func:`apg_workflow.store.migrate.upgrade` passes in
(``config.attributes["connection"]``), so that migrations use the store's own engine and dialect."""

from __future__ import annotations

from alembic import context
from sqlalchemy import text

from apg_workflow.store.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `apg-workflow db upgrade` (apg_workflow.store.migrate)")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    if connection.dialect.name == "postgresql":  # several processes may upgrade at once
        connection.execute(text("SELECT pg_advisory_xact_lock(hashtext('apg_workflow.migrations'))"))
    context.run_migrations()
