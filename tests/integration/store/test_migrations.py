"""The migrations build exactly the schema of ``tables.py``, from an empty database, on both dialects."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from apg_workflow.store import Database, upgrade
from apg_workflow.store.migrate import current, head
from apg_workflow.store.tables import metadata

pytestmark = pytest.mark.asyncio


async def test_upgrade_from_empty_matches_the_tables(database_url: str) -> None:
    db = Database(database_url)  # migrated from empty by the template fixture
    try:
        assert await current(db) == head()
        assert await upgrade(db) == head()  # running it again changes nothing
        async with db.engine.connect() as conn:
            diff = await conn.run_sync(
                lambda sync: compare_metadata(
                    MigrationContext.configure(sync, opts={"compare_type": True}), metadata
                )
            )
        assert diff == []
    finally:
        await db.dispose()
