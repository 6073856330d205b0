"""Connections at rest: one row per tenant and name, the settings sealed by the caller (the store
never sees them in clear). ``*_txn`` functions run inside the caller's transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from apg_workflow.store.definitions import ensure_tenant
from apg_workflow.store.errors import NotFound
from apg_workflow.store.records import _fields
from apg_workflow.store.tables import connections

c = connections.c


@dataclass(frozen=True, slots=True)
class ConnectionRow:
    tenant_id: str
    name: str
    type: str
    key_id: str
    payload: str  # sealed
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_row(cls, row: Any) -> ConnectionRow:
        return cls(**_fields(cls, row))


async def insert_connection_txn(conn: AsyncConnection, row: ConnectionRow) -> bool:
    """Store a new connection; False when the tenant already has one of that name."""
    await ensure_tenant(conn, row.tenant_id, row.created_at)
    dialect_insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    stmt = (
        dialect_insert(connections)
        .values({name: getattr(row, name) for name in ConnectionRow.__dataclass_fields__})
        .on_conflict_do_nothing(index_elements=[c.tenant_id, c.name])
    )
    return (await conn.execute(stmt)).rowcount == 1


async def replace_connection_txn(
    conn: AsyncConnection, tenant_id: str, name: str, *, type: str, key_id: str, payload: str, now: datetime
) -> None:
    """Replace a connection's settings (raises :class:`NotFound` when it does not exist)."""
    stmt = (
        update(connections)
        .where(c.tenant_id == tenant_id, c.name == name)
        .values(type=type, key_id=key_id, payload=payload, updated_at=now)
    )
    if (await conn.execute(stmt)).rowcount != 1:
        raise NotFound("connection", name)


async def get_connection(conn: AsyncConnection, tenant_id: str, name: str) -> ConnectionRow:
    row = (await conn.execute(select(connections).where(c.tenant_id == tenant_id, c.name == name))).first()
    if row is None:
        raise NotFound("connection", name)
    return ConnectionRow.from_row(row)


async def list_connections(conn: AsyncConnection, tenant_id: str) -> tuple[ConnectionRow, ...]:
    """A tenant's connections, by name."""
    rows = await conn.execute(select(connections).where(c.tenant_id == tenant_id).order_by(c.name))
    return tuple(ConnectionRow.from_row(row) for row in rows)


async def delete_connection_txn(conn: AsyncConnection, tenant_id: str, name: str) -> None:
    stmt = delete(connections).where(c.tenant_id == tenant_id, c.name == name)
    if (await conn.execute(stmt)).rowcount != 1:
        raise NotFound("connection", name)


async def sealed_with_other_keys(
    conn: AsyncConnection, current_key_id: str, *, after: tuple[str, str] | None, limit: int
) -> tuple[ConnectionRow, ...]:
    """Connections of every tenant not sealed with ``current_key_id``, in (tenant, name) order,
    after the (tenant, name) ``after``: the next batch of a key rotation."""
    stmt = select(connections).where(c.key_id != current_key_id)
    if after is not None:
        tenant, name = after
        stmt = stmt.where(or_(c.tenant_id > tenant, and_(c.tenant_id == tenant, c.name > name)))
    rows = await conn.execute(stmt.order_by(c.tenant_id, c.name).limit(limit))
    return tuple(ConnectionRow.from_row(row) for row in rows)


async def reseal_txn(conn: AsyncConnection, row: ConnectionRow, *, key_id: str, payload: str) -> bool:
    """Swap a connection's sealed payload for one under another key, unless it changed since ``row``
    was read (then False: the change, sealed with the current key, wins)."""
    stmt = (
        update(connections)
        .where(c.tenant_id == row.tenant_id, c.name == row.name)
        .where(c.key_id == row.key_id, c.payload == row.payload)
        .values(key_id=key_id, payload=payload)
    )
    return (await conn.execute(stmt)).rowcount == 1


__all__ = [
    "ConnectionRow",
    "delete_connection_txn",
    "get_connection",
    "insert_connection_txn",
    "list_connections",
    "replace_connection_txn",
    "reseal_txn",
    "sealed_with_other_keys",
]
