"""Incidents: what failed and waits for an operator, and retrying it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from apg_workflow.engine.commands import RetryIncident
from apg_workflow.runtime.context import Runtime
from apg_workflow.store import IncidentRecord, Page, reads


async def list_incidents(
    rt: Runtime, *, status: str = "open", limit: int = 50, cursor: str | None = None
) -> Page[IncidentRecord]:
    return await rt.db.read(
        lambda conn: reads.list_incidents(conn, rt.tenant, status=status, limit=limit, cursor=cursor)
    )


async def retry_incident(
    rt: Runtime, incident_id: str, variables: Mapping[str, Any] | None = None
) -> IncidentRecord:
    """Write ``variables`` where the failed element reads them and redo what failed (a job gets a
    fresh budget of attempts). Retrying a resolved incident changes nothing."""
    incident = await rt.db.read(lambda conn: reads.get_incident(conn, rt.tenant, incident_id))
    if incident.status == "open":
        command = RetryIncident(incident_id=incident_id, variables=dict(variables) if variables else None)
        await rt.transitions.apply(incident.execution_id, command)
    return await rt.db.read(lambda conn: reads.get_incident(conn, rt.tenant, incident_id))


__all__ = ["list_incidents", "retry_incident"]
