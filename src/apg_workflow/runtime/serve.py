"""Running the long-lived loops of a process (worker, timer poller) until SIGTERM or SIGINT, then
draining them."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)

Loop = Callable[[asyncio.Event], Awaitable[None]]


async def serve(*loops: Loop, stop: asyncio.Event | None = None) -> None:
    """Run ``loops`` (each takes the stop event) until a signal or ``stop``; a loop that crashes
    stops the others."""
    stop = stop or asyncio.Event()
    running = asyncio.get_running_loop()
    handled = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        try:
            running.add_signal_handler(sig, stop.set)
            handled.append(sig)
        except (NotImplementedError, RuntimeError):  # not the main thread, or no signals here
            pass
    tasks = [asyncio.create_task(loop(stop)) for loop in loops]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        for task in done:
            if not task.cancelled() and task.exception() is not None:
                raise task.exception()  # type: ignore[misc]
    finally:
        for sig in handled:
            running.remove_signal_handler(sig)


__all__ = ["serve"]
