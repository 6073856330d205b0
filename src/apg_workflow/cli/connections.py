"""``connections create|list|show|delete|rotate-keys|generate-key``: the named credentials of the
tenant (``APG_TENANT``), sealed with ``APG_SECRET_KEYS``. Nothing here prints a secret."""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.table import Table

from apg_workflow.cli.database import EXIT_FAILED, EXIT_USAGE, fail, run_with_runtime
from apg_workflow.cli.output import console, print_json

if TYPE_CHECKING:
    from apg_workflow.components.connections import ConnectionLookup
    from apg_workflow.runtime.context import Runtime
    from apg_workflow.services.connection_sources import StoredConnections
    from apg_workflow.services.connections import ConnectionView
    from apg_workflow.settings import Settings

T = TypeVar("T")
app = typer.Typer(
    help="Named credentials for components (HTTP, database, SMTP, S3, Redis), encrypted at rest.",
    no_args_is_help=True,
)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]
NameArg = Annotated[str, typer.Argument(help="The connection's name, as component configurations give it.")]


def _run(work: Callable[[Runtime], Awaitable[T]]) -> T:
    """Run ``work`` against the database; refused keys or settings end the command with a message."""
    from apg_workflow.services.connections import ConnectionRejected, SecretsUnavailable

    try:
        return run_with_runtime(work)
    except (ConnectionRejected, SecretsUnavailable) as exc:
        return fail(exc.message)


def stored_connections(rt: Runtime) -> StoredConnections:
    """The worker's connection source; unusable keys end the command with a message."""
    from apg_workflow.services.connection_sources import StoredConnections
    from apg_workflow.services.connections import SecretsUnavailable

    try:
        return StoredConnections.for_runtime(rt)
    except SecretsUnavailable as exc:
        return fail(exc.message)


def run_connections(settings: Settings, file: Path | None) -> ConnectionLookup | None:
    """The connections of ``apg-workflow run``: those of ``--connections FILE``; else, when the
    database of ``DATABASE_URL`` exists, the tenant's there (read when a component first asks);
    else none. A bad file ends the command with a message."""
    from apg_workflow.components.connection_files import read_connections_file
    from apg_workflow.components.connections import InvalidConnection, LazyLookup, static_lookup
    from apg_workflow.components.redaction import install_log_redaction

    if file is not None:
        try:
            connections = read_connections_file(file)
        except InvalidConnection as exc:
            fail(exc.message, EXIT_USAGE)
        install_log_redaction()
        return static_lookup(connections, origin=str(file))
    if not _database_exists(settings.database_url):
        return None
    install_log_redaction()
    return LazyLookup(lambda: _database_lookup(settings))


def _database_exists(url: str) -> bool:
    """PostgreSQL: assumed (it answers when asked). SQLite: the file exists (``run`` creates none)."""
    if not url.startswith("sqlite"):
        return True
    path = url.split(":///", 1)[-1].split("?", 1)[0]
    return "://" not in path and path != ":memory:" and Path(path).is_file()


def _database_lookup(settings: Settings) -> ConnectionLookup:
    from apg_workflow.services.connection_sources import database_lookup

    return database_lookup(settings)


def _settings(connection_type: str | None, data: str | None, from_file: Path | None) -> dict[str, Any]:
    """The settings of ``--data`` or ``--from-file`` (``-``: standard input), typed by ``--type``."""
    from apg_workflow.components.connection_files import parse_document, read_document
    from apg_workflow.components.connections import InvalidConnection

    if (data is None) == (from_file is None):
        fail("give the settings with one of --data JSON and --from-file FILE", EXIT_USAGE)
    try:
        if data is not None:
            value = parse_document(data, source="--data", yaml_allowed=False)
        elif from_file == Path("-"):
            value = parse_document(sys.stdin.read(), source="standard input")
        else:
            value = read_document(Path(str(from_file)))
    except InvalidConnection as exc:
        fail(exc.message, EXIT_USAGE)
    if not isinstance(value, dict):
        fail('the settings must be an object, like {"url": "postgresql://…"}', EXIT_USAGE)
    declared = value.get("type")
    if connection_type and declared and declared != connection_type:
        fail(f"--type {connection_type} disagrees with the settings' type '{declared}'", EXIT_USAGE)
    if not (connection_type or declared):
        fail("give the connection's --type: http, database, smtp, s3 or redis", EXIT_USAGE)
    return {**value, "type": connection_type or declared}


def _print(view: ConnectionView, json_output: bool) -> None:
    if json_output:
        print_json(view.to_json())
        return
    console.print(f"[bold]{view.name}[/] ({view.type}), sealed with key {view.key_id}")
    if view.problem:
        console.print(f"[red]{view.problem}[/]")
    else:
        console.print_json(data=view.settings)


@app.command("create")
def create_command(
    name: NameArg,
    connection_type: Annotated[
        str | None, typer.Option("--type", "-t", help="http, database, smtp, s3 or redis.")
    ] = None,
    data: Annotated[
        str | None,
        typer.Option("--data", "-d", help="The settings as a JSON object (visible in shell history)."),
    ] = None,
    from_file: Annotated[
        Path | None,
        typer.Option("--from-file", "-f", help="The settings from a JSON or YAML file; - reads stdin."),
    ] = None,
    replace: Annotated[
        bool, typer.Option("--replace", help="Replace the settings of an existing connection of this name.")
    ] = False,
    json_output: JsonOpt = False,
) -> None:
    """Store a connection, encrypted. Prints its redacted settings."""
    from apg_workflow.services import connections

    settings = _settings(connection_type, data, from_file)
    view = _run(lambda rt: connections.create_connection(rt, name, settings, replace=replace))
    _print(view, json_output)


@app.command("list")
def list_command(json_output: JsonOpt = False) -> None:
    """The tenant's connections, by name, secrets redacted."""
    from apg_workflow.services import connections

    views = _run(connections.list_connections)
    if json_output:
        print_json({"connections": [view.to_json() for view in views]})
        return
    table = Table(box=None, header_style="bold")
    for column in ("name", "type", "key", "updated", "settings"):
        table.add_column(column, overflow="fold")
    for view in views:
        settings = {k: v for k, v in (view.settings or {}).items() if k != "type"}
        shown = view.problem or ", ".join(f"{k}={v}" for k, v in settings.items())
        table.add_row(view.name, view.type, view.key_id, view.updated_at.strftime("%Y-%m-%d %H:%M:%S"), shown)
    console.print(table)


@app.command("show")
def show_command(name: NameArg, json_output: JsonOpt = False) -> None:
    """One connection, secrets redacted."""
    from apg_workflow.services import connections

    _print(_run(lambda rt: connections.get_connection(rt, name)), json_output)


@app.command("delete")
def delete_command(name: NameArg) -> None:
    """Delete a connection (components that name it then fail with a message that says so)."""
    from apg_workflow.services import connections

    _run(lambda rt: connections.delete_connection(rt, name))
    console.print(f"deleted connection '{name}'")


@app.command("rotate-keys")
def rotate_keys_command(json_output: JsonOpt = False) -> None:
    """Re-encrypt every connection (of every tenant) with the current key, the first of
    APG_SECRET_KEYS. Then the older keys can be removed from the setting."""
    from apg_workflow.services import connections

    rotation = _run(connections.rotate_keys)
    if json_output:
        print_json(
            {
                "key_id": rotation.key_id,
                "resealed": rotation.resealed,
                "unreadable": list(rotation.unreadable),
            }
        )
    else:
        console.print(f"re-encrypted {rotation.resealed} connection(s) with key {rotation.key_id}")
        for problem in rotation.unreadable:
            console.print(f"[red]not re-encrypted:[/] {problem}")
    if rotation.unreadable:
        raise typer.Exit(EXIT_FAILED)


@app.command("generate-key")
def generate_key_command() -> None:
    """Print a new random key for APG_SECRET_KEYS."""
    from apg_workflow.security import generate_key

    typer.echo(generate_key())


__all__ = ["app", "run_connections", "stored_connections"]
