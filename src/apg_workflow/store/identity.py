"""Users, API keys, the audit log and kept idempotent responses: the rows the service API needs."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from apg_workflow.store.api_tables import api_keys, audit_log, idempotency_keys, users
from apg_workflow.store.definitions import ensure_tenant
from apg_workflow.store.errors import NotFound, StoreError
from apg_workflow.store.records import Page


class AlreadyExists(StoreError):
    """A row with that unique name exists."""


@dataclass(frozen=True, slots=True)
class UserRecord:
    id: str
    tenant_id: str
    username: str
    password_hash: str
    roles: tuple[str, ...]
    groups: tuple[str, ...]
    active: bool
    created_at: datetime

    @classmethod
    def from_row(cls, row: Any) -> UserRecord:
        m = row._mapping
        return cls(
            id=m["id"],
            tenant_id=m["tenant_id"],
            username=m["username"],
            password_hash=m["password_hash"],
            roles=tuple(m["roles"] or ()),
            groups=tuple(m["groups"] or ()),
            active=bool(m["active"]),
            created_at=m["created_at"],
        )


@dataclass(frozen=True, slots=True)
class ApiKeyRecord:
    id: str
    tenant_id: str
    user_id: str
    name: str
    prefix: str
    hash: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def from_row(cls, row: Any) -> ApiKeyRecord:
        return cls(**{name: row._mapping[name] for name in cls.__dataclass_fields__})


async def create_user(
    conn: AsyncConnection,
    *,
    tenant_id: str,
    username: str,
    password_hash: str,
    roles: tuple[str, ...],
    groups: tuple[str, ...],
    now: datetime,
) -> UserRecord:
    await ensure_tenant(conn, tenant_id, now)
    values = {
        "id": uuid.uuid4().hex,
        "tenant_id": tenant_id,
        "username": username,
        "password_hash": password_hash,
        "roles": list(roles),
        "groups": list(groups),
        "active": True,
        "created_at": now,
    }
    try:
        async with conn.begin_nested():
            await conn.execute(insert(users).values(**values))
    except IntegrityError:
        raise AlreadyExists(f"a user named '{username}' already exists") from None
    return UserRecord(**{**values, "roles": roles, "groups": groups})  # type: ignore[arg-type]


async def find_user(conn: AsyncConnection, username: str) -> UserRecord | None:
    row = (await conn.execute(select(users).where(users.c.username == username))).first()
    return None if row is None else UserRecord.from_row(row)


async def get_user(conn: AsyncConnection, user_id: str) -> UserRecord:
    row = (await conn.execute(select(users).where(users.c.id == user_id))).first()
    if row is None:
        raise NotFound("user", user_id)
    return UserRecord.from_row(row)


async def set_password(conn: AsyncConnection, user_id: str, password_hash: str) -> None:
    await conn.execute(update(users).where(users.c.id == user_id).values(password_hash=password_hash))


async def create_api_key(
    conn: AsyncConnection, *, user: UserRecord, name: str, prefix: str, key_hash: str, now: datetime
) -> ApiKeyRecord:
    values = {
        "id": uuid.uuid4().hex,
        "tenant_id": user.tenant_id,
        "user_id": user.id,
        "name": name,
        "prefix": prefix,
        "hash": key_hash,
        "created_at": now,
        "last_used_at": None,
        "revoked_at": None,
    }
    await conn.execute(insert(api_keys).values(**values))
    return ApiKeyRecord(**values)


async def find_api_key(conn: AsyncConnection, prefix: str) -> tuple[ApiKeyRecord, UserRecord] | None:
    key = (await conn.execute(select(api_keys).where(api_keys.c.prefix == prefix))).first()
    if key is None:
        return None
    record = ApiKeyRecord.from_row(key)
    return record, await get_user(conn, record.user_id)


async def list_api_keys(conn: AsyncConnection, tenant_id: str, user_id: str) -> list[ApiKeyRecord]:
    stmt = (
        select(api_keys)
        .where(api_keys.c.tenant_id == tenant_id, api_keys.c.user_id == user_id)
        .order_by(api_keys.c.created_at)
    )
    return [ApiKeyRecord.from_row(r) for r in await conn.execute(stmt)]


async def revoke_api_key(conn: AsyncConnection, tenant_id: str, key_id: str, now: datetime) -> None:
    done = await conn.execute(
        update(api_keys)
        .where(api_keys.c.tenant_id == tenant_id, api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    if not done.rowcount:
        raise NotFound("api key", key_id)


async def append_audit(
    conn: AsyncConnection,
    *,
    tenant_id: str,
    actor: str | None,
    action: str,
    object_type: str,
    object_id: str | None,
    details: dict[str, Any] | None,
    now: datetime,
) -> None:
    await conn.execute(
        insert(audit_log).values(
            tenant_id=tenant_id,
            at=now,
            actor=actor,
            action=action,
            object_type=object_type,
            object_id=object_id,
            details=details,
        )
    )


async def list_audit(
    conn: AsyncConnection,
    tenant_id: str,
    *,
    limit: int = 50,
    cursor: str | None = None,
    action: str | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
) -> Page[dict[str, Any]]:
    """Audit entries, newest first; the cursor is the id of the last entry seen."""
    limit = min(max(limit, 1), 500)
    a = audit_log.c
    stmt = select(audit_log).where(a.tenant_id == tenant_id)
    if cursor is not None:
        if not cursor.isdigit():
            raise StoreError(f"invalid page cursor '{cursor}'")
        stmt = stmt.where(a.id < int(cursor))
    for column, value in ((a.action, action), (a.object_type, object_type), (a.object_id, object_id)):
        if value is not None:
            stmt = stmt.where(column == value)
    rows = [dict(r._mapping) for r in await conn.execute(stmt.order_by(a.id.desc()).limit(limit + 1))]
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(tuple(rows), str(rows[-1]["id"]) if more else None)


@dataclass(frozen=True, slots=True)
class KeptResponse:
    fingerprint: str
    status_code: int
    body: str


async def find_response(conn: AsyncConnection, tenant_id: str, key: str) -> KeptResponse | None:
    k = idempotency_keys.c
    row = (
        await conn.execute(
            select(k.fingerprint, k.status_code, k.body).where(k.tenant_id == tenant_id, k.key == key)
        )
    ).first()
    return None if row is None else KeptResponse(row.fingerprint, row.status_code, row.body)


async def keep_response(
    conn: AsyncConnection, tenant_id: str, key: str, response: KeptResponse, now: datetime
) -> bool:
    """Keep the answer to a request with ``key``; false when another request kept one first."""
    try:
        async with conn.begin_nested():
            await conn.execute(
                insert(idempotency_keys).values(
                    tenant_id=tenant_id,
                    key=key,
                    fingerprint=response.fingerprint,
                    status_code=response.status_code,
                    body=response.body,
                    created_at=now,
                )
            )
    except IntegrityError:
        return False
    return True


async def purge_responses(conn: AsyncConnection, before: datetime) -> int:
    done = await conn.execute(delete(idempotency_keys).where(idempotency_keys.c.created_at < before))
    return done.rowcount


__all__ = [
    "AlreadyExists",
    "ApiKeyRecord",
    "KeptResponse",
    "UserRecord",
    "append_audit",
    "create_api_key",
    "create_user",
    "find_api_key",
    "find_response",
    "find_user",
    "get_user",
    "keep_response",
    "list_api_keys",
    "list_audit",
    "purge_responses",
    "revoke_api_key",
    "set_password",
]
