"""Starting executions, idempotently: a start with a business key (per workflow) or a request id
that was seen before returns the execution it started then.

A start of a workflow under a concurrency limit (:mod:`.limits`) that does not fit is stored
``queued`` (status ``queued`` in :class:`Started`) and runs when a slot frees. On PostgreSQL a
plain start of an unlimited workflow is one statement (:mod:`.optimistic`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from apg_workflow.engine import commands as c
from apg_workflow.store import limits
from apg_workflow.store import queries as q
from apg_workflow.store.definitions import find_target, find_version
from apg_workflow.store.effects import Claimant
from apg_workflow.store.errors import CommandRejected, NotFound
from apg_workflow.store.records import Outgoing
from apg_workflow.store.routing import new_execution_id, pending_execution
from apg_workflow.store.tables import executions, requests
from apg_workflow.store.transitions import Outcome, Transitions


@dataclass(frozen=True, slots=True)
class Started:
    execution_id: str
    status: str
    created: bool  # False: an earlier start with the same business key or request id


async def start_execution(
    transitions: Transitions,
    *,
    tenant_id: str,
    key: str,
    version: int | None = None,
    variables: Mapping[str, Any] | None = None,
    business_key: str | None = None,
    request_id: str | None = None,
) -> Started:
    """Create an execution of workflow ``key`` and run its first step, in one transaction (or
    queue it, when a concurrency limit is reached)."""
    execution_id = new_execution_id()  # chosen once, so that a retried transaction reuses it
    claimant, local = transitions.claimant()
    command = c.Start(execution_id=execution_id, variables=dict(variables or {}), business_key=business_key)

    async def work(conn: AsyncConnection) -> Started | Outcome:
        return await start_txn(
            conn,
            transitions,
            execution_id=execution_id,
            tenant_id=tenant_id,
            key=key,
            version=version,
            variables=variables,
            business_key=business_key,
            request_id=request_id,
            claimant=claimant,
        )

    try:
        result: Started | Outcome | None = None
        if transitions.optimistic is not None and request_id is None:
            result = await transitions.optimistic.start(
                transitions,
                execution_id=execution_id,
                tenant_id=tenant_id,
                key=key,
                version=version,
                command=command,
                claimant=claimant,
            )
        if result is None:
            result = await transitions.db.transaction(work)
    except IntegrityError:
        # A concurrent start with the same business key or request id won; or an earlier try of
        # this very start committed but its acknowledgement was lost, and the retry collided with it.
        result = await transitions.db.read(
            lambda conn: _earlier(conn, tenant_id, key, business_key, request_id)
        ) or await transitions.db.read(lambda conn: _committed(conn, execution_id))
        if result is None:
            raise
    if isinstance(result, Started):
        return result
    await transitions.committed(result, local)
    return Started(execution_id, result.status, created=True)


async def start_txn(
    conn: AsyncConnection,
    transitions: Transitions,
    *,
    execution_id: str,
    tenant_id: str,
    key: str,
    version: int | None = None,
    variables: Mapping[str, Any] | None = None,
    business_key: str | None = None,
    request_id: str | None = None,
    claimant: Claimant | None = None,
) -> Started | Outcome:
    """Inside the caller's transaction: the earlier execution with this business key or request id
    (``created`` false), else a new one after its first step (or queued, its outcome's status
    ``queued``), whose outcome the caller hands to :meth:`Transitions.committed` once the
    transaction commits. Raises :class:`NotFound` and :class:`CommandRejected` (the caller rolls
    the new row back)."""
    earlier = await _earlier(conn, tenant_id, key, business_key, request_id)
    if earlier is not None:
        return earlier
    target = await find_target(conn, tenant_id, key, version)
    if target is None:
        raise NotFound("workflow", key if version is None else f"{key} version {version}")
    now = transitions.clock()
    row = pending_execution(
        execution_id, tenant_id, target.workflow_id, target.version_id, None, business_key, now
    )
    command = c.Start(execution_id=execution_id, variables=dict(variables or {}), business_key=business_key)
    released: list[Outgoing] = []
    everywhere = transitions.max_concurrent_executions
    if target.limited or everywhere is not None:
        own, released = await limits.admit(
            conn, row, command, now=now, everywhere=everywhere, grace=transitions.inbox_grace
        )
        if own is None:
            await _remember(conn, tenant_id, request_id, execution_id, now)
            return Outcome(execution_id=execution_id, status="queued", outgoing=released)
        await q.take_command(conn, own, None)  # it runs now, in this transaction
    else:
        await q.insert_execution(conn, row)
    locked = await q.lock_execution(conn, execution_id)
    assert locked is not None
    outcome = await transitions.step_txn(conn, locked, command, claimant=claimant)
    if outcome.rejected is not None:
        raise CommandRejected(execution_id, outcome.rejected)  # rolls the new row back
    await _remember(conn, tenant_id, request_id, execution_id, now)
    outcome.outgoing[:0] = released
    return outcome


async def _remember(
    conn: AsyncConnection, tenant_id: str, request_id: str | None, execution_id: str, now: datetime
) -> None:
    """Keep the answer to a start with a request id, for its retries."""
    if request_id is not None:
        await conn.execute(
            insert(requests).values(
                tenant_id=tenant_id, key=request_id, result={"execution_id": execution_id}, created_at=now
            )
        )


async def _committed(conn: AsyncConnection, execution_id: str) -> Started | None:
    """This start's own execution, when an earlier try of the transaction committed it."""
    x = executions.c
    status = (await conn.execute(select(x.status).where(x.id == execution_id))).scalar_one_or_none()
    return Started(execution_id, status, created=True) if status is not None else None


async def _earlier(
    conn: AsyncConnection, tenant_id: str, key: str, business_key: str | None, request_id: str | None
) -> Started | None:
    x = executions.c
    if request_id is not None:
        stmt = select(requests.c.result).where(
            requests.c.tenant_id == tenant_id, requests.c.key == request_id
        )
        result = (await conn.execute(stmt)).scalar_one_or_none()
        if result is not None:
            status = (
                await conn.execute(select(x.status).where(x.id == result["execution_id"]))
            ).scalar_one_or_none()
            return Started(result["execution_id"], status or "unknown", created=False)
    if business_key is not None:
        found = await find_version(conn, tenant_id, key, None)
        if found is not None:
            stmt = select(x.id, x.status).where(
                x.tenant_id == tenant_id,
                x.workflow_id == found[0],
                x.business_key == business_key,
                x.parent_id.is_(None),
            )
            row = (await conn.execute(stmt)).first()
            if row is not None:
                return Started(row.id, row.status, created=False)
    return None


__all__ = ["Started", "start_execution", "start_txn"]
