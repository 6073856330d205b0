"""Upgrades of persisted execution states, one function per schema version step.

When the state format changes, bump :data:`~apg_workflow.engine.state.SCHEMA_VERSION` and add
``MIGRATIONS[old] = upgrade_from_old`` (a pure function returning a new dict of version
``old + 1``). :func:`load_state` applies the steps in order, so a state written by any earlier
release keeps running.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from apg_workflow.engine.state import SCHEMA_VERSION

Migration = Callable[[dict[str, Any]], dict[str, Any]]

# version n → the function that turns a version-n state into a version-(n+1) state.
MIGRATIONS: dict[int, Migration] = {}


class StateVersionError(ValueError):
    """A state that this release cannot read (written by a newer release, or malformed)."""


def load_state(raw: Mapping[str, Any]) -> dict[str, Any]:
    """A state of the current schema from one of any schema this release knows. Never mutates ``raw``."""
    version = raw.get("schema_version")
    if not isinstance(version, int) or version < 1:
        raise StateVersionError(f"not an execution state: schema_version is {version!r}")
    if version > SCHEMA_VERSION:
        raise StateVersionError(
            f"the state has schema version {version}; this release reads up to {SCHEMA_VERSION}"
        )
    state = dict(raw)
    while version < SCHEMA_VERSION:
        step = MIGRATIONS.get(version)
        if step is None:
            raise StateVersionError(f"no migration from schema version {version}")
        state = step(state)
        version += 1
        state["schema_version"] = version
    return state
