"""``executions list|show|cancel``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from apg_workflow.cli.database import run_with_runtime
from apg_workflow.cli.output import console, print_json

if TYPE_CHECKING:
    from apg_workflow.store import ExecutionRecord

app = typer.Typer(help="Executions in the database.", no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]
LimitOpt = Annotated[int, typer.Option("--limit", min=1, max=500, help="At most this many.")]
CursorOpt = Annotated[str | None, typer.Option("--cursor", help="Continue after a previous page.")]


def execution_json(x: ExecutionRecord) -> dict[str, object]:
    return {
        "id": x.id,
        "workflow": x.workflow_key,
        "version": x.workflow_version,
        "process": x.process_id,
        "business_key": x.business_key,
        "parent_id": x.parent_id,
        "status": x.status,
        "error": x.error,
        "created_at": x.created_at.isoformat(),
        "ended_at": x.ended_at.isoformat() if x.ended_at else None,
    }


@app.command("list")
def list_command(
    status: Annotated[str | None, typer.Option("--status", help="Only executions with this status.")] = None,
    limit: LimitOpt = 50,
    cursor: CursorOpt = None,
    json_output: JsonOpt = False,
) -> None:
    """Executions, newest first."""
    from apg_workflow import services

    page = run_with_runtime(
        lambda rt: services.list_executions(rt, status=status, limit=limit, cursor=cursor)
    )
    if json_output:
        print_json({"executions": [execution_json(x) for x in page.items], "next_cursor": page.next_cursor})
        return
    table = Table(box=None, header_style="bold")
    for column in ("id", "workflow", "status", "business key", "started"):
        table.add_column(column)
    for x in page.items:
        table.add_row(
            x.id,
            f"{x.workflow_key} v{x.workflow_version}",
            x.status,
            x.business_key or "",
            x.created_at.strftime("%Y-%m-%d %H:%M:%S"),
        )
    console.print(table)
    if page.next_cursor:
        console.print(f"more: --cursor '{page.next_cursor}'")


@app.command("show")
def show_command(
    execution_id: Annotated[str, typer.Argument(help="The execution id.")], json_output: JsonOpt = False
) -> None:
    """Status, variables, completed and active elements, error (``--json``: the ``run --json``
    object plus ``id``)."""
    from apg_workflow import services

    summary = run_with_runtime(lambda rt: services.show(rt, execution_id))
    if json_output:
        print_json(summary)
        return
    console.print(f"[bold]{summary['id']}[/]: {summary['status']}")
    console.print(f"  completed: {', '.join(summary['completed']) or '-'}")
    console.print(f"  active:    {', '.join(summary['active']) or '-'}")
    console.print(f"  variables: {summary['variables']}")
    if summary["error"]:
        console.print(f"  [red]error: {summary['error']}[/]")


@app.command("cancel")
def cancel_command(
    execution_id: Annotated[str, typer.Argument(help="The execution id.")],
    reason: Annotated[str, typer.Option("--reason", help="Why, for the history.")] = "cancelled",
) -> None:
    """Cancel a running execution, with its jobs, timers, user tasks and called executions."""
    from apg_workflow import services

    status = run_with_runtime(lambda rt: services.cancel(rt, execution_id, reason))
    console.print(f"{execution_id}: {status}")


__all__ = ["app", "execution_json"]
