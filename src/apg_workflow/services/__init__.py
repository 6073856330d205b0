"""Use cases shared by the command line and the HTTP API: thin, typed functions over a
:class:`~apg_workflow.runtime.context.Runtime`."""

from apg_workflow.services import inbound, webhooks
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
from apg_workflow.services.schedules import (
    InvalidSchedule,
    create_schedule,
    delete_schedule,
    get_schedule,
    list_schedules,
    pause_schedule,
    preview_schedule,
    preview_spec,
    resume_schedule,
    schedule_spec,
    update_schedule,
)
from apg_workflow.services.tasks import complete_task, get_task, list_tasks

__all__ = [
    "Conflict",
    "InvalidDefinition",
    "InvalidSchedule",
    "ServiceError",
    "broadcast",
    "cancel",
    "complete_task",
    "correlate",
    "create_schedule",
    "delete_schedule",
    "deploy",
    "deploy_sources",
    "get",
    "get_schedule",
    "get_task",
    "history",
    "inbound",
    "list_executions",
    "list_incidents",
    "list_schedules",
    "list_tasks",
    "pause_schedule",
    "preview_schedule",
    "preview_spec",
    "resume_schedule",
    "retry_incident",
    "schedule_spec",
    "show",
    "start",
    "update_schedule",
    "webhooks",
]
