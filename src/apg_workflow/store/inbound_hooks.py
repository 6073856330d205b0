"""Inbound webhooks at rest: per-workflow URLs that start an execution or correlate a message, with
the signing secret sealed by the caller. Reads for the API are scoped by tenant; the lookup of an
arriving request is by the hook's public id alone (its tenant comes from the row)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from apg_workflow.store.errors import NotFound
from apg_workflow.store.records import Page, _fields
from apg_workflow.store.webhook_tables import inbound_webhooks
from apg_workflow.store.webhooks import delete_owned, owned_page, owned_row, update_owned

KIND = "inbound webhook"
h = inbound_webhooks.c


@dataclass(frozen=True, slots=True)
class HookRow:
    id: str
    tenant_id: str
    description: str | None
    action: str
    workflow_key: str | None
    message_name: str | None
    correlation_key: str | None
    scheme: str
    signature_header: str | None
    signature_encoding: str | None
    timestamp_header: str | None
    tolerance_seconds: int
    key_id: str
    secret: str  # sealed
    enabled: bool
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_row(cls, row: Any) -> HookRow:
        return cls(**_fields(cls, row))

    def to_row(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


async def insert_hook_txn(conn: AsyncConnection, row: HookRow) -> None:
    await conn.execute(insert(inbound_webhooks).values(row.to_row()))


async def find_hook(conn: AsyncConnection, hook_id: str) -> HookRow:
    """The hook of this public id, in whatever tenant (for a request arriving at its URL)."""
    row = (await conn.execute(select(inbound_webhooks).where(h.id == hook_id))).first()
    if row is None:
        raise NotFound(KIND, hook_id)
    return HookRow.from_row(row)


async def get_hook(conn: AsyncConnection, tenant_id: str, hook_id: str) -> HookRow:
    return HookRow.from_row(await owned_row(conn, inbound_webhooks, KIND, tenant_id, hook_id))


async def list_hooks(
    conn: AsyncConnection, tenant_id: str, *, limit: int = 50, cursor: str | None = None
) -> Page[HookRow]:
    """A tenant's inbound hooks, oldest first."""
    return await owned_page(conn, inbound_webhooks, HookRow, tenant_id, limit, cursor)


async def update_hook_txn(
    conn: AsyncConnection, tenant_id: str, hook_id: str, values: Mapping[str, Any]
) -> None:
    await update_owned(conn, inbound_webhooks, KIND, tenant_id, hook_id, values)


async def delete_hook_txn(conn: AsyncConnection, tenant_id: str, hook_id: str) -> None:
    await delete_owned(conn, inbound_webhooks, KIND, tenant_id, hook_id)


__all__ = [
    "HookRow",
    "delete_hook_txn",
    "find_hook",
    "get_hook",
    "insert_hook_txn",
    "list_hooks",
    "update_hook_txn",
]
