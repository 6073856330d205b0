"""``components list`` and ``components show TYPE``: the catalogue of installed components."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.markdown import Markdown
from rich.table import Table

from apg_workflow.cli.output import console, err_console, print_json
from apg_workflow.components import Component, ComponentRegistry, UnknownComponent
from apg_workflow.components.docs import component_markdown, is_builtin, shipped
from apg_workflow.runtime.registry import platform_registry

app = typer.Typer(help="The installed components: what service tasks can run.", no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object instead of a table.")]

EXIT_UNKNOWN = 1
EXIT_USAGE = 2


def _catalogue() -> tuple[list[type[Component]], list[str]]:
    """The built-ins, then the plugins; and the problems of the plugins that could not be loaded."""
    registry = platform_registry()
    builtins = shipped(registry)
    return builtins + [c for c in registry if c not in builtins], registry.problems


def _entry(component: type[Component]) -> dict[str, Any]:
    return {**component.describe(), "builtin": is_builtin(component)}


@app.command("list")
def list_command(
    category: Annotated[str | None, typer.Option("--category", "-c", help="Only this category.")] = None,
    json_output: JsonOpt = False,
) -> None:
    """The installed components, built-ins first; with --json their schemas and examples too."""
    components, problems = _catalogue()
    if category is not None:
        known = sorted({c.category for c in components})
        if category not in known:
            err_console.print(
                f"[bold red]error:[/] no category '{category}' (categories: {', '.join(known)})"
            )
            raise typer.Exit(EXIT_USAGE)
        components = [c for c in components if c.category == category]
    if json_output:
        print_json({"components": [_entry(c) for c in components], "problems": problems})
        return
    table = Table(box=None, header_style="bold")
    for column in ("type", "category", "title", "from"):
        table.add_column(column)
    for component in components:
        origin = "built-in" if is_builtin(component) else component.__module__.split(".", 1)[0]
        table.add_row(component.type, component.category, component.title, origin)
    console.print(table)
    for problem in problems:
        err_console.print(f"[yellow]warning:[/] {problem}")


@app.command("show")
def show_command(
    type_name: Annotated[str, typer.Argument(metavar="TYPE", help="A component type, e.g. http.request.")],
    json_output: JsonOpt = False,
) -> None:
    """One component: description, configuration fields, inputs, outputs and examples."""
    components, _ = _catalogue()
    registry = ComponentRegistry(components)
    try:
        component = registry.get(type_name)
    except UnknownComponent as exc:
        err_console.print(f"[bold red]error:[/] {exc.message}")
        raise typer.Exit(EXIT_UNKNOWN) from None
    if json_output:
        print_json(_entry(component))
    else:
        console.print(Markdown(component_markdown(component)))


__all__ = ["app"]


@app.command("docs")
def docs_command() -> None:
    """Print the component reference (docs/components.md) generated from the built-ins."""
    from apg_workflow.components.docs import render

    builtins, _ = _catalogue()
    typer.echo(render([c for c in builtins if is_builtin(c)]), nl=False)
