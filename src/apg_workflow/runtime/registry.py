"""The component catalogue the platform runs with: the components layer's built-ins, the runtime's
own (which need the engine or the formats), and the installed plugins."""

from __future__ import annotations

from apg_workflow.components import ComponentRegistry, default_registry


def platform_registry() -> ComponentRegistry:
    from apg_workflow.runtime.components import COMPONENTS

    return default_registry(COMPONENTS)


__all__ = ["platform_registry"]
