"""Where running components get their connections, decrypted, from the database: for workers
(:class:`StoredConnections`), and for ``apg-workflow run`` (:func:`database_lookup`).

A lookup is bound to one tenant; a name it does not know, or a secret the configured keys cannot
open, is a :class:`~apg_workflow.components.ConfigurationError` (the job fails without retry and
opens an incident), never a secret in a message.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor

from apg_workflow.components import ConfigurationError, RetryableError
from apg_workflow.components.connections import Connection, ConnectionLookup
from apg_workflow.runtime.context import Runtime
from apg_workflow.security.secrets import KeyRing, SecretKeyError
from apg_workflow.services.connections import keyring, open_row
from apg_workflow.services.errors import ServiceError
from apg_workflow.settings import Settings
from apg_workflow.store import Database
from apg_workflow.store import connections as stored
from apg_workflow.store.connections import ConnectionRow

log = logging.getLogger(__name__)
Rows = Mapping[str, ConnectionRow]


def _lookup(ring: KeyRing, rows: Rows, *, on_miss: Callable[[], None] | None = None) -> ConnectionLookup:
    def lookup(name: str) -> Connection:
        row = rows.get(name)
        if row is None:
            if on_miss is not None:
                on_miss()
            raise ConfigurationError(
                f"no connection '{name}' (create it with `apg-workflow connections create {name}`)"
            )
        try:
            return open_row(ring, row)
        except SecretKeyError as exc:
            raise ConfigurationError(f"connection '{name}': {exc.message}") from None

    return lookup


class StoredConnections:
    """Each tenant's connections for a worker: the sealed rows are read at most once per ``max_age``
    seconds per tenant (and again after a name was missing), and opened only when a component asks."""

    def __init__(
        self,
        db: Database,
        ring: KeyRing,
        *,
        max_age: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.db = db
        self.ring = ring
        self.max_age = max_age
        self.clock = clock
        self._rows: dict[str, tuple[float, Rows]] = {}

    @classmethod
    def for_runtime(cls, rt: Runtime) -> StoredConnections:
        """Raises :class:`~apg_workflow.services.connections.SecretsUnavailable` for unusable keys."""
        return cls(rt.db, keyring(rt.settings))

    async def for_tenant(self, tenant_id: str) -> ConnectionLookup:
        cached = self._rows.get(tenant_id)
        if cached is None or self.clock() - cached[0] > self.max_age:
            try:
                rows = await self.db.read(lambda conn: stored.list_connections(conn, tenant_id))
            except Exception as exc:  # the job runs; only a component that asks for a connection fails
                log.warning("reading the connections of tenant %s failed: %s", tenant_id, exc)
                return _refusing(f"the connections could not be read ({type(exc).__name__})", RetryableError)
            cached = (self.clock(), {row.name: row for row in rows})
            self._rows[tenant_id] = cached
        return _lookup(self.ring, cached[1], on_miss=lambda: self._rows.pop(tenant_id, None))


def _refusing(message: str, error: type[ConfigurationError | RetryableError]) -> ConnectionLookup:
    """A lookup that fails every name with ``message``."""

    def lookup(name: str) -> Connection:
        raise error(f"connection '{name}': {message}")

    return lookup


def database_lookup(settings: Settings) -> ConnectionLookup:
    """The tenant's connections from the database of ``settings``, for an in-memory run: read on a
    thread of its own (the caller's event loop is busy running the component that asked); a
    database that cannot be read makes every name fail with the reason."""
    where = settings.database_url.split("@")[-1]
    try:
        ring = keyring(settings)
        with ThreadPoolExecutor(max_workers=1) as pool:
            rows = pool.submit(asyncio.run, _rows(settings)).result()
    except ServiceError as exc:
        return _refusing(f"connections cannot be opened: {exc.message}", ConfigurationError)
    except Exception as exc:  # an unreachable or older database: say so when a component asks
        reason = f"{type(exc).__name__}: {exc}"
        return _refusing(f"the connections of {where} cannot be read: {reason}", ConfigurationError)
    return _lookup(ring, rows)


async def _rows(settings: Settings) -> Rows:
    db = Database(settings.database_url)
    try:
        rows = await db.read(lambda conn: stored.list_connections(conn, settings.tenant))
    finally:
        await db.dispose()
    return {row.name: row for row in rows}


__all__ = ["StoredConnections", "database_lookup"]
