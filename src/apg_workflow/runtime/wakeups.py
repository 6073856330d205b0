"""Wake-ups inside one process: a commit that made jobs ready wakes the worker, one that set a
timer wakes the timer poller. Across processes, PostgreSQL ``LISTEN/NOTIFY`` does the same for jobs
(:meth:`apg_workflow.store.Database.listen`); polling is the fallback everywhere."""

from __future__ import annotations

import asyncio

from apg_workflow.store import Outcome


class Wakeups:
    def __init__(self) -> None:
        self.jobs = asyncio.Event()
        self.timers = asyncio.Event()

    def on_commit(self, outcome: Outcome) -> None:
        if outcome.jobs_ready:
            self.jobs.set()
        if outcome.timer_set is not None:
            self.timers.set()


async def wait_any(*events: asyncio.Event, timeout: float) -> None:
    """Return when one of ``events`` is set or after ``timeout`` seconds; clears nothing."""
    if any(event.is_set() for event in events):
        return
    waiters = [asyncio.ensure_future(event.wait()) for event in events]
    try:
        await asyncio.wait(waiters, timeout=max(timeout, 0.0), return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()


__all__ = ["Wakeups", "wait_any"]
