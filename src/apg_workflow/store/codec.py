"""JSON in the store: the text of every JSON column, and engine commands as JSON (for the command
inbox) and back."""

from __future__ import annotations

import json
from dataclasses import fields
from typing import Any

from apg_workflow.engine import commands as c

_TYPES: dict[str, type[Any]] = {
    cls.__name__: cls
    for cls in (
        c.Start,
        c.CompleteJob,
        c.FailJob,
        c.CompleteUserTask,
        c.FireTimer,
        c.CorrelateMessage,
        c.BroadcastSignal,
        c.ChildCompleted,
        c.ChildFailed,
        c.Cancel,
        c.RetryIncident,
        c.Modify,
    )
}


# ``json.dumps`` with any option builds a new encoder per call: this one is built once.
_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


def dumps(value: Any) -> str:
    """The text of a JSON column: compact, Unicode kept as is."""
    return _ENCODER.encode(value)


loads = json.loads


def command_to_json(command: c.Command) -> dict[str, Any]:
    out: dict[str, Any] = {"type": type(command).__name__}
    for f in fields(command):
        value = getattr(command, f.name)
        out[f.name] = list(value) if isinstance(value, tuple) else value
    return out


def command_from_json(data: dict[str, Any]) -> c.Command:
    cls = _TYPES.get(data.get("type", ""))
    if cls is None:
        raise ValueError(f"unknown command type {data.get('type')!r}")
    values = {
        k: tuple(v) if isinstance(v, list) and k in ("cancel", "activate") else v
        for k, v in data.items()
        if k != "type"
    }
    return cls(**values)  # type: ignore[no-any-return]


__all__ = ["command_from_json", "command_to_json", "dumps", "loads"]
