"""The commands that work against the database (``DATABASE_URL``): ``db upgrade``, ``deploy``,
``start``, ``executions``, ``tasks``, ``incidents``, ``schedules``, ``worker``, ``scheduler``,
``server``."""

from __future__ import annotations

import typer

from apg_workflow.cli import deploy, executions, schedules, serve, tasks, worker


def register(app: typer.Typer) -> None:
    app.add_typer(worker.db_app, name="db")
    app.command("deploy")(deploy.deploy_command)
    app.command("start")(deploy.start_command)
    app.add_typer(executions.app, name="executions")
    app.add_typer(tasks.tasks_app, name="tasks")
    app.add_typer(tasks.incidents_app, name="incidents")
    app.add_typer(schedules.app, name="schedules")
    app.command("worker")(worker.worker_command)
    app.command("scheduler")(worker.scheduler_command)
    serve.register(app)


__all__ = ["register"]
