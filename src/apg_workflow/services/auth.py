"""Logging in, users and API keys, and recognising a caller from a token or key."""

from __future__ import annotations

import functools
import re
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from apg_workflow.runtime.context import Runtime
from apg_workflow.security.identity import (
    AuthenticationError,
    Principal,
    api_key_prefix,
    hash_api_key,
    hash_password,
    issue_token,
    new_api_key,
    verify_password,
    verify_token,
)
from apg_workflow.services.audit import audit
from apg_workflow.services.errors import Conflict, ServiceError
from apg_workflow.store import NotFound, Page, identity
from apg_workflow.store.api_tables import users
from apg_workflow.store.definitions import ensure_tenant
from apg_workflow.store.errors import StoreError
from apg_workflow.store.identity import ApiKeyRecord, UserRecord

ROLES = ("admin", "developer", "operator", "viewer")
DEMO_USERNAME = "admin"
TENANT_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


@functools.cache
def _dummy_hash() -> str:
    """Checked against when a login names no known user, so both failures cost the same time."""
    return hash_password(secrets.token_hex(8))


@dataclass(frozen=True, slots=True)
class Token:
    access_token: str
    expires_in: int
    principal: Principal


def principal_of(user: UserRecord) -> Principal:
    return Principal(user.id, user.username, user.tenant_id, user.roles, user.groups)


async def login(rt: Runtime, username: str, password: str) -> Token:
    user = await rt.db.read(lambda conn: identity.find_user(conn, username))
    stored = user.password_hash if user is not None else _dummy_hash()
    if not verify_password(password, stored) or user is None or not user.active:
        raise AuthenticationError("wrong username or password")
    principal = principal_of(user)
    token, lifetime = issue_token(rt.settings, principal, rt.clock())
    return Token(token, lifetime, principal)


async def authenticate(rt: Runtime, credential: str) -> Principal:
    """The caller behind a bearer token or API key."""
    prefix = api_key_prefix(credential)
    if prefix is None:
        return verify_token(rt.settings, credential)
    found = await rt.db.read(lambda conn: identity.find_api_key(conn, prefix))
    if found is None:
        raise AuthenticationError("unknown API key")
    key, user = found
    if not secrets.compare_digest(key.hash, hash_api_key(credential)):
        raise AuthenticationError("unknown API key")
    if key.revoked_at is not None:
        raise AuthenticationError(f"API key '{key.name}' was revoked")
    if not user.active:
        raise AuthenticationError(f"user '{user.username}' is disabled")
    return principal_of(user)


class InvalidUser(ServiceError):
    """A user that cannot be created as asked."""


class UserExists(InvalidUser, Conflict):
    """The username is taken (usernames are unique across tenants, so that a login needs no tenant)."""


async def create_user(
    rt: Runtime,
    username: str,
    password: str,
    *,
    tenant_id: str | None = None,
    roles: tuple[str, ...] = ("developer",),
    groups: tuple[str, ...] = (),
    actor: str | None = None,
) -> UserRecord:
    """A new, active user; audited as ``user.created`` (``actor`` None: the command line)."""
    if not username.strip() or len(username) > 150:
        raise InvalidUser("a username needs 1 to 150 characters")
    if len(password) < 8:
        raise InvalidUser("a password needs at least 8 characters")
    unknown = [r for r in roles if r not in ROLES]
    if unknown:
        raise InvalidUser(f"unknown role(s) {', '.join(unknown)}; roles are {', '.join(ROLES)}")
    password_hash = hash_password(password)
    tenant = tenant_id or rt.tenant

    async def work(conn: AsyncConnection) -> UserRecord:
        user = await identity.create_user(
            conn,
            tenant_id=tenant,
            username=username,
            password_hash=password_hash,
            roles=roles,
            groups=groups,
            now=rt.clock(),
        )
        details = {"username": username, "roles": list(roles), "groups": list(groups)}
        await audit(conn, rt.for_tenant(tenant), actor, "user.created", "user", user.id, details)
        return user

    try:
        return await rt.db.transaction(work)
    except identity.AlreadyExists as exc:
        raise UserExists(str(exc)) from None


async def list_users(rt: Runtime, *, limit: int = 50, cursor: str | None = None) -> Page[UserRecord]:
    """The users of the caller's tenant by username; the cursor is the last username seen."""
    return await rt.db.read(lambda conn: _users_page(conn, rt.tenant, limit=limit, cursor=cursor))


async def get_user(rt: Runtime, user_id: str) -> UserRecord:
    """A user of the caller's tenant (another tenant's is not found)."""
    user = await rt.db.read(lambda conn: identity.get_user(conn, user_id))
    if user.tenant_id != rt.tenant:
        raise NotFound("user", user_id)
    return user


async def _users_page(
    conn: AsyncConnection, tenant_id: str, *, limit: int, cursor: str | None
) -> Page[UserRecord]:
    if cursor is not None and not cursor.strip():
        raise StoreError(f"invalid page cursor '{cursor}'")
    u = users.c
    stmt = select(users).where(u.tenant_id == tenant_id)
    if cursor is not None:
        stmt = stmt.where(u.username > cursor)
    rows = [UserRecord.from_row(r) for r in await conn.execute(stmt.order_by(u.username).limit(limit + 1))]
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(tuple(rows), rows[-1].username if more else None)


async def reset_demo_admin(rt: Runtime, password: str) -> None:
    """The demo administrator ``admin`` of the default tenant, with ``password`` from now on."""
    existing = await rt.db.read(lambda conn: identity.find_user(conn, DEMO_USERNAME))
    if existing is None:
        try:
            await create_user(rt, DEMO_USERNAME, password, roles=("admin",))
            return
        except InvalidUser:  # created meanwhile by another process
            existing = await rt.db.read(lambda conn: identity.find_user(conn, DEMO_USERNAME))
    assert existing is not None
    user_id, password_hash = existing.id, hash_password(password)
    await rt.db.transaction(lambda conn: identity.set_password(conn, user_id, password_hash))


async def create_tenant(rt: Runtime, tenant_id: str) -> None:
    if not TENANT_ID.fullmatch(tenant_id):
        raise InvalidUser(f"tenant id '{tenant_id}' must be 1 to 64 letters, digits, '-' or '_'")
    await rt.db.transaction(lambda conn: ensure_tenant(conn, tenant_id, rt.clock()))


@dataclass(frozen=True, slots=True)
class CreatedKey:
    record: ApiKeyRecord
    key: str  # shown once


async def create_api_key(rt: Runtime, user_id: str, name: str, *, actor: str | None = None) -> CreatedKey:
    """A new key of ``user_id``, shown once; audited as ``api_key.created`` (by the user itself
    unless ``actor`` says otherwise)."""
    fresh = new_api_key()

    async def work(conn: AsyncConnection) -> ApiKeyRecord:
        user = await identity.get_user(conn, user_id)
        record = await identity.create_api_key(
            conn, user=user, name=name, prefix=fresh.prefix, key_hash=fresh.hash, now=rt.clock()
        )
        details = {"name": name, "prefix": record.prefix, "user_id": user.id}
        owner = rt.for_tenant(user.tenant_id)
        await audit(conn, owner, actor or user.username, "api_key.created", "api_key", record.id, details)
        return record

    return CreatedKey(await rt.db.transaction(work), fresh.key)


async def create_api_key_for(rt: Runtime, username: str, name: str) -> CreatedKey:
    user = await rt.db.read(lambda conn: identity.find_user(conn, username))
    if user is None:
        raise InvalidUser(f"no user named '{username}'")
    return await create_api_key(rt, user.id, name)


async def list_api_keys(rt: Runtime, user_id: str) -> list[ApiKeyRecord]:
    return await rt.db.read(lambda conn: identity.list_api_keys(conn, rt.tenant, user_id))


async def revoke_api_key(rt: Runtime, key_id: str, *, actor: str | None = None) -> None:
    """Revoke a key of the tenant; audited as ``api_key.revoked``."""

    async def work(conn: AsyncConnection) -> None:
        await identity.revoke_api_key(conn, rt.tenant, key_id, rt.clock())
        await audit(conn, rt, actor, "api_key.revoked", "api_key", key_id)

    await rt.db.transaction(work)


__all__ = [
    "DEMO_USERNAME",
    "ROLES",
    "CreatedKey",
    "InvalidUser",
    "Token",
    "UserExists",
    "authenticate",
    "create_api_key",
    "create_api_key_for",
    "create_tenant",
    "create_user",
    "get_user",
    "list_api_keys",
    "list_users",
    "login",
    "principal_of",
    "reset_demo_admin",
    "revoke_api_key",
]
