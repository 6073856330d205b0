"""Who holds a user task: claim, unclaim and assign write its ``assignee``. The engine does not
track the assignee after it created the task, so these writes need no transition; they lock the
task's row so that two claims never both succeed. Every function takes the connection of the
caller's transaction; none commits."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from apg_workflow.store.errors import NotFound
from apg_workflow.store.records import TaskRecord
from apg_workflow.store.tables import user_tasks

_COLUMNS = [user_tasks.c[name] for name in TaskRecord.__dataclass_fields__]


async def lock_task(conn: AsyncConnection, tenant_id: str, task_id: str) -> TaskRecord:
    """The task, its row locked until the transaction ends (SQLite: the write lock is held)."""
    t = user_tasks.c
    stmt = select(*_COLUMNS).where(t.tenant_id == tenant_id, t.id == task_id).with_for_update()
    row = (await conn.execute(stmt)).first()
    if row is None:
        raise NotFound("user task", task_id)
    return TaskRecord.from_row(row)


async def set_assignee(conn: AsyncConnection, tenant_id: str, task_id: str, assignee: str | None) -> None:
    """Give the open task to ``assignee`` (``None``: back to its candidates)."""
    t = user_tasks.c
    stmt = update(user_tasks).where(t.tenant_id == tenant_id, t.id == task_id, t.status == "open")
    await conn.execute(stmt.values(assignee=assignee))


__all__ = ["lock_task", "set_assignee"]
