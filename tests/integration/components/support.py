"""Running a built-in component by its type name, as a worker does: the installed registry, the
configuration parsed, a context with a fixed clock and a logger the test can read."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from apg_workflow.components import ComponentContext, ComponentRegistry
from apg_workflow.runtime.registry import platform_registry

NOW = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)
LOGGER = "tests.components"
_REGISTRY = platform_registry()


async def run(
    type_name: str,
    config: Mapping[str, Any],
    inputs: Mapping[str, Any] | None = None,
    *,
    storage_root: Path | None = None,
    job_id: str = "job-1",
    now: datetime = NOW,
    registry: ComponentRegistry | None = None,
) -> Mapping[str, Any]:
    """The outputs of the component ``type_name`` (from ``registry``, by default the installed
    components) run once with ``config`` over ``inputs``."""
    component = (registry or _REGISTRY).create(type_name)
    parsed = component.parse_config(config)
    context = ComponentContext(
        job_id=job_id,
        attempt=1,
        execution_id="execution-1",
        element_id="task-1",
        logger=logging.getLogger(LOGGER),
        storage_root=storage_root,
        clock=lambda: now,
    )
    return await component.run(context, parsed, dict(inputs or {}))
