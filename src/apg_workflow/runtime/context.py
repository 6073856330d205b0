"""The composition root of a process: settings → database → program cache → transitions, with the
in-process wake-ups. Built by the entry point (CLI, server, tests) and passed down."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from apg_workflow.runtime.programs import compile_sources
from apg_workflow.runtime.wakeups import Wakeups
from apg_workflow.settings import Settings
from apg_workflow.store import Database, ProgramCache, Transitions, utcnow


@dataclass(frozen=True, slots=True)
class Runtime:
    settings: Settings
    db: Database
    transitions: Transitions
    wakeups: Wakeups
    tenant_id: str | None = None  # set by :meth:`for_tenant`; the settings' tenant otherwise

    @property
    def tenant(self) -> str:
        return self.tenant_id or self.settings.tenant

    def for_tenant(self, tenant_id: str) -> Runtime:
        """This runtime acting for ``tenant_id`` (the API scopes each request to its caller's tenant)."""
        return replace(self, tenant_id=tenant_id)

    @property
    def clock(self) -> Callable[[], datetime]:
        return self.transitions.clock


@asynccontextmanager
async def open_runtime(
    settings: Settings, *, clock: Callable[[], datetime] = utcnow
) -> AsyncIterator[Runtime]:
    """A runtime for ``settings``; its connections close when the block ends."""
    db = Database(settings.database_url, pool_size=settings.database_pool_size)
    wakeups = Wakeups()
    transitions = Transitions(
        db,
        ProgramCache(compile_sources),
        clock=clock,
        message_ttl=timedelta(seconds=settings.message_ttl_seconds),
        inbox_grace=timedelta(seconds=settings.lease_margin_seconds),
        on_commit=wakeups.on_commit,
        max_concurrent_executions=settings.max_concurrent_executions,
    )
    try:
        yield Runtime(settings=settings, db=db, transitions=transitions, wakeups=wakeups)
    finally:
        await db.dispose()


__all__ = ["Runtime", "open_runtime"]
