"""The component registry: built-ins plus third-party components found through the
``apg_workflow.components`` entry-point group."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from importlib.metadata import entry_points

from apg_workflow.components.base import Component
from apg_workflow.components.errors import UnknownComponent

ENTRY_POINT_GROUP = "apg_workflow.components"
log = logging.getLogger(__name__)


class ComponentRegistry:
    """Component classes by type name. A type can be registered once; a plugin cannot shadow a built-in."""

    def __init__(self, components: Iterable[type[Component]] = ()) -> None:
        self._components: dict[str, type[Component]] = {}
        self.problems: list[str] = []  # plugins that could not be loaded
        for component in components:
            self.register(component)

    def register(self, component: type[Component]) -> type[Component]:
        existing = self._components.get(component.type)
        if existing is not None and existing is not component:
            raise ValueError(
                f"component type '{component.type}' is already registered by {existing.__module__}"
            )
        self._components[component.type] = component
        return component

    def get(self, type_name: str) -> type[Component]:
        try:
            return self._components[type_name]
        except KeyError:
            raise UnknownComponent(type_name, sorted(self._components)) from None

    def create(self, type_name: str) -> Component:
        return self.get(type_name)()

    def __contains__(self, type_name: object) -> bool:
        return type_name in self._components

    def __iter__(self) -> Iterator[type[Component]]:
        return iter(sorted(self._components.values(), key=lambda c: (c.category, c.type)))

    def types(self) -> list[str]:
        return sorted(self._components)

    def load_entry_points(self) -> list[str]:
        """Register the components that installed packages declare; returns problems, never raises."""
        problems = []
        for entry in entry_points(group=ENTRY_POINT_GROUP):
            try:
                loaded = entry.load()
                for component in loaded if isinstance(loaded, list | tuple) else [loaded]:
                    self.register(component)
            except Exception as exc:  # a broken plugin must not break the platform
                message = f"component plugin '{entry.name}' ({entry.value}) could not be loaded: {exc}"
                log.warning(message)
                problems.append(message)
        self.problems.extend(problems)
        return problems


def default_registry(extra: Iterable[type[Component]] = ()) -> ComponentRegistry:
    """A registry with the built-in components, ``extra`` ones (the runtime's), and the installed plugins."""
    from apg_workflow.components.builtins import BUILTINS

    registry = ComponentRegistry((*BUILTINS, *extra))
    registry.load_entry_points()
    return registry
