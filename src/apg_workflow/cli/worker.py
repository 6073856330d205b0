"""The long-running commands: ``worker``, ``scheduler``, ``server``; and ``db upgrade``."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from apg_workflow.cli.database import configure_logging, fail, load_settings
from apg_workflow.cli.output import console

if TYPE_CHECKING:
    from apg_workflow.settings import Settings

T = TypeVar("T")
db_app = typer.Typer(help="The database schema.", no_args_is_help=True)


@db_app.command("upgrade")
def upgrade_command() -> None:
    """Create or migrate the schema to this release's (safe to run again, and from several
    processes at once)."""
    from apg_workflow.runtime.context import open_runtime
    from apg_workflow.store import upgrade

    settings = load_settings()

    async def main() -> str | None:
        async with open_runtime(settings) as rt:
            return await upgrade(rt.db)

    console.print(f"database at revision {_guard(settings, main())}")


def worker_command(
    concurrency: Annotated[
        int | None, typer.Option("--concurrency", "-c", min=1, help="Jobs run at once (default 10).")
    ] = None,
) -> None:
    """Claim and run jobs until SIGTERM, then finish (or release) the running ones."""
    settings = load_settings()
    _run_loops(settings, worker=True, timers=False, concurrency=concurrency, migrate=False)


def scheduler_command() -> None:
    """Fire due timers and schedules (each exactly once, however many schedulers run) until SIGTERM."""
    _run_loops(load_settings(), worker=False, timers=True, concurrency=None, migrate=False)


def server_command(
    host: Annotated[str, typer.Option("--host", help="Address the HTTP API will listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port the HTTP API will listen on.")] = 8000,
    concurrency: Annotated[
        int | None, typer.Option("--concurrency", "-c", min=1, help="Jobs run at once.")
    ] = None,
) -> None:
    """Worker, timer and schedule pollers in one process, on SQLite by default, after `db upgrade`. The HTTP
    API and UI join this process in a later release; --host and --port are for them."""
    settings = load_settings()
    console.print(
        f"apg-workflow server: worker, timers and schedules (HTTP API on {host}:{port} is not part of "
        "this release yet)"
    )
    _run_loops(settings, worker=True, timers=True, concurrency=concurrency, migrate=True)


def _run_loops(
    settings: Settings, *, worker: bool, timers: bool, concurrency: int | None, migrate: bool
) -> None:
    from apg_workflow.cli.connections import stored_connections
    from apg_workflow.runtime.context import open_runtime
    from apg_workflow.runtime.registry import platform_registry
    from apg_workflow.runtime.schedules import SchedulePoller
    from apg_workflow.runtime.serve import Loop, serve
    from apg_workflow.runtime.timers import TimerPoller
    from apg_workflow.runtime.worker import Worker
    from apg_workflow.store import upgrade
    from apg_workflow.store.migrate import current, head

    configure_logging(settings)

    async def main() -> None:
        async with open_runtime(settings) as rt:
            if migrate or not rt.db.is_postgres:
                await upgrade(rt.db)
            elif await current(rt.db) != head():
                fail("the database schema is not current: run `apg-workflow db upgrade`")
            loops: list[Loop] = []
            if worker:
                source = stored_connections(rt)
                loops.append(Worker(rt, platform_registry(), concurrency=concurrency, connections=source).run)
            if timers:
                loops.append(TimerPoller(rt).run)
                loops.append(SchedulePoller(rt).run)
            # What start-up made (modules, the schema, the components) lives as long as the
            # process: out of the collector's sight, each collection scans only what the work makes.
            gc.freeze()
            await serve(*loops)

    _guard(settings, main())


def _guard(settings: Settings, work: Coroutine[Any, Any, T]) -> T:
    from sqlalchemy.exc import DBAPIError

    try:
        return asyncio.run(work)
    except (DBAPIError, OSError) as exc:
        return fail(f"database {settings.database_url.split('@')[-1]}: {getattr(exc, 'orig', None) or exc}")


__all__ = ["db_app", "scheduler_command", "server_command", "upgrade_command", "worker_command"]
