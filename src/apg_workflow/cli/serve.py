"""The HTTP commands: ``server`` (API + worker + timers + schedules in one process), ``api`` (the
API alone); and the identity commands ``tenant create``, ``user create``, ``apikey create``."""

from __future__ import annotations

import secrets
from typing import Annotated

import typer

from apg_workflow.cli.database import configure_logging, fail, load_settings, run_with_runtime
from apg_workflow.cli.output import console

user_app = typer.Typer(help="Users who log in to the API and the web UI.", no_args_is_help=True)
apikey_app = typer.Typer(help="API keys for programs.", no_args_is_help=True)
tenant_app = typer.Typer(
    help="Tenants: isolated spaces of workflows, executions and users.", no_args_is_help=True
)

Host = Annotated[str, typer.Option("--host", help="Address to listen on.")]
Port = Annotated[int, typer.Option("--port", min=1, max=65535, help="Port to listen on.")]


def server_command(
    host: Host = "127.0.0.1",
    port: Port = 8000,
    demo: Annotated[
        bool, typer.Option("--demo", help="Create the demo administrator with a fresh password and print it.")
    ] = False,
) -> None:
    """The whole platform in one process: HTTP API, worker, timers and schedules (the schema is
    brought up to date first)."""
    _serve(host, port, background=True, demo=demo)


def api_command(host: Host = "127.0.0.1", port: Port = 8000) -> None:
    """The HTTP API alone (run workers and schedulers as separate processes)."""
    _serve(host, port, background=False, demo=False)


def _serve(host: str, port: int, *, background: bool, demo: bool) -> None:
    import uvicorn

    from apg_workflow.api.app import create_app

    settings = load_settings()
    configure_logging(settings)
    if demo:
        if settings.environment != "development":
            fail("--demo is for development only (APG_ENVIRONMENT=production)")
        password = secrets.token_urlsafe(12)
        run_with_runtime(lambda rt: _demo_admin(rt, password), settings=settings)
        console.print(
            f"[bold]APG Workflow[/] on http://{host}:{port}\n"
            f"Demo login: [bold]admin[/] / [bold]{password}[/]\n"
            f"API docs: http://{host}:{port}/api/v1/docs"
        )
    app = create_app(settings, background=background, migrate=True if background else None)
    uvicorn.run(app, host=host, port=port, log_level=settings.log_level.lower(), lifespan="on")


async def _demo_admin(rt: object, password: str) -> None:
    from apg_workflow.services import auth

    await auth.reset_demo_admin(rt, password)  # type: ignore[arg-type]


@tenant_app.command("create")
def tenant_create(
    name: Annotated[str, typer.Argument(help="The tenant id (letters, digits, '-' and '_').")],
) -> None:
    """Create a tenant (idempotent)."""
    from apg_workflow.services import auth

    run_with_runtime(lambda rt: auth.create_tenant(rt, name))
    console.print(f"tenant {name}")


@user_app.command("create")
def user_create(
    username: Annotated[str, typer.Argument(help="The login name.")],
    password: Annotated[
        str, typer.Option("--password", "-p", prompt=True, hide_input=True, help="At least 8 characters.")
    ],
    tenant: Annotated[
        str | None, typer.Option("--tenant", "-t", help="Tenant (default: APG_TENANT).")
    ] = None,
    role: Annotated[
        list[str] | None,
        typer.Option("--role", "-r", help="admin, developer, operator or viewer; repeatable."),
    ] = None,
    group: Annotated[
        list[str] | None, typer.Option("--group", "-g", help="A group the user belongs to; repeatable.")
    ] = None,
) -> None:
    """Create a user who can log in (POST /api/v1/auth/login)."""
    from apg_workflow.services import auth

    created = run_with_runtime(
        lambda rt: auth.create_user(
            rt,
            username,
            password,
            tenant_id=tenant,
            roles=tuple(role or ("developer",)),
            groups=tuple(group or ()),
        )
    )
    console.print(f"user {created.username} ({', '.join(created.roles)}) in tenant {created.tenant_id}")


@apikey_app.command("create")
def apikey_create(
    username: Annotated[str, typer.Option("--user", "-u", help="The user the key acts as.")] = "admin",
    name: Annotated[str, typer.Option("--name", "-n", help="What the key is for.")] = "cli",
) -> None:
    """Create an API key and print it (it is shown only once; send it as X-API-Key)."""
    from apg_workflow.services import auth

    created = run_with_runtime(lambda rt: auth.create_api_key_for(rt, username, name))
    print(created.key)


def register(app: typer.Typer) -> None:
    app.command("server")(server_command)
    app.command("api")(api_command)
    app.add_typer(tenant_app, name="tenant")
    app.add_typer(user_app, name="user")
    app.add_typer(apikey_app, name="apikey")


__all__ = ["register"]
