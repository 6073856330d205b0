"""``apg-workflow run``: run a definition of any format in memory, with a live trace or as JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from apg_workflow.cli.output import console, err_console, print_json, problems_table
from apg_workflow.engine import effects as e
from apg_workflow.formats import FormatError, load_file
from apg_workflow.model import Definitions, ElementNotFound
from apg_workflow.model.decisions import DecisionDefinitions

EXIT_FAILED = 1
EXIT_USAGE = 2
_DMN_MARK = b"www.omg.org/spec/DMN/"


def json_object(text: str | None, option: str) -> dict[str, Any]:
    if text is None:
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        err_console.print(f"[bold red]error:[/] {option} is not valid JSON: {exc.msg} at column {exc.colno}")
        raise typer.Exit(EXIT_USAGE) from None
    if not isinstance(value, dict):
        err_console.print(f"[bold red]error:[/] {option} must be a JSON object, like '{{\"name\": 1}}'")
        raise typer.Exit(EXIT_USAGE)
    return value


def _is_dmn(path: Path, head: bytes) -> bool:
    return path.suffix.lower() == ".dmn" or (head.lstrip().startswith(b"<") and _DMN_MARK in head[:2048])


def load_sources(files: list[Path]) -> tuple[list[Definitions], list[DecisionDefinitions]]:
    """Process definitions and DMN decision files, each read in its own format; exit on bad input."""
    from apg_workflow.formats.dmn import read_dmn

    definitions: list[Definitions] = []
    decisions: list[DecisionDefinitions] = []
    for path in files:
        try:
            data = path.read_bytes()
        except OSError as exc:
            err_console.print(f"[bold red]error:[/] cannot read {path}: {exc.strerror or exc}")
            raise typer.Exit(EXIT_USAGE) from None
        try:
            if _is_dmn(path, data[:4096]):
                decisions.append(read_dmn(data, source=str(path)))
            else:
                definitions.append(load_file(path))
        except FormatError as exc:
            err_console.print(problems_table(exc.problems) if exc.problems else exc.message)
            err_console.print(f"[bold red]✗ cannot run[/] {path}: it could not be read")
            raise typer.Exit(EXIT_FAILED) from None
    if not definitions:
        err_console.print("[bold red]error:[/] no process definition among the files (only DMN decisions)")
        raise typer.Exit(EXIT_USAGE)
    return definitions, decisions


def _label(definitions: list[Definitions], element_id: str | None) -> str:
    if element_id is None:
        return ""
    for source in definitions:
        element = source.find(element_id)
        name = getattr(element, "name", None)
        if element is not None:
            kind = getattr(element, "kind", None)
            return f"{kind.value if kind else ''} {element_id}" + (f" [dim]({name})[/]" if name else "")
    return element_id


_EVENT_STYLE = {
    "element.activated": ("▶", "cyan"),
    "element.completed": ("✓", "green"),
    "element.cancelled": ("■", "yellow"),
    "element.failed": ("✗", "red"),
    "job.failed": ("✗", "red"),
    "execution.completed": ("●", "bold green"),
    "execution.failed": ("●", "bold red"),
}


def run_command(
    file: Annotated[Path, typer.Argument(help="The definition to run: BPMN 2.0 XML, JSON, YAML or APG DSL.")],
    more_files: Annotated[
        list[Path] | None,
        typer.Argument(help="Processes that call activities call, and DMN decision tables (.dmn)."),
    ] = None,
    process: Annotated[
        str | None,
        typer.Option(
            "--process", "-p", help="The process (or pool) to run; default: the first executable one."
        ),
    ] = None,
    input: Annotated[
        str | None, typer.Option("--input", "-i", help="Start variables as a JSON object.")
    ] = None,
    tasks: Annotated[
        str | None,
        typer.Option(
            "--tasks",
            help='User-task ids or names → the variables each is completed with, as JSON; the key "*" '
            "completes every other user or manual task.",
        ),
    ] = None,
    virtual_time: Annotated[
        bool, typer.Option("--virtual-time", help="Jump to the next due timer when nothing else can move.")
    ] = False,
    business_key: Annotated[
        str | None, typer.Option("--business-key", help="A business key for the execution.")
    ] = None,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print one JSON object (the result) as the last line.")
    ] = False,
    connections: Annotated[
        Path | None,
        typer.Option(
            "--connections",
            help="Named connections for the components, from a JSON or YAML file; by default the "
            "tenant's, from the database of DATABASE_URL when it exists.",
        ),
    ] = None,
) -> None:
    """Run a definition in memory: service tasks run their components here, listed user tasks are
    completed, timers fire (instantly with --virtual-time). Exit code 0 when the execution completed
    or waits for something (a user task, a message), 1 when it failed or was cancelled."""
    from apg_workflow.cli.connections import run_connections
    from apg_workflow.cli.database import load_settings
    from apg_workflow.runtime.local import LocalRunner

    variables = json_object(input, "--input")
    answers = json_object(tasks, "--tasks")
    bad = [key for key, value in answers.items() if not isinstance(value, dict)]
    if bad:
        err_console.print(
            f"[bold red]error:[/] --tasks values must be JSON objects of variables (see '{bad[0]}')"
        )
        raise typer.Exit(EXIT_USAGE)
    definitions, decisions = load_sources([file, *(more_files or [])])
    try:
        process_id = definitions[0].select_process(process).id
    except ElementNotFound:
        available = ", ".join(p.id for p in definitions[0].processes) or "none"
        err_console.print(f"[bold red]error:[/] no process '{process}' in {file} (processes: {available})")
        raise typer.Exit(EXIT_USAGE) from None

    def trace(execution_id: str, entry: e.History) -> None:
        symbol, style = _EVENT_STYLE.get(entry.event, ("·", "dim"))
        clock = entry.at.strftime("%H:%M:%S.%f")[:-3]
        console.print(
            f"[dim]{clock}[/] [{style}]{symbol} {entry.event:<20}[/] {_label(definitions, entry.element_id)}"
        )

    settings = load_settings()
    with LocalRunner(
        definitions,
        decisions,
        virtual_time=virtual_time,
        trace=None if json_output else trace,
        connections=run_connections(settings, connections),
        storage_root=settings.storage_root,
    ) as runner:
        execution_id = runner.run(process_id, variables, tasks=answers, business_key=business_key)
        result = runner.summary(execution_id)
    if json_output:
        print_json(result)
    else:
        style = {"completed": "bold green", "waiting": "bold yellow"}.get(result["status"], "bold red")
        console.print(f"[{style}]{result['status']}[/]" + (f": {result['error']}" if result["error"] else ""))
        if result["active"]:
            console.print(f"waiting at: {', '.join(result['active'])}")
        console.print_json(data=result["variables"])
    if result["status"] not in ("completed", "waiting"):
        raise typer.Exit(EXIT_FAILED)
