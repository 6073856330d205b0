"""``tasks list|complete`` (user tasks) and ``incidents list|retry``."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from apg_workflow.cli.database import run_with_runtime
from apg_workflow.cli.output import console, print_json
from apg_workflow.cli.run import json_object

tasks_app = typer.Typer(help="User tasks waiting for people.", no_args_is_help=True)
incidents_app = typer.Typer(help="Failures waiting for an operator.", no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]
LimitOpt = Annotated[int, typer.Option("--limit", min=1, max=500, help="At most this many.")]
CursorOpt = Annotated[str | None, typer.Option("--cursor", help="Continue after a previous page.")]
VariablesOpt = Annotated[str | None, typer.Option("--variables", "-v", help="Variables as a JSON object.")]


@tasks_app.command("list")
def list_tasks_command(limit: LimitOpt = 50, cursor: CursorOpt = None, json_output: JsonOpt = False) -> None:
    """Open user tasks, oldest first."""
    from apg_workflow import services

    page = run_with_runtime(lambda rt: services.list_tasks(rt, limit=limit, cursor=cursor))
    if json_output:
        print_json(
            {
                "tasks": [
                    {
                        "id": t.id,
                        "execution_id": t.execution_id,
                        "element_id": t.element_id,
                        "name": t.name,
                        "assignee": t.assignee,
                        "candidate_users": t.candidate_users,
                        "candidate_groups": t.candidate_groups,
                        "due_at": t.due_at.isoformat() if t.due_at else None,
                        "priority": t.priority,
                        "form": t.form,
                        "created_at": t.created_at.isoformat(),
                    }
                    for t in page.items
                ],
                "next_cursor": page.next_cursor,
            }
        )
        return
    table = Table(box=None, header_style="bold")
    for column in ("id", "task", "assignee", "execution", "created"):
        table.add_column(column)
    for t in page.items:
        table.add_row(
            t.id,
            t.name or t.element_id,
            t.assignee or "",
            t.execution_id,
            t.created_at.strftime("%Y-%m-%d %H:%M:%S"),
        )
    console.print(table)


@tasks_app.command("complete")
def complete_task_command(
    task_id: Annotated[str, typer.Argument(help="The task id.")],
    variables: VariablesOpt = None,
    json_output: JsonOpt = False,
) -> None:
    """Complete a user task with variables (completing it again changes nothing)."""
    from apg_workflow import services

    values = json_object(variables, "--variables")
    task = run_with_runtime(lambda rt: services.complete_task(rt, task_id, values))
    if json_output:
        print_json({"id": task.id, "status": task.status, "execution_id": task.execution_id})
    else:
        console.print(f"{task.id}: {task.status}")


@incidents_app.command("list")
def list_incidents_command(
    limit: LimitOpt = 50, cursor: CursorOpt = None, json_output: JsonOpt = False
) -> None:
    """Open incidents, oldest first."""
    from apg_workflow import services

    page = run_with_runtime(lambda rt: services.list_incidents(rt, limit=limit, cursor=cursor))
    if json_output:
        print_json(
            {
                "incidents": [
                    {
                        "id": i.id,
                        "execution_id": i.execution_id,
                        "element_id": i.element_id,
                        "message": i.message,
                        "created_at": i.created_at.isoformat(),
                    }
                    for i in page.items
                ],
                "next_cursor": page.next_cursor,
            }
        )
        return
    table = Table(box=None, header_style="bold")
    for column in ("id", "element", "message", "execution"):
        table.add_column(column, overflow="fold")
    for i in page.items:
        table.add_row(i.id, i.element_id, i.message, i.execution_id)
    console.print(table)


@incidents_app.command("retry")
def retry_incident_command(
    incident_id: Annotated[str, typer.Argument(help="The incident id.")],
    variables: VariablesOpt = None,
    json_output: JsonOpt = False,
) -> None:
    """Retry what failed (a job gets a fresh budget of attempts), after setting variables."""
    from apg_workflow import services

    values = json_object(variables, "--variables")
    incident = run_with_runtime(lambda rt: services.retry_incident(rt, incident_id, values or None))
    if json_output:
        print_json({"id": incident.id, "status": incident.status, "execution_id": incident.execution_id})
    else:
        console.print(f"{incident.id}: {incident.status}")


__all__ = ["incidents_app", "tasks_app"]
