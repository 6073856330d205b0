"""PostgreSQL restarting in the middle of a run loses nothing: the workers ride out the outage,
reconnect and finish every execution, each element completed exactly once and every job's side
effect done (at least once; once per job id).

The server is restarted with ``pg_ctlcluster``, so this runs where the tested server is a local
cluster this user may restart (CI's machine); elsewhere it is skipped, unless
``APG_REQUIRE_SERVICES=1`` makes that a failure. Whatever happens, the server runs again at the
end: other tests share it.

Two moments of a restart under load that the big test meets only by chance are recreated on purpose
through a misbehaving relay: a server answering "starting up" for seconds, and a session told that
it ends well before its connection closes.
"""

from __future__ import annotations

import asyncio
import os
import pwd
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from apg_workflow.runtime.context import Runtime
from apg_workflow.store import Database
from tests.e2e.chaos import (
    Effects,
    Workers,
    all_completed,
    assert_each_element_completed_once,
    assert_each_job_took_effect_once,
    recording_chain,
    start_many,
    until,
)
from tests.integration.store.databases import deploy_text

pytestmark = pytest.mark.asyncio
ON_POSTGRES = pytest.mark.parametrize(
    "database_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)

EXECUTIONS = 200
TASKS = 5
WORKERS = 2
# Short leases, so that a job whose worker is cut off mid-restart is claimed again within seconds.
SETTINGS = {"job_timeout_seconds": 5, "lease_margin_seconds": 2, "poll_interval_seconds": 0.2}
# The component's own writes fail while the server is down: the engine retries them.
RETRY = '<apg:retry maxAttempts="30" initialBackoff="PT0.5S" multiplier="1.5" maxBackoff="PT2S"/>'


class Cluster:
    """The local PostgreSQL cluster (``pg_ctlcluster VERSION NAME``) listening on a port."""

    def __init__(self, version: str, name: str) -> None:
        self.version = version
        self.name = name

    def ctl(self, action: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["pg_ctlcluster", "--skip-systemctl-redirect", self.version, self.name, action],
            capture_output=True,
            text=True,
            timeout=120,
        )

    def restart(self) -> None:
        done = self.ctl("restart")
        assert done.returncode == 0, done.stderr

    def ensure_running(self) -> None:
        if self.ctl("status").returncode != 0:
            self.ctl("start")


def _find_cluster(url: str) -> Cluster | None:
    """The cluster serving ``url`` when it is local and this user (root or its owner) may restart it."""
    parts = urlsplit(url)
    if parts.hostname not in ("127.0.0.1", "localhost", "::1") or shutil.which("pg_ctlcluster") is None:
        return None
    listed = subprocess.run(["pg_lsclusters", "--no-header"], capture_output=True, text=True, timeout=30)
    me = pwd.getpwuid(os.geteuid()).pw_name
    for fields in (line.split() for line in listed.stdout.splitlines()):
        if len(fields) >= 5 and fields[2] == str(parts.port or 5432) and me in ("root", fields[4]):
            return Cluster(fields[0], fields[1])
    return None


@pytest.fixture
def cluster(postgres_url: str) -> Iterator[Cluster]:
    found = _find_cluster(postgres_url)
    if found is None:
        message = "the tested PostgreSQL is not a local cluster that pg_ctlcluster can restart as this user"
        if os.environ.get("APG_REQUIRE_SERVICES") == "1":
            pytest.fail(f"{message}; APG_REQUIRE_SERVICES=1 makes it mandatory")
        pytest.skip(message)
    try:
        yield found
    finally:
        found.ensure_running()
        asyncio.run(_reachable(postgres_url, timeout=60))


async def _started_at(url: str) -> object:
    conn = await asyncpg.connect(url, timeout=5)
    try:
        return await conn.fetchval("SELECT pg_postmaster_start_time()")
    finally:
        await conn.close()


async def _reachable(url: str, *, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            await (await asyncpg.connect(url, timeout=5)).close()
            return
        except (OSError, asyncpg.PostgresError):
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.2)


@ON_POSTGRES
async def test_workers_ride_out_a_postgresql_restart(
    cluster: Cluster, database_url: str, runtime: Runtime, tmp_path: Path
) -> None:
    began = time.monotonic()
    effects = await Effects.create(database_url, tmp_path)
    await deploy_text(runtime, recording_chain("outage", TASKS, effects.url, hold=0.01, retry=RETRY))
    workers = Workers(database_url, tmp_path, **SETTINGS)
    try:
        for _ in range(WORKERS):
            workers.start()
        await workers.ready()
        ids = await start_many(runtime, "outage", EXECUTIONS)
        total = EXECUTIONS * TASKS
        await until(lambda: effects.jobs_done_at_least(total * 0.3), 60, workers)
        before = await effects.jobs_done()
        server_started = await _started_at(database_url)
        await asyncio.to_thread(cluster.restart)
        await until(lambda: all_completed(runtime, ids), 120, workers)
    finally:
        cluster.ensure_running()
        codes = workers.stop()
        results = await effects.all()
        await effects.close()
    assert before < total, "the restart came after the work was done"
    assert await _started_at(database_url) != server_started, "the server did not restart"
    assert _unclean_exits(codes) == {}, workers.tail()
    await assert_each_element_completed_once(runtime, ids, TASKS)
    repeats = assert_each_job_took_effect_once(results, ids, TASKS)
    print(f"restart at {before}/{total} jobs, {repeats} repeated, {time.monotonic() - began:.1f}s")


def _unclean_exits(codes: dict[Path, int]) -> dict[str, int]:
    """Workers that did not stop cleanly (exit code ≠ 0)."""
    return {log.name: code for log, code in codes.items() if code != 0}


class FlakyServer:
    """A TCP relay to a PostgreSQL server, on a local port, that misbehaves as a server does around a
    restart: while ``starting_up`` is set it answers new connections as a server still starting up
    does (FATAL, SQLSTATE 57P03), and the server's hang-up of a relayed connection reaches the
    client ``late_hang_up`` seconds after the server's last message."""

    def __init__(self, url: str, *, late_hang_up: float = 0.0) -> None:
        self.target = make_url(url)
        self.late_hang_up = late_hang_up
        self.starting_up = False
        self._tasks: set[asyncio.Task[None]] = set()
        self._server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        port = self._server.sockets[0].getsockname()[1]
        return self.target.set(host="127.0.0.1", port=port).render_as_string(hide_password=False)

    async def __aenter__(self) -> FlakyServer:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self._server is not None
        self._server.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.starting_up:
            await self._refuse(reader, writer)
            return
        upstream = await asyncio.open_connection(self.target.host, self.target.port or 5432)
        for task in (
            self._pipe(reader, upstream[1], 0.0),
            self._pipe(upstream[0], writer, self.late_hang_up),
        ):
            self._tasks.add(asyncio.create_task(task))

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, late: float) -> None:
        with suppress(OSError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        await asyncio.sleep(late)
        writer.close()

    @staticmethod
    async def _refuse(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Answer the startup as PostgreSQL does while it starts: no SSL, then FATAL 57P03."""
        with suppress(OSError, asyncio.IncompleteReadError):
            while True:
                size = int.from_bytes(await reader.readexactly(4), "big")
                body = await reader.readexactly(size - 4)
                if int.from_bytes(body[:4], "big") not in _NEGOTIATION_CODES:
                    break  # the startup packet
                writer.write(b"N")  # SSL / GSS encryption requests: not here
            fields = b"SFATAL\0VFATAL\0C57P03\0Mthe database system is starting up\0\0"
            writer.write(b"E" + (len(fields) + 4).to_bytes(4, "big") + fields)
            await writer.drain()
        writer.close()


_NEGOTIATION_CODES = {80877103, 80877104}  # SSLRequest, GSSENCRequest


@pytest.mark.postgres
async def test_a_transaction_waits_out_a_server_that_is_starting_up(postgres_url: str) -> None:
    async with FlakyServer(postgres_url) as server:
        db = Database(server.url)
        server.starting_up = True
        recovered = asyncio.get_running_loop().call_later(6, setattr, server, "starting_up", False)
        try:
            assert await db.transaction(lambda conn: conn.scalar(text("SELECT 1"))) == 1
        finally:
            recovered.cancel()
            await db.dispose()


@pytest.mark.postgres
async def test_a_listener_told_of_its_end_before_the_hang_up_listens_again(postgres_url: str) -> None:
    channel = f"chaos_{uuid.uuid4().hex[:8]}"
    sessions = 0  # Database.listen calls on_notify once per (re)connection; nothing NOTIFYs here
    reconnected = asyncio.Event()

    def on_notify() -> None:
        nonlocal sessions
        sessions += 1
        if sessions == 2:
            reconnected.set()

    stop = asyncio.Event()
    async with FlakyServer(postgres_url, late_hang_up=10) as server:
        db = Database(server.url)
        listening = asyncio.create_task(db.listen(channel, on_notify, stop))
        try:
            await _terminate_session(postgres_url, f"LISTEN%{channel}%")
            # The listener's next check (within 5 s) finds its session over; it must connect again.
            back = asyncio.create_task(reconnected.wait())
            await asyncio.wait({listening, back}, timeout=20, return_when=asyncio.FIRST_COMPLETED)
            back.cancel()
            assert not listening.done(), f"the listener stopped: {listening.exception()!r}"
            assert reconnected.is_set()
        finally:
            stop.set()
            with suppress(Exception):
                await asyncio.wait_for(listening, 10)
            await db.dispose()


async def _terminate_session(url: str, query_like: str) -> None:
    """End, from the server's side, the session whose last query is like ``query_like``."""
    admin = await asyncpg.connect(url)
    try:
        for _ in range(200):
            pid = await admin.fetchval("SELECT pid FROM pg_stat_activity WHERE query LIKE $1", query_like)
            if pid is not None:
                await admin.fetchval("SELECT pg_terminate_backend($1)", pid)
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"no session ran {query_like}")
    finally:
        await admin.close()
