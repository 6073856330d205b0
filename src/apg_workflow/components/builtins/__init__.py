"""The built-in components."""

from apg_workflow.components.base import Component
from apg_workflow.components.builtins.flow import Delay, Log, Noop

BUILTINS: tuple[type[Component], ...] = (Noop, Log, Delay)

__all__ = ["BUILTINS"]
