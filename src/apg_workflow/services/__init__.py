"""Use cases shared by the command line and the HTTP API: thin, typed functions over a
:class:`~apg_workflow.runtime.context.Runtime`."""

from apg_workflow.services.definitions import deploy, deploy_sources
from apg_workflow.services.errors import Conflict, InvalidDefinition, ServiceError
from apg_workflow.services.executions import (
    broadcast,
    cancel,
    correlate,
    get,
    history,
    list_executions,
    show,
    start,
)
from apg_workflow.services.incidents import list_incidents, retry_incident
from apg_workflow.services.tasks import complete_task, get_task, list_tasks

__all__ = [
    "Conflict",
    "InvalidDefinition",
    "ServiceError",
    "broadcast",
    "cancel",
    "complete_task",
    "correlate",
    "deploy",
    "deploy_sources",
    "get",
    "get_task",
    "history",
    "list_executions",
    "list_incidents",
    "list_tasks",
    "retry_incident",
    "show",
    "start",
]
