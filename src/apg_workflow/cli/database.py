"""What the commands that work against the database share: settings from the environment, the
runtime for one command, the schema check (SQLite files are brought up to date on their own, as
the zero-set-up default; PostgreSQL needs ``apg-workflow db upgrade``), and errors as one line."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

import typer

from apg_workflow.cli.output import console, err_console, problems_table

if TYPE_CHECKING:  # the database stack is imported when a command needs it, keeping the others quick
    from apg_workflow.runtime.context import Runtime
    from apg_workflow.settings import Settings

T = TypeVar("T")
EXIT_FAILED = 1
EXIT_USAGE = 2


def load_settings() -> Settings:
    from pydantic import ValidationError

    from apg_workflow.settings import Settings

    try:
        return Settings()
    except ValidationError as exc:
        details = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'settings'}: {e['msg']}" for e in exc.errors())
        fail(f"invalid settings: {details}", EXIT_USAGE)


def fail(message: str, code: int = EXIT_FAILED) -> Any:
    err_console.print(f"[bold red]error:[/] {message}")
    raise typer.Exit(code)


def configure_logging(settings: Settings) -> None:
    """Log lines to standard error, connection secrets redacted from every record."""
    from apg_workflow.components.redaction import install_log_redaction

    install_log_redaction()
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )


async def ensure_schema(rt: Runtime) -> None:
    """SQLite: migrate now. PostgreSQL: refuse to run on a schema that is not the current one."""
    from apg_workflow.store import upgrade
    from apg_workflow.store.migrate import current, head

    if not rt.db.is_postgres:
        await upgrade(rt.db)
        return
    at, wanted = await current(rt.db), head()
    if at != wanted:
        fail(
            f"the database schema is at {at or 'nothing'}, this release needs {wanted}: "
            "run `apg-workflow db upgrade`"
        )


def run_with_runtime(work: Callable[[Runtime], Awaitable[T]], *, settings: Settings | None = None) -> T:
    """Run ``work`` with a runtime for this command; known errors end the command with a message."""
    from sqlalchemy.exc import DBAPIError

    from apg_workflow.formats import FormatError
    from apg_workflow.runtime.context import open_runtime
    from apg_workflow.services import Conflict, InvalidDefinition, ServiceError
    from apg_workflow.store import CommandRejected, NotFound, StoreError

    settings = settings or load_settings()

    async def main() -> T:
        async with open_runtime(settings) as rt:
            await ensure_schema(rt)
            return await work(rt)

    try:
        return asyncio.run(main())
    except InvalidDefinition as exc:
        if exc.problems:
            console.print(problems_table(exc.problems))
        fail(exc.message)
    except (NotFound, CommandRejected, Conflict) as exc:
        fail(exc.message)
    except (ServiceError, StoreError, FormatError) as exc:
        fail(str(exc))
    except (DBAPIError, OSError) as exc:
        reason = getattr(exc, "orig", None) or exc
        fail(f"database {settings.database_url.split('@')[-1]}: {reason}")
    raise AssertionError("unreachable")


__all__ = ["EXIT_FAILED", "EXIT_USAGE", "configure_logging", "fail", "load_settings", "run_with_runtime"]
