"""Where a problem is: paths like ``activities[2].retry``, their line and column in the source text,
and the collection of located problems into one :class:`FormatError`."""

from __future__ import annotations

import difflib
import json
import re
from bisect import bisect_right
from collections.abc import Callable, Iterable
from functools import cached_property
from typing import Any

from apg_workflow.formats.errors import FormatError
from apg_workflow.model.errors import Problem, Severity

PathPart = str | int
Path = tuple[PathPart, ...]
Position = tuple[int, int]  # 1-based line and column
PositionMaps = tuple[dict[Path, Position], dict[Path, Position]]  # (keys, values)

_IDENTIFIER = re.compile(r"[A-Za-z_$][A-Za-z0-9_$-]*")
_SHOWN_PROBLEMS = 20


def format_path(path: Iterable[PathPart]) -> str:
    """``("activities", 2, "retry")`` → ``activities[2].retry``; odd keys are quoted: ``inputs["a b"]``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _IDENTIFIER.fullmatch(part):
            out += f".{part}" if out else part
        else:
            out += f"[{json.dumps(part, ensure_ascii=False)}]"
    return out


def suggest(word: str, choices: Iterable[str]) -> str:
    """`` (did you mean 'userTask'?)`` when a choice is close to ``word``, else an empty string.

    Case, ``_``, ``-`` and spaces are ignored when comparing: ``user_task`` suggests ``userTask``.
    """
    by_form = {_form(choice): choice for choice in choices}
    close = difflib.get_close_matches(_form(word), list(by_form), n=1, cutoff=0.6)
    return f" (did you mean '{by_form[close[0]]}'?)" if close else ""


def _form(word: str) -> str:
    return re.sub(r"[\s_-]", "", word).lower()


def describe_value(value: Any) -> str:
    """A short rendering of a bad input for an error message: ``"three"``, ``3``, ``a list``."""
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list | tuple):
        return "a list"
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 40 else text[:37] + "..."


class SourceMap:
    """Line and column of every key and value of a parsed document, by path; built on first use."""

    def __init__(self, build: Callable[[], PositionMaps]) -> None:
        self._build = build

    @cached_property
    def _maps(self) -> PositionMaps:
        return self._build()

    def locate(self, path: Path, *, key: bool = False) -> Position | None:
        """Where ``path`` is written (its key when ``key``); the nearest enclosing value otherwise."""
        keys, values = self._maps
        if key and path in keys:
            return keys[path]
        while True:
            if path in values:
                return values[path]
            if not path:
                return None
            path = path[:-1]


class Diagnostics:
    """Collects the problems of one source and raises them together as a :class:`FormatError`."""

    def __init__(
        self, format: str, *, source: str | None = None, source_map: SourceMap | None = None
    ) -> None:
        self.format = format
        self.source = source
        self.source_map = source_map
        self.problems: list[Problem] = []

    def add(
        self,
        path: Path,
        message: str,
        *,
        code: str = "schema",
        key: bool = False,
        element_id: str | None = None,
    ) -> None:
        """Record a problem at ``path`` (at its key rather than its value when ``key``)."""
        position = self.source_map.locate(path, key=key) if self.source_map else None
        line, column = position or (None, None)
        self.problems.append(
            Problem(
                severity=Severity.ERROR,
                code=code,
                message=f"{format_path(path)}: {message}" if path else message,
                element_id=element_id,
                line=line,
                column=column,
                source=self.source,
            )
        )

    def check(self) -> None:
        """Raise the problems found so far, if any."""
        if self.problems:
            raise self.error()

    def error(self) -> FormatError:
        """The problems as one error, in the order they appear in the source."""
        problems = tuple(sorted(self.problems, key=lambda p: (p.line is None, p.line or 0, p.column or 0)))
        if len(problems) == 1:
            return FormatError(str(problems[0]), problems, format=self.format)
        shown = [f"  {problem}" for problem in problems[:_SHOWN_PROBLEMS]]
        if len(problems) > _SHOWN_PROBLEMS:
            shown.append(f"  … and {len(problems) - _SHOWN_PROBLEMS} more")
        where = f" in {self.source}" if self.source else ""
        return FormatError(
            f"{len(problems)} problems{where}:\n" + "\n".join(shown), problems, format=self.format
        )


def line_column(text: str) -> Callable[[int], Position]:
    """A function from a character offset in ``text`` to its 1-based line and column."""
    starts = [0] + [match.end() for match in re.finditer(r"\n", text)]

    def position(offset: int) -> Position:
        line = bisect_right(starts, offset)
        return line, offset - starts[line - 1] + 1

    return position
