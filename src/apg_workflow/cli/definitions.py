"""Commands on definition files that need no database: ``validate``, ``convert``, ``schema``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from apg_workflow.cli.output import console, err_console, print_json, problems_table
from apg_workflow.formats import FORMATS, FormatError, detect_format, dump, load_file
from apg_workflow.model import Definitions, Expression, Problem, Severity

FileArg = Annotated[Path, typer.Argument(help="A definition file: BPMN 2.0 XML, JSON, YAML or APG DSL.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object instead of a table.")]

EXIT_INVALID = 1
EXIT_USAGE = 2


def _check_expression(expression: Expression, kind: str) -> str | None:
    from apg_workflow.expressions import syntax_error

    return syntax_error(expression.text, expression.language, kind=kind)


def check(definitions: Definitions) -> tuple[Problem, ...]:
    """Validate with the platform's expression checker and component catalogue (problems carry
    source lines where known)."""
    from apg_workflow.model.validation import validate
    from apg_workflow.runtime.registry import platform_registry

    return validate(
        definitions, check_expression=_check_expression, known_components=platform_registry().types()
    )


def _read(path: Path) -> tuple[Definitions | None, tuple[Problem, ...], str | None]:
    """The definitions, or the problems that stopped the reader; and the detected format."""
    try:
        fmt = detect_format(path.read_bytes()[:4096], path.name)
    except OSError as exc:
        err_console.print(f"[bold red]error:[/] cannot read {path}: {exc.strerror or exc}")
        raise typer.Exit(EXIT_USAGE) from None
    try:
        return load_file(path, format=fmt), (), fmt
    except FormatError as exc:
        problems = exc.problems or (Problem(severity=Severity.ERROR, code="unreadable", message=exc.message),)
        return None, problems, fmt


def validate_command(file: FileArg, json_output: JsonOpt = False) -> None:
    """Check a definition: every problem at once, each with its element id and, for text formats,
    line and column. Exit code 0 when there is no error (warnings allowed), 1 otherwise."""
    definitions, problems, fmt = _read(file)
    if definitions is not None:
        problems = check(definitions)
    errors = sum(p.severity is Severity.ERROR for p in problems)
    warnings = sum(p.severity is Severity.WARNING for p in problems)
    if json_output:
        print_json(
            {
                "file": str(file),
                "format": fmt,
                "valid": errors == 0,
                "errors": errors,
                "warnings": warnings,
                "problems": [p.to_dict() for p in problems],
            }
        )
    else:
        if problems:
            console.print(problems_table(problems))
        summary = f"{file} ({fmt}): {errors} error(s), {warnings} warning(s)"
        if errors:
            console.print(f"[bold red]✗ invalid[/] {summary}")
        else:
            processes = len(definitions.processes) if definitions else 0
            console.print(f"[bold green]✓ valid[/] {summary}, {processes} process(es)")
    if errors:
        raise typer.Exit(EXIT_INVALID)


def convert_command(
    file: FileArg,
    to: Annotated[str, typer.Option("--to", "-t", help=f"Target format: {', '.join(FORMATS)}.")],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here instead of standard output.")
    ] = None,
) -> None:
    """Convert a definition to another format (the source format is detected from the content).
    Definitions without a diagram get an automatic left-to-right layout when written as BPMN."""
    target = to.lower()
    aliases = {"xml": "bpmn", "yml": "yaml", "apg": "dsl"}
    target = aliases.get(target, target)
    if target not in FORMATS:
        err_console.print(f"[bold red]error:[/] --to must be one of {', '.join(FORMATS)}, not '{to}'")
        raise typer.Exit(EXIT_USAGE)
    definitions, problems, _ = _read(file)
    if definitions is None:
        err_console.print(problems_table(problems))
        err_console.print(f"[bold red]✗ cannot convert[/] {file}: it could not be read")
        raise typer.Exit(EXIT_INVALID)
    text = dump(definitions, target)
    if output is None:
        typer.echo(text, nl=not text.endswith("\n"))
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        err_console.print(f"[bold red]error:[/] cannot write {output}: {exc.strerror or exc}")
        raise typer.Exit(EXIT_USAGE) from None
    err_console.print(f"wrote {output} ({target})")


def schema_command() -> None:
    """Print the JSON Schema of the JSON/YAML definition format (for editor autocompletion)."""
    from apg_workflow.formats.jsonyaml import json_schema

    typer.echo(json.dumps(json_schema(), indent=2))


def register(app: typer.Typer) -> None:
    app.command("validate")(validate_command)
    app.command("convert")(convert_command)
    app.command("schema")(schema_command)
