"""Delivery across executions, inside the caller's transaction: a message goes to the oldest
matching subscription, else starts the workflows with a message start event of that name, else is
buffered for its time to live; a signal reaches every subscription of its name and starts the
workflows with a signal start event. The same rules as the in-memory driver
(:mod:`apg_workflow.engine.memory_driver`), over tables instead of dicts."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from apg_workflow.engine import commands as c
from apg_workflow.store import limits
from apg_workflow.store import queries as q
from apg_workflow.store.limits import Queueing
from apg_workflow.store.records import Outgoing
from apg_workflow.store.tables import buffered_messages, subscriptions

# Sends a command to an execution: applied in this transaction when it is the one being stepped,
# else written to the command inbox.
Send = Callable[[str, c.Command], Awaitable[None]]


def new_execution_id() -> str:
    return uuid.uuid4().hex


async def route_message(
    conn: AsyncConnection,
    *,
    tenant_id: str,
    name: str,
    correlation_key: str | None,
    variables: Mapping[str, Any],
    now: datetime,
    ttl: timedelta,
    send: Send,
    queueing: Queueing | None = None,
) -> str | None:
    """Deliver a message; returns the receiving (or started) execution, ``None`` when buffered.
    ``queueing`` says how the starts of limited workflows queue (see :func:`start_by_event`)."""
    await q.lock_message_name(conn, tenant_id, name)
    found = await q.message_subscriber(conn, tenant_id, name, correlation_key)
    if found is not None:
        subscription_id, execution_id = found
        await q.delete_ids(conn, subscriptions, [subscription_id])
        await send(
            execution_id, c.CorrelateMessage(subscription_id=subscription_id, variables=dict(variables))
        )
        return execution_id
    started = await start_by_event(
        conn,
        tenant_id=tenant_id,
        kind="message",
        name=name,
        variables=variables,
        now=now,
        send=send,
        queueing=queueing,
    )
    if started:
        return started[0]
    row = {
        "tenant_id": tenant_id,
        "name": name,
        "correlation_key": correlation_key,
        "variables": dict(variables),
        "expires_at": now + ttl,
        "created_at": now,
    }
    await q.insert_rows(conn, buffered_messages, [row])
    return None


async def route_signal(
    conn: AsyncConnection,
    *,
    tenant_id: str,
    name: str,
    variables: Mapping[str, Any],
    now: datetime,
    send: Send,
    thrower: str | None = None,
    queueing: Queueing | None = None,
) -> int:
    """Broadcast a signal; returns how many executions received it or were started by it. The
    ``thrower`` (an execution throwing it) already delivered it to its own catchers in its step."""
    receivers = await q.signal_subscribers(conn, tenant_id, name, exclude=thrower)
    for subscription_id, execution_id in receivers:
        await send(
            execution_id, c.BroadcastSignal(subscription_id=subscription_id, variables=dict(variables))
        )
    started = await start_by_event(
        conn,
        tenant_id=tenant_id,
        kind="signal",
        name=name,
        variables=variables,
        now=now,
        send=send,
        queueing=queueing,
    )
    return len(receivers) + len(started)


async def subscribe_message(
    conn: AsyncConnection,
    *,
    tenant_id: str,
    execution_id: str,
    subscription_id: str,
    element_id: str,
    name: str,
    correlation_key: str | None,
    now: datetime,
    send: Send,
) -> None:
    """Take a buffered message the new subscription accepts, else keep the subscription."""
    await q.lock_message_name(conn, tenant_id, name)
    buffered = await q.take_buffered(conn, tenant_id, name, correlation_key, now)
    if buffered is not None:
        await send(execution_id, c.CorrelateMessage(subscription_id=subscription_id, variables=buffered))
        return
    await q.insert_rows(
        conn,
        subscriptions,
        [
            subscription_row(
                tenant_id, execution_id, subscription_id, element_id, "message", name, correlation_key, now
            )
        ],
    )


def subscription_row(
    tenant_id: str,
    execution_id: str,
    subscription_id: str,
    element_id: str,
    kind: str,
    name: str,
    correlation_key: str | None,
    now: datetime,
) -> dict[str, Any]:
    return {
        "id": subscription_id,
        "tenant_id": tenant_id,
        "execution_id": execution_id,
        "element_id": element_id,
        "kind": kind,
        "name": name,
        "correlation_key": correlation_key,
        "created_at": now,
    }


async def start_by_event(
    conn: AsyncConnection,
    *,
    tenant_id: str,
    kind: str,
    name: str,
    variables: Mapping[str, Any],
    now: datetime,
    send: Send,
    queueing: Queueing | None = None,
) -> list[str]:
    """Start every deployed workflow (latest version) with a ``kind`` start event named ``name``.
    A workflow under a concurrency limit queues its execution (:func:`.limits.admit`); without
    ``queueing`` what that releases falls due after a grace of zero and is delivered by a worker."""
    started = []
    for trigger in await q.start_triggers_for(conn, tenant_id, kind, name):
        execution_id = new_execution_id()
        row = pending_execution(
            execution_id, tenant_id, trigger.workflow_id, trigger.version_id, trigger.process_id, None, now
        )
        command = c.Start(
            execution_id=execution_id,
            process_id=trigger.process_id,
            variables=dict(variables),
            start_event_id=trigger.element_id,
        )
        started.append(execution_id)
        everywhere = queueing.everywhere if queueing is not None else None
        workflow_limits = await limits.limits_of(conn, trigger.workflow_id)
        if everywhere is None and workflow_limits == (None, None):
            await q.insert_execution(conn, row)
            await send(execution_id, command)
            continue
        grace = queueing.grace if queueing is not None else timedelta(0)
        own, others = await limits.admit(conn, row, command, now=now, everywhere=everywhere, grace=grace)
        if own is not None:
            others.append(Outgoing(own, execution_id))
        for released in others:
            if queueing is not None:
                queueing.promoted(released)
    return started


def pending_execution(
    execution_id: str,
    tenant_id: str,
    workflow_id: int,
    version_id: int,
    process_id: str | None,
    business_key: str | None,
    now: datetime,
    *,
    parent_id: str | None = None,
    root_id: str | None = None,
) -> dict[str, Any]:
    """The row of an execution whose start command is on its way."""
    return {
        "id": execution_id,
        "tenant_id": tenant_id,
        "workflow_id": workflow_id,
        "version_id": version_id,
        "process_id": process_id,
        "business_key": business_key,
        "parent_id": parent_id,
        "root_id": root_id or execution_id,
        "status": "pending",
        "state": None,
        "version": 0,
        "created_at": now,
        "updated_at": now,
    }


__all__ = [
    "Send",
    "new_execution_id",
    "pending_execution",
    "route_message",
    "route_signal",
    "start_by_event",
    "subscribe_message",
    "subscription_row",
]
