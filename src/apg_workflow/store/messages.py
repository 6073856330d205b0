"""Messages and signals from outside (the API, the command line): correlate a message by name and
correlation key, broadcast a signal. Each is one transaction; the commands it produces for the
receiving executions are delivered right after the commit."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from apg_workflow.store import routing
from apg_workflow.store.effects import Inbox, Outgoing
from apg_workflow.store.limits import Queueing
from apg_workflow.store.tables import requests
from apg_workflow.store.transitions import Transitions


async def correlate_message(
    transitions: Transitions,
    *,
    tenant_id: str,
    name: str,
    correlation_key: str | None = None,
    variables: Mapping[str, Any] | None = None,
    request_id: str | None = None,
) -> str | None:
    """Deliver a message; returns the receiving (or started) execution, ``None`` when it was
    buffered. With ``request_id``, a retried call is answered from the first one."""

    async def work(conn: AsyncConnection) -> tuple[str | None, list[Outgoing]]:
        if request_id is not None:
            stmt = select(requests.c.result).where(
                requests.c.tenant_id == tenant_id, requests.c.key == request_id
            )
            earlier = (await conn.execute(stmt)).scalar_one_or_none()
            if earlier is not None:
                return earlier["receiver"], []
        now = transitions.clock()
        inbox = Inbox(conn, tenant_id, now, transitions.inbox_grace)
        receiver = await routing.route_message(
            conn,
            tenant_id=tenant_id,
            name=name,
            correlation_key=correlation_key,
            variables=dict(variables or {}),
            now=now,
            ttl=transitions.message_ttl,
            send=inbox.send,
            queueing=_queueing(transitions, inbox),
        )
        if request_id is not None:
            await conn.execute(
                insert(requests).values(
                    tenant_id=tenant_id, key=request_id, result={"receiver": receiver}, created_at=now
                )
            )
        return receiver, inbox.outgoing

    receiver, outgoing = await transitions.db.transaction(work)
    await transitions.deliver(outgoing)
    return receiver


async def broadcast_signal(
    transitions: Transitions, *, tenant_id: str, name: str, variables: Mapping[str, Any] | None = None
) -> int:
    """Deliver a signal to every execution waiting for it; returns how many received or started."""

    async def work(conn: AsyncConnection) -> tuple[int, list[Outgoing]]:
        now = transitions.clock()
        inbox = Inbox(conn, tenant_id, now, transitions.inbox_grace)
        count = await routing.route_signal(
            conn,
            tenant_id=tenant_id,
            name=name,
            variables=dict(variables or {}),
            now=now,
            send=inbox.send,
            queueing=_queueing(transitions, inbox),
        )
        return count, inbox.outgoing

    count, outgoing = await transitions.db.transaction(work)
    await transitions.deliver(outgoing)
    return count


def _queueing(transitions: Transitions, inbox: Inbox) -> Queueing:
    """Starts of limited workflows queue; what they release is delivered with the inbox's commands."""
    return Queueing(transitions.max_concurrent_executions, transitions.inbox_grace, inbox.outgoing.append)


__all__ = ["broadcast_signal", "correlate_message"]
