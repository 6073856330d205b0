"""Workflows and their versions: deploying a changed definition makes a new version; deploying an
unchanged one (same sources, by checksum) returns the version it already is."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from apg_workflow.store.records import Deployment, Source
from apg_workflow.store.tables import start_triggers, tenants, workflow_versions, workflows


@dataclass(frozen=True, slots=True)
class Trigger:
    """A message or signal start event of a deployed process."""

    kind: str  # message | signal
    name: str
    process_id: str
    element_id: str


async def ensure_tenant(conn: AsyncConnection, tenant_id: str, now: datetime) -> None:
    dialect_insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    stmt = dialect_insert(tenants).values(id=tenant_id, name=tenant_id, created_at=now)
    await conn.execute(stmt.on_conflict_do_nothing(index_elements=[tenants.c.id]))


async def deploy_txn(
    conn: AsyncConnection,
    *,
    tenant_id: str,
    key: str,
    name: str | None,
    checksum: str,
    main_process: str,
    sources: Sequence[Source],
    triggers: Sequence[Trigger],
    now: datetime,
) -> Deployment:
    await ensure_tenant(conn, tenant_id, now)
    w = workflows.c
    dialect_insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    await conn.execute(
        dialect_insert(workflows)
        .values(tenant_id=tenant_id, key=key, name=name, latest_version=0, created_at=now, updated_at=now)
        .on_conflict_do_nothing(index_elements=[w.tenant_id, w.key])
    )
    found = (
        await conn.execute(
            select(w.id, w.latest_version).where(w.tenant_id == tenant_id, w.key == key).with_for_update()
        )
    ).one()
    workflow_id, latest = int(found.id), int(found.latest_version)
    v = workflow_versions.c
    if latest:
        current = (
            await conn.execute(
                select(v.id, v.checksum).where(v.workflow_id == workflow_id, v.version == latest)
            )
        ).one()
        if current.checksum == checksum:
            return Deployment(workflow_id, int(current.id), key, name, latest, created=False)
    version = latest + 1
    version_id = (
        await conn.execute(
            insert(workflow_versions)
            .values(
                tenant_id=tenant_id,
                workflow_id=workflow_id,
                version=version,
                checksum=checksum,
                main_process=main_process,
                sources=[s.to_json() for s in sources],
                created_at=now,
            )
            .returning(v.id)
        )
    ).scalar_one()
    await conn.execute(
        update(workflows).where(w.id == workflow_id).values(latest_version=version, name=name, updated_at=now)
    )
    await conn.execute(delete(start_triggers).where(start_triggers.c.workflow_id == workflow_id))
    if triggers:
        rows = [
            {
                "tenant_id": tenant_id,
                "workflow_id": workflow_id,
                "version_id": version_id,
                "kind": t.kind,
                "name": t.name,
                "process_id": t.process_id,
                "element_id": t.element_id,
            }
            for t in triggers
        ]
        await conn.execute(insert(start_triggers), rows)
    return Deployment(workflow_id, int(version_id), key, name, version, created=True)


@dataclass(frozen=True, slots=True)
class Target:
    """What a start needs of the workflow it starts: the version, and the concurrency limits of the
    workflow and of its tenant (``None``: no limit)."""

    workflow_id: int
    version_id: int
    version: int
    workflow_limit: int | None
    tenant_limit: int | None

    @property
    def limited(self) -> bool:
        return self.workflow_limit is not None or self.tenant_limit is not None


async def find_target(conn: AsyncConnection, tenant_id: str, key: str, version: int | None) -> Target | None:
    """Workflow ``key`` at ``version`` (the latest by default), with its limits."""
    w, v, t = workflows.c, workflow_versions.c, tenants.c
    stmt = (
        select(w.id, v.id, v.version, w.max_concurrent_executions, t.max_concurrent_executions)
        .join(workflow_versions, v.workflow_id == w.id)
        .outerjoin(tenants, t.id == w.tenant_id)
        .where(w.tenant_id == tenant_id, w.key == key)
        .where(v.version == (version if version is not None else w.latest_version))
    )
    row = (await conn.execute(stmt)).first()
    return None if row is None else Target(int(row[0]), int(row[1]), int(row[2]), row[3], row[4])


async def find_version(
    conn: AsyncConnection, tenant_id: str, key: str, version: int | None
) -> tuple[int, int] | None:
    """(workflow id, version id) of ``key`` at ``version`` (the latest by default)."""
    target = await find_target(conn, tenant_id, key, version)
    return None if target is None else (target.workflow_id, target.version_id)


__all__ = ["Target", "Trigger", "deploy_txn", "ensure_tenant", "find_target", "find_version"]
