"""``deploy`` and ``start``: put a workflow in the database, start executions of it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from apg_workflow.cli.database import run_with_runtime
from apg_workflow.cli.output import console, print_json
from apg_workflow.cli.run import json_object

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]


def deploy_command(
    file: Annotated[Path, typer.Argument(help="The definition: BPMN 2.0 XML, JSON, YAML or APG DSL.")],
    more_files: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Processes its call activities call, and DMN decision tables.", show_default=False
        ),
    ] = None,
    max_concurrent: Annotated[
        int | None,
        typer.Option(
            "--max-concurrent",
            min=0,
            help="At most N executions of this workflow active at once; the starts beyond queue and "
            "run in order. 0 removes the limit. Unset: the limit stays as it was.",
            show_default=False,
        ),
    ] = None,
    json_output: JsonOpt = False,
) -> None:
    """Deploy a workflow (its key is the id of its main process). An unchanged definition keeps its
    version; a changed one gets the next."""
    from apg_workflow import services
    from apg_workflow.runtime.context import Runtime
    from apg_workflow.services import limits
    from apg_workflow.store import Deployment

    async def deploy(rt: Runtime) -> Deployment:
        deployment = await services.deploy(rt, [file, *(more_files or [])])
        if max_concurrent is not None:
            await limits.set_workflow_limit(rt, deployment.key, max_concurrent or None)
        return deployment

    deployment = run_with_runtime(deploy)
    limit = f", at most {max_concurrent} at once" if max_concurrent else ""
    if json_output:
        shown = {
            "key": deployment.key,
            "version": deployment.version,
            "name": deployment.name,
            "created": deployment.created,
        }
        if max_concurrent is not None:
            shown["max_concurrent_executions"] = max_concurrent or None
        print_json(shown)
    elif deployment.created:
        console.print(f"deployed {deployment.key} version {deployment.version}{limit}")
    else:
        console.print(f"{deployment.key} version {deployment.version} is unchanged{limit}")


def start_command(
    key: Annotated[str, typer.Argument(help="The workflow key (the id of its main process).")],
    input_json: Annotated[
        str | None, typer.Option("--input", "-i", help="Start variables as a JSON object.")
    ] = None,
    business_key: Annotated[
        str | None,
        typer.Option(
            "--business-key", "-b", help="Identifies the run: starting the same key again returns it."
        ),
    ] = None,
    version: Annotated[int | None, typer.Option("--version", help="A version (default: the latest).")] = None,
    json_output: JsonOpt = False,
) -> None:
    """Start an execution; prints its id."""
    from apg_workflow import services

    variables = json_object(input_json, "--input")
    started = run_with_runtime(
        lambda rt: services.start(rt, key, variables=variables, business_key=business_key, version=version)
    )
    if json_output:
        print_json({"id": started.execution_id, "status": started.status, "created": started.created})
    else:
        typer.echo(started.execution_id)


__all__ = ["deploy_command", "start_command"]
