"""``chaos.record``: the side effect the chaos tests count.

Each call appends one row to the ``chaos_effects`` table of the database at ``url`` (a SQLite file
or PostgreSQL), outside the engine's transaction, as any external system would be written: the job
id (the idempotency key), the attempt, the execution and element, the worker process, and when the
call began and ended (epoch seconds). A call waits up to ``hold`` seconds (at random) before it
writes and again after, so that a killed worker dies in the middle of some calls, before or after
their side effect. A job whose worker was killed after the row was written and before the job's
result was stored runs again: the table then holds that job twice, which deduplication by job id
folds into one.

Worker subprocesses find the component through the ``apg_workflow.components`` entry point of the
``apg_chaos_probe-0.1.dist-info`` directory beside this package, when this directory is on
``PYTHONPATH``.
"""

from __future__ import annotations

import os
import random
import socket
import time
from collections.abc import Mapping
from typing import Any

from pydantic import Field
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from apg_workflow.components import Component, ComponentConfig, ComponentContext
from apg_workflow.store.db import async_url

TABLE = "chaos_effects"
COLUMNS = ("job_id", "attempt", "execution_id", "element_id", "worker", "started_at", "ended_at")
WORKER = f"{socket.gethostname()}:{os.getpid()}"  # the prefix of this process's worker names
SCHEMA = (
    f"CREATE TABLE {TABLE} (job_id VARCHAR(255) NOT NULL, attempt INTEGER NOT NULL, "
    "execution_id VARCHAR(255) NOT NULL, element_id VARCHAR(255) NOT NULL, worker VARCHAR(255) NOT NULL, "
    "started_at DOUBLE PRECISION NOT NULL, ended_at DOUBLE PRECISION NOT NULL)"
)
_INSERT = text(f"INSERT INTO {TABLE} ({', '.join(COLUMNS)}) VALUES ({', '.join(':' + c for c in COLUMNS)})")
_engines: dict[str, AsyncEngine] = {}


def _engine(url: str) -> AsyncEngine:
    """One small pool per database for the life of the worker process; a connection that a server
    restart broke is replaced when it is next taken (pre-ping)."""
    engine = _engines.get(url)
    if engine is None:
        target = async_url(url)
        if target.get_backend_name() == "sqlite":
            engine = create_async_engine(target, connect_args={"timeout": 30})
        else:
            engine = create_async_engine(target, pool_size=2, max_overflow=2, pool_pre_ping=True)
        _engines[url] = engine
    return engine


class RecordConfig(ComponentConfig):
    url: str = Field(description="sqlite:///FILE or postgresql://… holding the chaos_effects table.")
    hold: float = Field(0.0, ge=0, le=5, description="Wait up to this long (s, at random) before and after.")


class Record(Component[RecordConfig]):
    type = "chaos.record"
    category = "test"
    title = "Record the call"
    description = "Appends (job id, attempt, execution, element, worker, start, end) to chaos_effects."
    Config = RecordConfig

    async def run(
        self, context: ComponentContext, config: RecordConfig, inputs: Mapping[str, Any]
    ) -> Mapping[str, Any]:
        started = time.time()
        before, after = random.uniform(0, config.hold), random.uniform(0, config.hold)
        await context.sleep(before)
        row = {
            "job_id": context.job_id,
            "attempt": context.attempt,
            "execution_id": context.execution_id,
            "element_id": context.element_id,
            "worker": WORKER,
            "started_at": started,
            "ended_at": time.time() + after,  # when the call returns, after its second wait
        }
        async with _engine(config.url).begin() as conn:
            await conn.execute(_INSERT, row)
        await context.sleep(after)
        return {}
