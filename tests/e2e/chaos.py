"""What the chaos tests share: ``apg-workflow worker`` processes with the recording component of
``tests/e2e/plugins`` installed, the workflow they run, the table of side effects that component
writes, and the checks made once every execution has ended."""

from __future__ import annotations

import asyncio
import html
import itertools
import json
import os
import random
import signal
import subprocess
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from apg_workflow import services
from apg_workflow.runtime.context import Runtime
from apg_workflow.store.db import async_url
from apg_workflow.store.tables import commands, executions, history, jobs
from tests.e2e.plugins.apg_chaos_probe import COLUMNS, SCHEMA, TABLE
from tests.e2e.test_durable_cli import CLI, _env
from tests.integration.store.workflows import service_chain

PLUGINS = Path(__file__).resolve().parent / "plugins"


def chaos_seed() -> int:
    """The seed of a test's random choices: ``APG_CHAOS_SEED`` replays a failed run."""
    seed = int(os.environ.get("APG_CHAOS_SEED") or random.randrange(2**32))
    print(f"chaos seed {seed} (APG_CHAOS_SEED={seed} replays it)")
    return seed


def recording_chain(
    process_id: str, tasks: int, effects_url: str, *, hold: float = 0.0, retry: str = ""
) -> str:
    """start → ``tasks`` service tasks t1…tN running ``chaos.record`` → end."""
    config = html.escape(json.dumps({"url": effects_url, "hold": hold}), quote=False)
    component = f'<apg:component type="chaos.record"><apg:config>{config}</apg:config></apg:component>'
    # service_chain puts its ``retry`` text verbatim in each task's extensionElements.
    return service_chain(process_id, tasks, component=None, retry=component + retry)


class Workers:
    """``apg-workflow worker`` processes on one database, each writing its own log file."""

    def __init__(self, database_url: str, directory: Path, **settings: float) -> None:
        extra = {f"APG_{name.upper()}": str(value) for name, value in settings.items()}
        self.env = _env(
            DATABASE_URL=database_url,
            PYTHONPATH=os.pathsep.join(filter(None, [str(PLUGINS), os.environ.get("PYTHONPATH")])),
            APG_SHUTDOWN_GRACE_SECONDS="5",
            APG_DEBUG="1",  # an internal error leaves its traceback in the worker's log
            **extra,
        )
        self.directory = directory
        self.live: dict[subprocess.Popen[bytes], Path] = {}  # running workers and their logs
        self.logs: list[Path] = []

    def start(self) -> subprocess.Popen[bytes]:
        path = self.directory / f"worker-{len(self.logs) + 1}.log"
        with path.open("wb") as log:
            process = subprocess.Popen(
                [*CLI, "worker"], cwd=self.directory, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        self.logs.append(path)
        self.live[process] = path
        return process

    async def ready(self, timeout: float = 60.0) -> None:
        """Wait until every live worker has said it started."""
        logs = list(self.live.values())
        await until(lambda: all("started" in p.read_text(errors="replace") for p in logs), timeout, self)

    def kill(self, process: subprocess.Popen[bytes]) -> None:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
        del self.live[process]

    def stop(self) -> dict[Path, int]:
        """SIGTERM every live worker; the exit code of each, by its log (one that does not stop
        within 20 s is killed)."""
        for process in self.live:
            process.send_signal(signal.SIGTERM)
        codes = {}
        for process, log in self.live.items():
            try:
                codes[log] = process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                codes[log] = process.wait()
        self.live.clear()
        return codes

    def tail(self, lines: int = 30) -> str:
        """The end of every worker's log, for a failure message."""
        parts = []
        for path in self.logs:
            content = path.read_text(errors="replace").splitlines()[-lines:]
            parts.append(f"--- {path.name}\n" + "\n".join(content))
        return "\n".join(parts)


async def until(check: Callable[[], bool | Awaitable[bool]], timeout: float, workers: Workers) -> None:
    """Poll ``check`` every 0.1 s until it holds; fail with the workers' logs after ``timeout`` s, or
    as soon as a live worker exits. A database error while polling (a server restarting) counts as
    not yet."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        try:
            result = check()
            if not isinstance(result, bool):
                result = await result
            if result:
                return
        except (DBAPIError, OSError):
            pass
        exited = [p.returncode for p in workers.live if p.poll() is not None]
        assert not exited, f"a worker exited (code {exited[0]})\n{workers.tail()}"
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out after {timeout:g}s\n{workers.tail()}")
        await asyncio.sleep(0.1)


@dataclass(frozen=True, slots=True)
class Effect:
    job_id: str
    attempt: int
    execution_id: str
    element_id: str
    worker: str
    started_at: float
    ended_at: float


class Effects:
    """The ``chaos_effects`` table: in the tested PostgreSQL database itself, or, beside a tested
    SQLite file, in a SQLite file of its own (an outside system, not the engine's file)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine: AsyncEngine = create_async_engine(async_url(url), pool_pre_ping=True)

    @classmethod
    async def create(cls, database_url: str, directory: Path) -> Effects:
        postgres = async_url(database_url).get_backend_name() == "postgresql"
        effects = cls(database_url if postgres else f"sqlite:///{directory / 'effects.db'}")
        async with effects.engine.begin() as conn:
            if not postgres:
                await conn.exec_driver_sql("PRAGMA journal_mode=WAL")
            await conn.exec_driver_sql(SCHEMA)
        return effects

    async def close(self) -> None:
        await self.engine.dispose()

    async def jobs_done(self) -> int:
        """How many jobs took effect at least once."""
        async with self.engine.connect() as conn:
            return int((await conn.execute(text(f"SELECT COUNT(DISTINCT job_id) FROM {TABLE}"))).scalar_one())

    async def jobs_done_at_least(self, count: float) -> bool:
        return await self.jobs_done() >= count

    async def all(self) -> list[Effect]:
        async with self.engine.connect() as conn:
            rows = await conn.execute(text(f"SELECT {', '.join(COLUMNS)} FROM {TABLE}"))
            return [Effect(*row) for row in rows]


async def start_many(rt: Runtime, key: str, count: int, *, at_once: int = 20) -> list[str]:
    """Start ``count`` executions of ``key``, ``at_once`` concurrently; their ids."""
    ids: list[str] = []
    while len(ids) < count:
        batch = min(at_once, count - len(ids))
        started = await asyncio.gather(*(services.start(rt, key) for _ in range(batch)))
        ids.extend(s.execution_id for s in started)
    return ids


async def all_completed(rt: Runtime, ids: list[str]) -> bool:
    stmt = select(func.count()).where(executions.c.id.in_(ids), executions.c.status == "completed")
    return int(await rt.db.read(lambda conn: _scalar(conn, stmt))) == len(ids)


async def _scalar(conn, stmt):  # type: ignore[no-untyped-def]
    return (await conn.execute(stmt)).scalar_one()


async def assert_each_element_completed_once(rt: Runtime, ids: list[str], tasks: int) -> None:
    """Every execution completed, and its history completes each element exactly once; no job and
    no inbox command is left behind."""
    h = history.c
    stmt = (
        select(h.execution_id, h.element_id, func.count())
        .where(h.execution_id.in_(ids), h.event == "element.completed")
        .group_by(h.execution_id, h.element_id)
    )

    async def read(conn):  # type: ignore[no-untyped-def]
        counts = [tuple(row) for row in await conn.execute(stmt)]
        stmt_status = select(executions.c.id, executions.c.status).where(executions.c.id.in_(ids))
        statuses = {row.id: row.status for row in await conn.execute(stmt_status)}
        left = [await _scalar(conn, select(func.count()).select_from(t)) for t in (jobs, commands)]
        return counts, statuses, left

    counts, statuses, (jobs_left, commands_left) = await rt.db.read(read)
    assert {x: s for x, s in statuses.items() if s != "completed"} == {}
    assert set(statuses) == set(ids)
    found: dict[str, dict[str, int]] = defaultdict(dict)
    for execution_id, element_id, count in counts:
        found[execution_id][element_id] = count
    expected = {"start": 1, **{f"t{i}": 1 for i in range(1, tasks + 1)}, "end": 1}
    wrong = {x: found.get(x) for x in ids if found.get(x) != expected}
    assert not wrong, f"{len(wrong)} execution(s) not completing each element once: {list(wrong.items())[:3]}"
    assert (jobs_left, commands_left) == (0, 0)


def assert_each_job_took_effect_once(effects: list[Effect], ids: list[str], tasks: int) -> int:
    """Each service task of each execution had one job, whose side effect happened at least once;
    deduplicated by job id (the idempotency key) exactly once. Returns how many repeats there were."""
    jobs_of: dict[tuple[str, str], set[str]] = defaultdict(set)
    for effect in effects:
        jobs_of[effect.execution_id, effect.element_id].add(effect.job_id)
    expected = {(x, f"t{i}") for x in ids for i in range(1, tasks + 1)}
    assert set(jobs_of) == expected, f"missing side effects: {sorted(expected - set(jobs_of))[:5]}"
    several = {k: v for k, v in jobs_of.items() if len(v) != 1}
    assert not several, f"tasks with more than one job: {list(several.items())[:5]}"
    distinct = {e.job_id for e in effects}
    assert len(distinct) == len(expected)
    return len(effects) - len(distinct)


def overlapping_runs(effects: list[Effect]) -> list[tuple[Effect, Effect]]:
    """Pairs of runs of one job by two workers at the same time."""
    runs: dict[str, list[Effect]] = defaultdict(list)
    for effect in effects:
        runs[effect.job_id].append(effect)
    return [
        (a, b)
        for same_job in runs.values()
        for a, b in itertools.combinations(same_job, 2)
        if a.worker != b.worker and a.started_at < b.ended_at and b.started_at < a.ended_at
    ]


__all__ = [
    "Effect",
    "Effects",
    "Workers",
    "all_completed",
    "assert_each_element_completed_once",
    "assert_each_job_took_effect_once",
    "chaos_seed",
    "overlapping_runs",
    "recording_chain",
    "start_many",
    "until",
]
