"""The HTTP API's speed, measured against a real ``apg-workflow server`` process on loopback, with
a PASS/FAIL line per target.

    .venv/bin/python benchmarks/api.py [--postgres postgresql://postgres@127.0.0.1:5432/test]
                                       [--clients 50] [--tasks 1000] [--rows 100000] [--keep]

SQLite by default (a temporary file); with ``--postgres`` a ``bench_api_…`` database on that server,
dropped afterwards. The server runs API, worker, timers and schedules in one process, as
``apg-workflow server`` does; this process is only the load generator (httpx, asyncio).

- **create**: 100 workflows created at once (100 concurrent ``POST /workflows``); the wall time
  from the first request to the last answer (target < 1 s).
- **start**: ``--tasks`` executions of a workflow with one user task, started by ``--clients``
  clients back to back (``POST /workflows/{id}/execute``); latency p50/p99 and throughput.
- **complete, saturated**: their user tasks completed by ``--clients`` clients back to back
  (``POST /tasks/{id}/complete``; each completion ends its execution). Every client sends its next
  request as soon as one answers, so the server is always busy: this gives the throughput of one
  server process, and latencies that are mostly the wait behind the other 49 requests.
- **complete, paced**: ``--clients`` clients that each complete one task every ``--interval``
  seconds (50 requests/s by default, what 50 people or programs working at once send): the
  latency of a completion when the server is not saturated; p50 < 10 ms, p99 < 50 ms.
- **list**: ``--rows`` executions written straight into the database (the store's tables, one
  multi-row insert per batch), spread over the 111 workflows created before; then
  ``GET /executions`` one request at a time: the first page, a page deep into the list (by its
  cursor), filtered by status (half the rows) and by one workflow (1 row in 111); p99 < 50 ms each.

Latencies are measured per request at the client (connections reused, loopback); the first requests
of each kind warm up and are not counted. "server CPU ms" is the server process's CPU time per
request (user + system, from ``/proc``): what a request costs whatever else the machine runs.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
from sqlalchemy import insert, select, text

from apg_workflow.store import Database
from apg_workflow.store.tables import executions, workflow_versions, workflows

BIN = Path(sys.executable).parent
ADMIN = ("bench-admin", "bench-admin-password")
TENANT = "default"
STATUSES = ("completed", "completed", "completed", "failed", "cancelled", "running")
Call = Callable[[], Awaitable[httpx.Response]]


def approval(name: str) -> dict[str, Any]:
    """A workflow with one user task: each execution waits for one completion."""
    return {
        "name": name,
        "activities": [
            {"id": "start", "type": "startEvent"},
            {"id": "review", "type": "userTask", "name": "Review"},
            {"id": "end", "type": "endEvent"},
        ],
        "flows": [{"from": "start", "to": "review"}, {"from": "review", "to": "end"}],
    }


@dataclass(frozen=True)
class Figures:
    """Latencies (seconds) of one kind of request, the wall time they took together, and the
    server's CPU seconds meanwhile."""

    latencies: tuple[float, ...]
    wall: float
    cpu: float | None

    @property
    def p50_ms(self) -> float:
        return statistics.median(self.latencies) * 1000

    @property
    def p99_ms(self) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))] * 1000

    @property
    def per_second(self) -> float:
        return len(self.latencies) / self.wall if self.wall else 0.0

    @property
    def cpu_note(self) -> str:
        return f"server CPU {self.cpu * 1000 / len(self.latencies):.1f} ms" if self.cpu is not None else ""


@dataclass(frozen=True)
class Target:
    limit: float

    def verdict(self, value: float) -> str:
        return f"{'PASS' if value < self.limit else 'FAIL'} (target < {self.limit:g})"


# --- the server ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Server:
    base: str
    pid: int

    def cpu(self) -> float | None:
        """The process's CPU seconds so far (user + system), where ``/proc`` tells."""
        try:
            fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _cli(env: dict[str, str], *args: str) -> None:
    subprocess.run([str(BIN / "apg-workflow"), *args], env=env, check=True, capture_output=True)


@contextmanager
def server(database_url: str, workdir: Path) -> Iterator[Server]:
    """``apg-workflow server`` on a free loopback port, with an administrator."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("APG_") and k != "DATABASE_URL"}
    env |= {
        "DATABASE_URL": database_url,
        "APG_STORAGE_ROOT": str(workdir / "storage"),
        "APG_LOG_LEVEL": "WARNING",
    }
    _cli(env, "db", "upgrade")
    _cli(env, "user", "create", ADMIN[0], "--password", ADMIN[1], "--role", "admin", "--tenant", TENANT)
    port = _free_port()
    log_path = workdir / "server.log"
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [str(BIN / "apg-workflow"), "server", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=log,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            _wait_ready(process, base, log_path)
            yield Server(base, process.pid)
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


def _wait_ready(process: subprocess.Popen[bytes], base: str, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server exited with {process.returncode}; see {log}")
        try:
            if httpx.get(f"{base}/ready", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise SystemExit("the server did not become ready in 60 s")


# --- load ------------------------------------------------------------------------------------------


async def timed(call: Call, expect: int) -> float:
    started = time.perf_counter()
    answer = await call()
    elapsed = time.perf_counter() - started
    if answer.status_code != expect:
        request = answer.request
        raise SystemExit(f"{request.method} {request.url} answered {answer.status_code}: {answer.text}")
    return elapsed


async def load(
    server: Server, calls: list[Call], clients: int, expect: int, interval: float = 0.0
) -> Figures:
    """``clients`` clients take the calls in turn. With no ``interval`` each sends its next request
    as soon as one answers; with one, each sends one request per ``interval`` seconds (their starts
    spread over the first interval), or right after its previous answer when that came later."""
    queue = iter(calls)
    latencies: list[float] = []

    async def client(offset: float) -> None:
        await asyncio.sleep(offset)
        for call in queue:
            began = time.perf_counter()
            latencies.append(await timed(call, expect))
            await asyncio.sleep(max(0.0, interval - (time.perf_counter() - began)))

    cpu = server.cpu()
    started = time.perf_counter()
    await asyncio.gather(*(client(interval * i / clients) for i in range(clients)))
    wall = time.perf_counter() - started
    after = server.cpu()
    return Figures(tuple(latencies), wall, after - cpu if cpu is not None and after is not None else None)


@asynccontextmanager
async def api_client(base: str, connections: int) -> AsyncIterator[httpx.AsyncClient]:
    """A client logged in as the administrator. Idle connections are dropped after 4 s, before the
    server's keep-alive of 5 s closes them under a request."""
    async with httpx.AsyncClient(base_url=base, timeout=60) as anonymous:
        login = await anonymous.post("/api/v1/auth/login", json={"username": ADMIN[0], "password": ADMIN[1]})
        login.raise_for_status()
    limits = httpx.Limits(
        max_connections=connections, max_keepalive_connections=connections, keepalive_expiry=4
    )
    headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits, timeout=60) as client:
        yield client


def creations(client: httpx.AsyncClient, count: int) -> list[Call]:
    run = uuid.uuid4().hex[:8]
    return [
        lambda i=i: client.post("/api/v1/workflows", json=approval(f"Bench create {run} {i}"))
        for i in range(count)
    ]


def starts(client: httpx.AsyncClient, key: str, count: int) -> list[Call]:
    return [
        lambda: client.post(f"/api/v1/workflows/{key}/execute", json={"variables": {"amount": 1}})
    ] * count


def completions(client: httpx.AsyncClient, task_ids: list[str]) -> list[Call]:
    return [
        lambda task=task: client.post(
            f"/api/v1/tasks/{task}/complete", json={"variables": {"approved": True}}
        )
        for task in task_ids
    ]


async def open_tasks(client: httpx.AsyncClient, count: int) -> list[str]:
    """The ids of ``count`` open tasks, oldest first (created with their executions' first step)."""
    deadline = time.monotonic() + 120
    while True:
        ids: list[str] = []
        cursor: str | None = None
        while True:
            params: dict[str, Any] = {"limit": 500} | ({"cursor": cursor} if cursor else {})
            page = (await client.get("/api/v1/tasks", params=params)).raise_for_status().json()
            ids += [t["id"] for t in page["items"]]
            cursor = page["next_cursor"]
            if not cursor:
                break
        if len(ids) >= count or time.monotonic() > deadline:
            return ids[:count]
        await asyncio.sleep(0.2)


# --- 100,000 executions ----------------------------------------------------------------------------


async def seed_executions(database_url: str, rows: int, batch: int = 5000) -> float:
    """``rows`` executions written straight into the store's table, one every 86.4 s back from now
    (100,000 span 100 days), spread over every workflow of the tenant in turn; on PostgreSQL the
    table is analysed afterwards, as autovacuum would within a minute. Seconds taken."""
    db = Database(database_url)
    started = time.perf_counter()
    try:
        versions = await db.read(_latest_versions)
        now = datetime.now(UTC)
        for first in range(0, rows, batch):
            chunk = [
                _execution_row(i, versions[i % len(versions)], now)
                for i in range(first, min(rows, first + batch))
            ]
            await db.transaction(lambda conn, chunk=chunk: conn.execute(insert(executions), chunk))
        if db.is_postgres:
            await db.transaction(lambda conn: conn.execute(text("ANALYZE executions")))
    finally:
        await db.dispose()
    return time.perf_counter() - started


async def _latest_versions(conn: Any) -> list[tuple[int, int]]:
    """(workflow row id, version row id) of each workflow's latest version."""
    stmt = (
        select(workflows.c.id, workflow_versions.c.id)
        .join(workflow_versions, workflow_versions.c.workflow_id == workflows.c.id)
        .where(workflows.c.tenant_id == TENANT, workflow_versions.c.version == workflows.c.latest_version)
        .order_by(workflows.c.id)
    )
    return [(int(row[0]), int(row[1])) for row in await conn.execute(stmt)]


def _execution_row(i: int, ids: tuple[int, int], now: datetime) -> dict[str, Any]:
    execution_id = uuid.uuid4().hex
    created = now - timedelta(seconds=86.4 * (i + 1))
    status = STATUSES[i % len(STATUSES)]
    return {
        "id": execution_id,
        "tenant_id": TENANT,
        "workflow_id": ids[0],
        "version_id": ids[1],
        "process_id": "bench",
        "business_key": None,
        "parent_id": None,
        "root_id": execution_id,
        "status": status,
        "state": None,
        "version": 1,
        "error": None,
        "created_at": created,
        "updated_at": created,
        "ended_at": None if status == "running" else created + timedelta(seconds=3),
    }


async def _cursor_after(client: httpx.AsyncClient, pages: int) -> str:
    cursor: str | None = None
    for _ in range(pages):
        params: dict[str, Any] = {"limit": 50} | ({"cursor": cursor} if cursor else {})
        cursor = (
            (await client.get("/api/v1/executions", params=params)).raise_for_status().json()["next_cursor"]
        )
        if cursor is None:
            raise SystemExit("fewer executions than seeded: the list ended early")
    assert cursor is not None
    return cursor


# --- the run ---------------------------------------------------------------------------------------


def line(group: str, metric: str, value: float, target: Target | None = None, *, note: str = "") -> bool:
    """Print one figure (with its verdict when it has a target); whether it met the target."""
    verdict = target.verdict(value) if target is not None else ""
    print(f"{group:<9} {metric:<27} {value:9.1f}  {note:<34} {verdict}".rstrip(), flush=True)
    return target is None or value < target.limit


def latency_lines(group: str, label: str, figures: Figures, p50: Target | None, p99: Target | None) -> bool:
    ok = line(group, f"{label} p50 ms", figures.p50_ms, p50, note=figures.cpu_note)
    return (
        line(group, f"{label} p99 ms", figures.p99_ms, p99, note=f"{figures.per_second:.0f} requests/s")
        and ok
    )


async def bench(server: Server, database_url: str, args: argparse.Namespace) -> bool:
    ok = True
    async with api_client(server.base, max(args.clients, 100)) as client:
        await load(server, creations(client, 10), 10, 201)  # warm-up
        created = await load(server, creations(client, 100), 100, 201)
        ok &= line("create", "100 at once, wall ms", created.wall * 1000, Target(1000), note=created.cpu_note)

        answer = await client.post("/api/v1/workflows", json=approval("Bench approval"))
        key = str(answer.raise_for_status().json()["id"])
        paced_count = args.clients * args.rounds
        await load(server, starts(client, key, 50), args.clients, 201)  # warm-up
        started = await load(server, starts(client, key, args.tasks + paced_count), args.clients, 201)
        latency_lines("start", f"{args.clients} clients", started, None, None)

        tasks = await open_tasks(client, 50 + args.tasks + paced_count)
        await load(server, completions(client, tasks[:50]), args.clients, 200)  # warm-up
        saturated = await load(server, completions(client, tasks[50 : 50 + args.tasks]), args.clients, 200)
        latency_lines("complete", f"{args.clients} back to back", saturated, None, None)
        paced = await load(
            server, completions(client, tasks[50 + args.tasks :]), args.clients, 200, args.interval
        )
        ok &= latency_lines("complete", f"{args.clients} paced", paced, Target(10), Target(50))

        seconds = await seed_executions(database_url, args.rows)
        line("list", f"{args.rows:,} rows seeded, s", seconds)
        listings: dict[str, dict[str, Any]] = {
            "first page": {},
            "page 101": {"cursor": await _cursor_after(client, pages=100)},
            "by status": {"status": "completed"},
            "by workflow": {"workflow_id": key},  # one workflow of the 111 created: 1 row in 111
        }
        for name, params in listings.items():
            calls = [lambda params=params: client.get("/api/v1/executions", params={"limit": 50, **params})]
            await load(server, calls * 10, 1, 200)  # warm-up
            figures = await load(server, calls * args.samples, 1, 200)
            ok &= latency_lines("list", name, figures, None, Target(50))
    return ok


@asynccontextmanager
async def database(postgres: str | None, workdir: Path) -> AsyncIterator[str]:
    """A fresh database: a SQLite file in ``workdir``, or a new database on the PostgreSQL server
    (created through a connection of its own, which drops it at the end)."""
    if postgres is None:
        yield f"sqlite:///{workdir / 'bench.db'}"
        return
    name = f"bench_api_{uuid.uuid4().hex[:8]}"
    parts = urlsplit(postgres)
    admin = await asyncpg.connect(postgres)
    try:
        await admin.execute(f"CREATE DATABASE {name}")
        yield urlunsplit((parts.scheme, parts.netloc, f"/{name}", "", ""))
    finally:
        await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        await admin.close()


async def run(args: argparse.Namespace, workdir: Path) -> bool:
    async with database(args.postgres, workdir) as url:
        with server(url, workdir) as running:
            return await bench(running, url, args)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--postgres", metavar="URL", help="Run against PostgreSQL (a server's URL) instead of SQLite."
    )
    parser.add_argument("--clients", type=int, default=50, help="Concurrent clients for start and complete.")
    parser.add_argument("--tasks", type=int, default=1000, help="Tasks completed back to back.")
    parser.add_argument("--rounds", type=int, default=10, help="Tasks each paced client completes.")
    parser.add_argument(
        "--interval", type=float, default=1.0, help="Seconds between a paced client's requests."
    )
    parser.add_argument(
        "--rows", type=int, default=100_000, help="Executions in the database for the listing."
    )
    parser.add_argument("--samples", type=int, default=200, help="Requests of each listing.")
    parser.add_argument("--keep", action="store_true", help="Keep the working directory (the server's log).")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="apg-bench-api-"))
    dialect = "postgresql" if args.postgres else "sqlite"
    print(f"APG Workflow API on {dialect}; {os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.1f}")
    try:
        ok = asyncio.run(run(args, workdir))
    finally:
        if args.keep:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
