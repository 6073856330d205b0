"""An operator closes an incident without retrying it (the cause was dealt with elsewhere, or the
execution will be cancelled or moved on). The row becomes ``resolved`` and the execution's history
says who did it; the execution itself stays where it stopped. Every function takes the connection
of the caller's transaction; none commits."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, update
from sqlalchemy.ext.asyncio import AsyncConnection

from apg_workflow.store.records import IncidentRecord
from apg_workflow.store.tables import history, incidents

RESOLVED_EVENT = "incident.resolved"


async def resolve_by_hand(
    conn: AsyncConnection, incident: IncidentRecord, now: datetime, details: dict[str, Any]
) -> bool:
    """Mark the open ``incident`` resolved and record it in its execution's history; false when it
    was not open any more (retried or resolved meanwhile)."""
    i = incidents.c
    stmt = (
        update(incidents)
        .where(i.tenant_id == incident.tenant_id, i.id == incident.id, i.status == "open")
        .values(status="resolved", resolved_at=now)
    )
    if (await conn.execute(stmt)).rowcount == 0:
        return False
    await conn.execute(
        insert(history).values(
            tenant_id=incident.tenant_id,
            execution_id=incident.execution_id,
            at=now,
            event=RESOLVED_EVENT,
            element_id=incident.element_id,
            instance_id=None,
            data={"incident": incident.id, **details},
        )
    )
    return True


__all__ = ["RESOLVED_EVENT", "resolve_by_hand"]
