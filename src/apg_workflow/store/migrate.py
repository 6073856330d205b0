"""Schema migrations (Alembic, shipped in the package): ``upgrade`` brings an empty or older
database to the current schema."""

from __future__ import annotations

from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from apg_workflow.store.db import Database

SCRIPT_LOCATION = "apg_workflow.store:migrations"


def alembic_config(connection: Any | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    if connection is not None:
        config.attributes["connection"] = connection
    return config


async def upgrade(db: Database, revision: str = "head") -> str | None:
    """Migrate to ``revision`` (the newest by default); returns the revision the database is at."""
    async with db.engine.begin() as conn:
        await conn.run_sync(lambda sync: command.upgrade(alembic_config(sync), revision))
        return await conn.run_sync(lambda sync: MigrationContext.configure(sync).get_current_revision())


async def current(db: Database) -> str | None:
    async with db.engine.connect() as conn:
        return await conn.run_sync(lambda sync: MigrationContext.configure(sync).get_current_revision())


def head() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


__all__ = ["SCRIPT_LOCATION", "alembic_config", "current", "head", "upgrade"]
