"""The component catalogue the platform runs with: the components layer's built-ins, the runtime's
own (which need the engine, the formats or the store), and the installed plugins."""

from __future__ import annotations

from typing import TYPE_CHECKING

from apg_workflow.components import ComponentRegistry, default_registry

if TYPE_CHECKING:
    from apg_workflow.runtime.components import WorkflowCalls


def platform_registry(calls: WorkflowCalls | None = None) -> ComponentRegistry:
    """The catalogue. ``calls`` is how ``workflow.call`` starts executions in this runner (a worker
    passes ``StoredWorkflowCalls(runtime)``); without it the component is listed but refuses to run."""
    from apg_workflow.runtime.components import COMPONENTS

    registry = default_registry(COMPONENTS)
    return registry if calls is None else with_workflow_calls(registry, calls)


def with_workflow_calls(registry: ComponentRegistry, calls: WorkflowCalls) -> ComponentRegistry:
    """A copy of ``registry`` whose ``workflow.call`` (when it has the built-in one) starts
    executions through ``calls``."""
    from apg_workflow.runtime.components import CallWorkflow, workflow_call

    bound = ComponentRegistry(workflow_call(calls) if c is CallWorkflow else c for c in registry)
    bound.problems.extend(registry.problems)
    return bound


__all__ = ["platform_registry", "with_workflow_calls"]
