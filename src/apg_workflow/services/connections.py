"""Connections: named, tenant-scoped credentials for components, sealed at rest with the keys of
``APG_SECRET_KEYS``. Every answer here is redacted: secrets leave this module in clear only through
the lookups of :mod:`apg_workflow.services.connection_sources`, to components."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from apg_workflow.components.connections import (
    Connection,
    InvalidConnection,
    check_name,
    parse_connection,
)
from apg_workflow.components.redaction import known_secrets
from apg_workflow.runtime.context import Runtime
from apg_workflow.security.secrets import KeyRing, Sealed, SecretKeyError, load_keyring
from apg_workflow.services.errors import Conflict, ServiceError
from apg_workflow.settings import Settings
from apg_workflow.store import NotFound
from apg_workflow.store import connections as stored
from apg_workflow.store.connections import ConnectionRow


class ConnectionRejected(ServiceError):
    """A connection name or settings that do not fit (the message quotes no submitted value)."""


class SecretsUnavailable(ServiceError):
    """The keys of ``APG_SECRET_KEYS`` are missing, malformed or refused, or cannot open a secret."""


@dataclass(frozen=True, slots=True)
class ConnectionView:
    """A connection as the API and the command line show it: ``settings`` redacted (``None`` with a
    ``problem`` when its secret cannot be opened with the configured keys)."""

    name: str
    type: str
    key_id: str
    settings: dict[str, Any] | None
    created_at: datetime
    updated_at: datetime
    problem: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type,
            "key_id": self.key_id,
            "settings": self.settings,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
            **({"problem": self.problem} if self.problem else {}),
        }


@dataclass(frozen=True, slots=True)
class Rotation:
    """What a key rotation did: ``resealed`` connections now under ``key_id``; ``unreadable`` ones
    (``tenant/name: reason``) could not be opened with any configured key and were left as they are."""

    key_id: str
    resealed: int
    unreadable: tuple[str, ...]


def keyring(settings: Settings) -> KeyRing:
    """The ring of ``settings`` (built once per distinct key setting)."""
    try:
        return _keyring(settings.secret_keys.get_secret_value(), settings.environment == "development")
    except SecretKeyError as exc:
        raise SecretsUnavailable(exc.message) from None


@lru_cache(maxsize=8)
def _keyring(keys: str, development: bool) -> KeyRing:
    return load_keyring(keys, development=development)


def _context(tenant_id: str, name: str) -> bytes:
    """What a sealed payload is bound to: it opens only as this tenant's connection of this name."""
    return f"apg-workflow connection\0{tenant_id}\0{name}".encode()


def seal(ring: KeyRing, tenant_id: str, name: str, connection: Connection) -> Sealed:
    plaintext = json.dumps(connection.settings(), separators=(",", ":")).encode()
    return ring.seal(plaintext, _context(tenant_id, name))


def open_row(ring: KeyRing, row: ConnectionRow) -> Connection:
    """The stored connection in clear (raises :class:`SecretKeyError` when the keys cannot open it)."""
    plaintext = ring.open(Sealed(row.key_id, row.payload), _context(row.tenant_id, row.name))
    connection = parse_connection(json.loads(plaintext))
    known_secrets.add(connection.secret_values())
    return connection


def parse(name: str, data: Mapping[str, Any]) -> Connection:
    try:
        check_name(name)
        connection = parse_connection(data)
    except InvalidConnection as exc:
        raise ConnectionRejected(exc.message) from None
    known_secrets.add(connection.secret_values())
    return connection


def _view(ring: KeyRing, row: ConnectionRow) -> ConnectionView:
    try:
        settings, problem = open_row(ring, row).redacted(), None
    except SecretKeyError as exc:
        settings, problem = None, exc.message
    return ConnectionView(row.name, row.type, row.key_id, settings, row.created_at, row.updated_at, problem)


def _keep_unchanged(new: Any, old_redacted: Any, old: Any) -> Any:
    """``new`` with each value still equal to its redacted form (``***``, a masked URL) put back to
    the stored secret: an edited redacted view keeps the secrets it did not change."""
    if isinstance(new, dict) and isinstance(old_redacted, dict) and isinstance(old, dict):
        return {
            k: _keep_unchanged(v, old_redacted[k], old[k]) if k in old_redacted and k in old else v
            for k, v in new.items()
        }
    return old if new == old_redacted and new != old else new


async def create_connection(
    rt: Runtime, name: str, data: Mapping[str, Any], *, replace: bool = False
) -> ConnectionView:
    """Store a connection. With ``replace`` an existing one of that name takes the new settings
    (where they repeat its redacted view, its secrets are kept); without, it is a :class:`Conflict`."""
    ring = keyring(rt.settings)
    connection = parse(name, data)
    now = rt.clock()

    async def work(conn: AsyncConnection) -> None:
        try:
            existing = await stored.get_connection(conn, rt.tenant, name) if replace else None
        except NotFound:
            existing = None
        if existing is None:
            sealed = seal(ring, rt.tenant, name, connection)
            row = ConnectionRow(rt.tenant, name, connection.type, sealed.key_id, sealed.token, now, now)
            if not await stored.insert_connection_txn(conn, row):
                raise Conflict(f"a connection named '{name}' exists (replace it, or delete it first)")
            return
        try:
            old = open_row(ring, existing)
            merged = parse(name, _keep_unchanged(connection.settings(), old.redacted(), old.settings()))
        except SecretKeyError:
            merged = connection  # the old secrets are unreadable: the new settings stand alone
        sealed = seal(ring, rt.tenant, name, merged)
        await stored.replace_connection_txn(
            conn, rt.tenant, name, type=merged.type, key_id=sealed.key_id, payload=sealed.token, now=now
        )

    await rt.db.transaction(work)
    return await get_connection(rt, name)


async def get_connection(rt: Runtime, name: str) -> ConnectionView:
    """The connection, redacted (raises :class:`~apg_workflow.store.NotFound`)."""
    row = await rt.db.read(lambda conn: stored.get_connection(conn, rt.tenant, name))
    return _view(keyring(rt.settings), row)


async def list_connections(rt: Runtime) -> list[ConnectionView]:
    """The tenant's connections by name, redacted."""
    ring = keyring(rt.settings)
    rows = await rt.db.read(lambda conn: stored.list_connections(conn, rt.tenant))
    return [_view(ring, row) for row in rows]


async def delete_connection(rt: Runtime, name: str) -> None:
    await rt.db.transaction(lambda conn: stored.delete_connection_txn(conn, rt.tenant, name))


async def rotate_keys(rt: Runtime, *, batch: int = 100) -> Rotation:
    """Re-seal every connection of every tenant with the current key (the first of
    ``APG_SECRET_KEYS``), a batch per transaction; safe to interrupt and run again. Afterwards the
    older keys can be removed from the setting."""
    ring = keyring(rt.settings)
    resealed, unreadable = 0, []
    after: tuple[str, str] | None = None
    while True:
        done, failed, after = await rt.db.transaction(
            lambda conn, after=after: _reseal_batch(conn, ring, after=after, limit=batch)  # type: ignore[misc]
        )
        resealed, unreadable = resealed + done, [*unreadable, *failed]
        if after is None:
            return Rotation(ring.current, resealed, tuple(unreadable))


async def _reseal_batch(
    conn: AsyncConnection, ring: KeyRing, *, after: tuple[str, str] | None, limit: int
) -> tuple[int, list[str], tuple[str, str] | None]:
    """Re-seal the next ``limit`` connections under other keys: (how many, the unreadable ones, where
    the batch ended, ``None`` when nothing was left)."""
    rows = await stored.sealed_with_other_keys(conn, ring.current, after=after, limit=limit)
    done, failed = 0, []
    for row in rows:
        try:
            sealed = seal(ring, row.tenant_id, row.name, open_row(ring, row))
        except SecretKeyError as exc:
            failed.append(f"{row.tenant_id}/{row.name}: {exc.message}")
            continue
        done += await stored.reseal_txn(conn, row, key_id=sealed.key_id, payload=sealed.token)
    return done, failed, (rows[-1].tenant_id, rows[-1].name) if rows else None


__all__ = [
    "ConnectionRejected",
    "ConnectionView",
    "Rotation",
    "SecretsUnavailable",
    "create_connection",
    "delete_connection",
    "get_connection",
    "keyring",
    "list_connections",
    "open_row",
    "parse",
    "rotate_keys",
    "seal",
]
