"""The audit log entry every use case writes in the transaction of the change it records."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from apg_workflow.runtime.context import Runtime
from apg_workflow.store.identity import append_audit


async def audit(
    conn: AsyncConnection,
    rt: Runtime,
    actor: str | None,
    action: str,
    kind: str,
    object_id: str,
    details: dict[str, Any] | None = None,
) -> None:
    """One entry of the audit log, in the transaction of the change."""
    await append_audit(
        conn,
        tenant_id=rt.tenant,
        actor=actor,
        action=action,
        object_type=kind,
        object_id=object_id,
        details=details,
        now=rt.clock(),
    )


__all__ = ["audit"]
