"""Prometheus metrics of one application, in a registry of its own (never the global one, so that any
number of applications can live in one process), and the operational figures read from the
database at scrape time, which ``/metrics`` and ``/health/detailed`` share.

Request metrics are labelled by route template (``/api/v1/workflows/{workflow_id}``), never by raw
path, so their number is bounded; a request no route matched counts as ``endpoint="unmatched"``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import psutil
from fastapi import FastAPI
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from apg_workflow.runtime.context import Runtime
from apg_workflow.store.tables import executions, jobs, schedules

UNMATCHED = "unmatched"
ACTIVE = ("queued", "pending", "running")
ENDED = ("completed", "failed", "cancelled")
STATUSES = ACTIVE + ENDED
DURATION_WINDOW = timedelta(hours=1)  # the duration histogram covers executions ended this recently…
DURATION_HORIZON = timedelta(days=1)  # …that also started this recently (the status index bounds the scan)
DURATION_ROWS = 10_000
DURATION_BUCKETS = (0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600, 6 * 3600, 24 * 3600)
REQUEST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
WORKERS_SHOWN = 100


@dataclass(frozen=True, slots=True)
class Figures:
    """What the database says about the platform as a whole (every tenant) at ``now``."""

    by_status: dict[str, int]  # executions by status
    durations: tuple[float, ...]  # seconds, of executions that ended within DURATION_WINDOW
    queue_depth: int  # jobs due and not claimed
    oldest_due_seconds: float | None  # how long the oldest of them has waited
    workers: tuple[str, ...]  # workers holding a job lease now
    overdue_schedules: int  # enabled schedules whose fire time has passed by more than ``lag``
    most_overdue_seconds: float | None

    @property
    def active(self) -> int:
        return sum(self.by_status.get(s, 0) for s in ACTIVE)


async def read_figures(conn: AsyncConnection, now: datetime, *, lag: timedelta) -> Figures:
    """Bounded queries only: a count by status (over the status index), the durations of at most
    ``DURATION_ROWS`` recent executions, and counts over the due-time indexes of jobs and
    schedules."""
    x, j, s = executions.c, jobs.c, schedules.c
    counts = await conn.execute(select(x.status, func.count()).group_by(x.status))
    by_status = {status: 0 for status in STATUSES} | {row[0]: int(row[1]) for row in counts}
    ended = await conn.execute(
        select(x.created_at, x.ended_at)
        .where(
            x.status.in_(ENDED),
            x.created_at >= now - DURATION_HORIZON,
            x.ended_at >= now - DURATION_WINDOW,
        )
        .limit(DURATION_ROWS)
    )
    durations = tuple(max(0.0, (end - start).total_seconds()) for start, end in ended)
    depth, oldest = (
        await conn.execute(select(func.count(), func.min(j.due_at)).where(j.due_at <= now))
    ).one()
    workers = await conn.execute(
        select(j.claimed_by)
        .where(j.due_at > now, j.claimed_by.is_not(None))
        .group_by(j.claimed_by)
        .order_by(j.claimed_by)
        .limit(WORKERS_SHOWN)
    )
    overdue, late = (
        await conn.execute(select(func.count(), func.min(s.due_at)).where(s.due_at <= now - lag))
    ).one()
    return Figures(
        by_status=by_status,
        durations=durations,
        queue_depth=int(depth),
        oldest_due_seconds=_age(now, oldest),
        workers=tuple(w for (w,) in workers),
        overdue_schedules=int(overdue),
        most_overdue_seconds=_age(now, late),
    )


def _age(now: datetime, since: datetime | None) -> float | None:
    return None if since is None else round(max(0.0, (now - since).total_seconds()), 3)


def lag_of(rt: Runtime) -> timedelta:
    """How late due work may be before it counts as stuck: a minute, or ten polls when they are slow."""
    return timedelta(seconds=max(60.0, 10 * rt.settings.poll_interval_seconds))


async def figures(rt: Runtime) -> Figures:
    return await rt.db.read(lambda conn: read_figures(conn, rt.clock(), lag=lag_of(rt)))


class _Snapshot(Collector):
    """The database figures of one scrape as metric families."""

    def __init__(self, found: Figures) -> None:
        self.found = found

    def collect(self) -> list[Metric]:
        found = self.found
        total = GaugeMetricFamily(
            "workflow_executions_total",
            "Executions in the database by status (all tenants; running ones come and go).",
            labels=["status"],
        )
        for status, count in sorted(found.by_status.items()):
            total.add_metric([status], count)
        return [
            total,
            _duration_histogram(found.durations),
            GaugeMetricFamily(
                "workflow_active_count", "Executions queued, pending or running.", value=found.active
            ),
            GaugeMetricFamily(
                "workflow_queue_depth", "Jobs due and waiting for a worker.", value=found.queue_depth
            ),
        ]


def _duration_histogram(durations: tuple[float, ...]) -> HistogramMetricFamily:
    buckets = [(str(float(b)), sum(d <= b for d in durations)) for b in DURATION_BUCKETS]
    return HistogramMetricFamily(
        "workflow_execution_duration_seconds",
        f"Start-to-end time of the executions that ended in the last {DURATION_WINDOW} (a window "
        f"recomputed per scrape, at most {DURATION_ROWS} executions).",
        buckets=[*buckets, ("+Inf", len(durations))],
        sum_value=sum(durations),
    )


class _System(Collector):
    def __init__(self) -> None:
        psutil.cpu_percent(interval=None)  # the first reading only starts the measurement

    def collect(self) -> list[Metric]:
        return [
            GaugeMetricFamily(
                "system_cpu_percent",
                "CPU use of the host since the previous scrape.",
                value=psutil.cpu_percent(),
            ),
            GaugeMetricFamily(
                "system_memory_percent", "Memory of the host in use.", value=psutil.virtual_memory().percent
            ),
        ]


class ApiMetrics:
    """The metrics one application keeps itself: requests and host figures."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "api_requests",
            "HTTP requests answered, by method, route template and status code.",
            ["method", "endpoint", "status"],
            registry=self.registry,
        )
        self.duration = Histogram(
            "api_request_duration_seconds",
            "Time to answer an HTTP request, by method and route template.",
            ["method", "endpoint"],
            buckets=REQUEST_BUCKETS,
            registry=self.registry,
        )
        self.registry.register(_System())

    def observe(self, method: str, endpoint: str, status: int, seconds: float) -> None:
        self.requests.labels(method, endpoint, str(status)).inc()
        self.duration.labels(method, endpoint).observe(seconds)

    async def render(self, rt: Runtime) -> bytes:
        """The exposition text: this application's metrics, then the database figures read now."""
        scrape = CollectorRegistry(auto_describe=False)
        scrape.register(_Snapshot(await figures(rt)))
        return generate_latest(self.registry) + generate_latest(scrape)


def endpoint_of(scope: Scope) -> str:
    """The route template that handled a request: a mounted application counts under its mount
    path; nothing matched, ``unmatched``. FastAPI ≥ 0.165 leaves the route as its router declared
    it (without the include prefix) in ``scope["route"]`` and the full template in its effective
    route context; earlier versions put the full template on the route itself."""
    fastapi_scope = scope.get("fastapi")
    effective: Any = fastapi_scope.get("effective_route_context") if isinstance(fastapi_scope, dict) else None
    if isinstance(getattr(effective, "path_format", None), str):
        return str(effective.path_format)
    path = getattr(scope.get("route"), "path_format", None)
    if isinstance(path, str):
        return str(scope.get("root_path") or "") + path
    if scope.get("endpoint") is not None and scope.get("root_path"):
        return str(scope["root_path"])
    return UNMATCHED


class RequestMetrics:
    """ASGI middleware: counts and times every HTTP request (WebSocket sessions are not requests)."""

    def __init__(self, app: ASGIApp, metrics: ApiMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def recording(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, recording)
        finally:
            elapsed = time.perf_counter() - started
            self.metrics.observe(scope["method"], endpoint_of(scope), status, elapsed)


def install(app: FastAPI) -> ApiMetrics:
    """Give ``app`` its metrics (``app.state.metrics``) and time every request, 413s included (add it
    after the other middleware, so that it is the outermost)."""
    metrics = ApiMetrics()
    app.state.metrics = metrics
    app.add_middleware(RequestMetrics, metrics=metrics)
    return metrics


__all__ = [
    "ApiMetrics",
    "Figures",
    "RequestMetrics",
    "endpoint_of",
    "figures",
    "install",
    "lag_of",
    "read_figures",
]
