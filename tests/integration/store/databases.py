"""One store contract, two dialects: the ``database_url`` fixture gives every test a fresh,
migrated database, SQLite (a copy of a template file) and PostgreSQL (``CREATE DATABASE …
TEMPLATE`` of a database migrated once per session)."""

from __future__ import annotations

import asyncio
import itertools
import os
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest
import pytest_asyncio

from apg_workflow import services
from apg_workflow.runtime.context import Runtime, open_runtime
from apg_workflow.runtime.programs import source_format
from apg_workflow.settings import Settings
from apg_workflow.store import Database, Deployment, Source, upgrade

_counter = itertools.count()


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, ""))


async def _migrate(url: str) -> None:
    db = Database(url)
    try:
        await upgrade(db)
    finally:
        await db.dispose()


async def _admin(url: str, *statements: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    asyncio.run(_migrate(f"sqlite:///{path}"))
    return path


@pytest.fixture(scope="session")
def postgres_template(postgres_url: str) -> Iterator[str]:
    name = f"apg_template_{os.getpid()}"
    asyncio.run(_admin(postgres_url, f"DROP DATABASE IF EXISTS {name}", f"CREATE DATABASE {name}"))
    asyncio.run(_migrate(_with_database(postgres_url, name)))
    yield name
    asyncio.run(_admin(postgres_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated database of each dialect."""
    if request.param == "sqlite":
        target = tmp_path / "apg.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), target)
        yield f"sqlite:///{target}"
        return
    postgres_url = request.getfixturevalue("postgres_url")
    template = request.getfixturevalue("postgres_template")
    name = f"apg_test_{os.getpid()}_{next(_counter)}"
    asyncio.run(_admin(postgres_url, f"CREATE DATABASE {name} TEMPLATE {template}"))
    yield _with_database(postgres_url, name)
    asyncio.run(_admin(postgres_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


def settings_for(database_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_url": database_url,
        "poll_interval_seconds": 0.05,
        "shutdown_grace_seconds": 5,
        "job_timeout_seconds": 10,
        "lease_margin_seconds": 5,
    }
    return Settings(**(values | overrides))  # type: ignore[arg-type]


@pytest_asyncio.fixture
async def runtime(database_url: str) -> AsyncIterator[Runtime]:
    async with open_runtime(settings_for(database_url)) as rt:
        yield rt


class Clock:
    """A clock tests move by hand."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@pytest_asyncio.fixture
async def clock_runtime(database_url: str) -> AsyncIterator[tuple[Runtime, Clock]]:
    clock = Clock()
    async with open_runtime(settings_for(database_url), clock=clock) as rt:
        yield rt, clock


async def deploy_text(rt: Runtime, text: str, *more: str) -> Deployment:
    """Deploy definitions given as text (BPMN, JSON, YAML or DSL)."""
    sources = [
        Source(name=f"file{i}", format=source_format(t, f"file{i}"), text=t)
        for i, t in enumerate((text, *more))
    ]
    return await services.deploy_sources(rt, sources)


async def wait_for(check: Callable[[], Awaitable[bool]], *, timeout: float = 10.0) -> None:
    """Poll ``check`` until it holds (or fail after ``timeout`` seconds)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("timed out waiting for the condition")
        await asyncio.sleep(0.02)
