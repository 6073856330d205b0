"""The ``apg-workflow`` command (typer + rich). See docs/cli.md."""

from __future__ import annotations

import os
import sys

import typer

from apg_workflow import __version__
from apg_workflow.cli import components, connections, definitions, durable
from apg_workflow.cli.run import run_command

app = typer.Typer(
    name="apg-workflow",
    help="APG Workflow: BPMN 2.0 workflow orchestration. Validate, convert and run process definitions.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
definitions.register(app)
app.command("run")(run_command)
durable.register(app)
app.add_typer(connections.app, name="connections")
app.add_typer(components.app, name="components")


@app.command()
def version() -> None:
    """Print the version."""
    typer.echo(__version__)


INTERNAL_ERROR = 70  # EX_SOFTWARE


def main() -> None:
    """Entry point: runs the app and turns an unexpected exception into one readable line."""
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:  # the last line of defence: users get a message, not a traceback
        if os.environ.get("APG_DEBUG") == "1":
            raise
        typer.echo(
            f"apg-workflow: internal error: {type(exc).__name__}: {exc}\n"
            "Please report it; set APG_DEBUG=1 to see the traceback.",
            err=True,
        )
        sys.exit(INTERNAL_ERROR)


__all__ = ["app", "main"]
