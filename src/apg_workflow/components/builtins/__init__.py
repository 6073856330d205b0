"""The built-in components of the components layer (the runtime adds the few that need the engine:
see :func:`apg_workflow.runtime.registry.platform_registry`)."""

from apg_workflow.components.base import Component
from apg_workflow.components.builtins import advanced, data, generators, helpers, integration
from apg_workflow.components.builtins.flow import Delay, Log, Noop

BUILTINS: tuple[type[Component], ...] = (
    Noop,
    Log,
    Delay,
    *helpers.COMPONENTS,
    *generators.COMPONENTS,
    *data.COMPONENTS,
    *integration.COMPONENTS,
    *advanced.COMPONENTS,
)

__all__ = ["BUILTINS"]
