"""Connections from files: a ``--connections`` file of ``apg-workflow run`` holds named connections,
``{name: {"type": …, …}, …}`` in JSON or YAML; ``connections create --from-file`` reads one.

Errors name the file, the connection and the position, and never quote the text, which holds
secrets.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from apg_workflow.components.connections import Connection, InvalidConnection, check_name, parse_connection


def parse_document(text: str, *, source: str, yaml_allowed: bool = True) -> Any:
    """JSON (or YAML) text; errors give the position only."""
    try:
        return yaml.safe_load(text) if yaml_allowed else json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidConnection(f"{source}: not valid JSON (line {exc.lineno}, column {exc.colno})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        raise InvalidConnection(f"{source}: not valid JSON or YAML{where}") from None


def read_document(path: Path) -> Any:
    """A JSON (``.json``) or YAML file's content."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidConnection(f"{path}: cannot read: {getattr(exc, 'strerror', None) or exc}") from None
    return parse_document(text, source=str(path), yaml_allowed=path.suffix.lower() != ".json")


def read_connections_file(path: Path) -> dict[str, Connection]:
    """The named connections of a file."""
    data = read_document(path)
    if not isinstance(data, dict):
        raise InvalidConnection(f"{path}: expected connections by name: {{NAME: {{type: …, …}}, …}}")
    connections = {}
    for name, settings in data.items():
        try:
            connections[check_name(str(name))] = parse_connection(settings)
        except InvalidConnection as exc:
            raise InvalidConnection(f"{path}: connection '{name}': {exc.message}") from None
    return connections


__all__ = ["parse_document", "read_connections_file", "read_document"]
