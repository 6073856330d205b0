"""Console output shared by the commands: rich for people, one JSON object for programs."""

from __future__ import annotations

import json
import sys
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from apg_workflow.model import Problem, Severity

console = Console(highlight=False, soft_wrap=True)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)

_STYLE = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}


def print_json(payload: Any) -> None:
    """One JSON object on one line (the last line of output), for scripts."""
    sys.stdout.write(json.dumps(payload, ensure_ascii=False, default=str) + "\n")


def problems_table(problems: tuple[Problem, ...]) -> Table:
    table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
    table.add_column("severity")
    table.add_column("where")
    table.add_column("problem", overflow="fold")
    table.add_column("code", style="dim")
    for problem in problems:
        where = []
        if problem.line is not None:
            where.append(
                f"{problem.line}:{problem.column}" if problem.column is not None else str(problem.line)
            )
        if problem.element_id:
            where.append(problem.element_id)
        table.add_row(
            Text(problem.severity.value, style=_STYLE[problem.severity]),
            " ".join(where) or "-",
            problem.message,
            problem.code,
        )
    return table
