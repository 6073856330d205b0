"""Single statements of many coroutines, sent to PostgreSQL together: group commit.

Each statement a coroutine hands to :meth:`Batcher.fetch` waits, with the others handed in while
earlier batches were on their way, for the next batch: the statements of one text go in one
``fetchmany`` (one round trip, one implicit transaction, one commit for all of them), in the order
of their keys, so that two batches on two connections lock rows in the same order. At most
``lanes`` batches are on their way at once, each of at most ``size`` statements; while they are,
the next one grows. Several moderate batches rather than one large one keep the database's cores
and this process busy at the same time (the executions of a burst reach the same step together).
A lone statement waits for nothing: with no batch on its way it leaves at the next turn of the
event loop.

The statements are the single-statement transitions of :mod:`.optimistic`, each safe to run in a
transaction with others (a compare-and-set that finds its execution moved writes nothing). Should
a batch fail (a business key taken by a start), its statements run again one by one, so that
each gets its own answer or error.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from apg_workflow.store.db import Database


@dataclass(slots=True)
class _Item:
    sql: str
    args: Sequence[Any]
    key: str
    done: asyncio.Future[Any] = field(default_factory=lambda: asyncio.get_running_loop().create_future())


class Batcher:
    def __init__(self, db: Database, *, lanes: int = 4, size: int = 50) -> None:
        self.db = db
        self.lanes = lanes
        self.size = size
        self._waiting: list[_Item] = []
        self._on_way = 0
        self._scheduled = False

    async def fetch(self, sql: str, args: Sequence[Any], key: str) -> Any:
        """The one row ``sql`` answers for ``args``, run in the next batch; ``key`` orders the
        statements of a batch (the id of the execution it writes)."""
        item = _Item(sql, args, key)
        self._waiting.append(item)
        self._schedule()
        return await item.done

    def _schedule(self) -> None:
        if self._waiting and self._on_way < self.lanes and not self._scheduled:
            self._scheduled = True
            asyncio.get_running_loop().call_soon(self._leave)

    def _leave(self) -> None:
        self._scheduled = False
        if not self._waiting or self._on_way >= self.lanes:
            return
        batch, self._waiting = self._waiting[: self.size], self._waiting[self.size :]
        self._on_way += 1
        task = asyncio.ensure_future(self._send(batch))
        task.add_done_callback(self._arrived)

    def _arrived(self, _: asyncio.Future[None]) -> None:
        self._on_way -= 1
        self._schedule()

    async def _send(self, batch: list[_Item]) -> None:
        groups: dict[str, list[_Item]] = {}
        for item in sorted(batch, key=lambda i: i.key):
            groups.setdefault(item.sql, []).append(item)
        try:
            for sql, items in groups.items():
                await self._group(sql, items)
        finally:
            for item in batch:
                if not item.done.done():
                    item.done.set_exception(RuntimeError("the batch was abandoned"))

    async def _group(self, sql: str, items: list[_Item]) -> None:
        """One ``fetchmany`` (atomic: all or nothing); one by one when it fails."""
        try:
            if len(items) == 1:  # the lighter protocol path for a lone statement
                rows = [await self.db.alone(lambda raw: raw.fetchrow(sql, *items[0].args))]
            else:
                rows = await self.db.alone(lambda raw: raw.fetchmany(sql, [item.args for item in items]))
        except Exception as exc:
            if len(items) > 1:
                await asyncio.gather(*(self._group(sql, [item]) for item in items))
            elif not items[0].done.done():
                items[0].done.set_exception(exc)
            return
        for item, row in zip(items, rows, strict=True):
            if not item.done.done():
                item.done.set_result(row)


__all__ = ["Batcher"]
