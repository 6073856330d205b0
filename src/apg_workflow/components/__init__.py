"""Components: the implementations behind service tasks, their registry and plugin discovery."""

from apg_workflow.components.base import Component, ComponentConfig, ComponentContext
from apg_workflow.components.errors import (
    BpmnError,
    ComponentError,
    ConfigurationError,
    RetryableError,
    UnknownComponent,
)
from apg_workflow.components.registry import ENTRY_POINT_GROUP, ComponentRegistry, default_registry

__all__ = [
    "ENTRY_POINT_GROUP",
    "BpmnError",
    "Component",
    "ComponentConfig",
    "ComponentContext",
    "ComponentError",
    "ComponentRegistry",
    "ConfigurationError",
    "RetryableError",
    "UnknownComponent",
    "default_registry",
]
