"""Operations endpoints: ``/health/detailed`` (database, Redis, workers, scheduler, queue) and
``/metrics`` (Prometheus text, a registry per application, route templates as labels, an optional
bearer token)."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from apg_workflow.api.app import create_app
from apg_workflow.api.metrics import Figures
from apg_workflow.api.routes.health import runtime_checks
from apg_workflow.services import auth
from apg_workflow.services.connections import create_connection
from apg_workflow.settings import Settings
from tests.api.conftest import ADMIN, free_port
from tests.api.test_bulk import flow
from tests.api.test_lifecycle import _until
from tests.integration.components.conftest import LoopbackHttp, Received, Reply
from tests.integration.components.conftest import http_server as _http_server

pytestmark = pytest.mark.asyncio
http_server = _http_server


@asynccontextmanager
async def serving(settings: Settings, *, background: bool) -> AsyncIterator[httpx.AsyncClient]:
    """An application of its own (to vary settings or run without a worker), with an admin client."""
    app = create_app(settings, background=background)
    async with app.router.lifespan_context(app):
        await auth.reset_demo_admin(app.state.runtime, ADMIN[1])  # the demo admin is "admin"
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api.test") as c:
            login = await c.post(
                "/api/v1/auth/login", json=dict(zip(("username", "password"), ADMIN, strict=True))
            )
            c.headers["Authorization"] = f"Bearer {login.json()['access_token']}"
            yield c


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


async def test_detailed_health_of_a_quiet_platform(client: httpx.AsyncClient) -> None:
    answer = await client.get("/health/detailed")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["status"] == "ok"
    assert body["database"]["status"] == "ok" and body["database"]["dialect"] == "sqlite"
    assert body["database"]["schema_current"] and body["database"]["latency_ms"] >= 0
    assert body["redis"]["status"] == "disabled"
    assert body["workers"] == {"status": "ok", "detail": None, "seen": []}
    assert body["queue"]["depth"] == 0 and body["scheduler"]["overdue"] == 0
    assert body["executions"]["running"] == 0


async def test_redis_is_checked_when_configured(api_settings: Settings, redis_url: str) -> None:
    reachable = api_settings.model_copy(update={"redis_url": redis_url})
    async with serving(reachable, background=False) as client:
        redis = (await client.get("/health/detailed")).json()["redis"]
        assert redis["status"] == "ok" and redis["latency_ms"] >= 0

    closed = api_settings.model_copy(update={"redis_url": f"redis://127.0.0.1:{free_port()}/0"})
    async with serving(closed, background=False) as client:
        body = (await client.get("/health/detailed")).json()
        assert body["status"] == "degraded" and body["redis"]["status"] == "unavailable"
        assert "Connection" in body["redis"]["detail"] or "connect" in body["redis"]["detail"]


async def test_queue_depth_without_workers(api_settings: Settings) -> None:
    async with serving(api_settings, background=False) as client:
        service = {
            **flow("queued"),
            "activities": [
                {"id": "start", "type": "startEvent"},
                {"id": "work", "type": "serviceTask", "component": "noop"},
                {"id": "end", "type": "endEvent"},
            ],
        }
        assert (await client.post("/api/v1/workflows", json=service)).status_code == 201
        for _ in range(3):
            assert (await client.post("/api/v1/workflows/queued/execute", json={})).status_code == 201
        body = (await client.get("/health/detailed")).json()
        assert body["queue"]["depth"] == 3 and body["queue"]["status"] == "ok"  # not yet late
        assert body["executions"]["running"] == 3
        metrics = samples((await client.get("/metrics")).text)
        assert metrics[("workflow_queue_depth", ())] == 3
        assert metrics[("workflow_active_count", ())] == 3
        assert metrics[("workflow_executions_total", (("status", "running"),))] == 3


async def test_late_work_degrades_the_checks() -> None:
    quiet = Figures({}, (), 0, None, (), 0, None)
    assert [c.status for c in runtime_checks(quiet, 60)] == ["ok", "ok", "ok"]
    stuck = Figures({}, (), 4, 75.0, (), 2, 300.0)
    workers, scheduler, queue = runtime_checks(stuck, 60)
    assert (workers.status, scheduler.status, queue.status) == ("degraded", "degraded", "degraded")
    assert "no worker" in (workers.detail or "") and scheduler.overdue == 2
    busy = Figures({}, (), 4, 75.0, ("host:1:ab",), 0, None)
    assert runtime_checks(busy, 60)[0].status == "ok"  # a worker is at it, only slow


async def test_a_worker_holding_a_job_is_seen(
    app: FastAPI, client: httpx.AsyncClient, http_server: LoopbackHttp
) -> None:
    release = threading.Event()

    def hold(_: Received) -> Reply:
        release.wait(10)
        return 200, {}, {"ok": True}

    http_server.route("/slow", hold)
    settings = {"type": "http", "base_url": http_server.url("/"), "allowed_hosts": ["127.0.0.1"]}
    await create_connection(app.state.runtime, "slow", settings)
    call = {
        "id": "work",
        "type": "serviceTask",
        "component": "http.request",
        "config": {"connection": "slow", "url": "/slow", "timeout": 20},
    }
    definition = {
        **flow("held"),
        "activities": [{"id": "start", "type": "startEvent"}, call, {"id": "end", "type": "endEvent"}],
    }
    assert (await client.post("/api/v1/workflows", json=definition)).status_code == 201
    execution = (await client.post("/api/v1/workflows/held/execute", json={})).json()
    try:

        async def seen() -> list[str]:
            return list((await client.get("/health/detailed")).json()["workers"]["seen"])

        workers = await _until(seen)
        assert len(workers) == 1 and ":" in workers[0]
    finally:
        release.set()

    async def done() -> bool:
        return (await client.get(f"/api/v1/executions/{execution['id']}")).json()["status"] == "completed"

    await _until(done)
    assert (await client.get("/health/detailed")).json()["workers"]["seen"] == []


async def test_metrics_use_route_templates_and_count_executions(client: httpx.AsyncClient) -> None:
    assert (await client.post("/api/v1/workflows", json=flow("metered"))).status_code == 201
    for _ in range(2):
        assert (await client.post("/api/v1/workflows/metered/execute", json={})).status_code == 201
    assert (await client.get("/api/v1/workflows/nope-1")).status_code == 404
    assert (await client.get("/api/v1/workflows/nope-2")).status_code == 404
    assert (await client.get("/no/such/route")).status_code == 404

    answer = await client.get("/metrics")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith(
        "text/plain; version=0.0.4"
    )
    found = samples(answer.text)
    template = (("endpoint", "/api/v1/workflows/{workflow_id}"), ("method", "GET"), ("status", "404"))
    assert found[("api_requests_total", template)] == 2
    assert (
        found[("api_requests_total", (("endpoint", "unmatched"), ("method", "GET"), ("status", "404")))] == 1
    )
    execute = (("endpoint", "/api/v1/workflows/{workflow_id}/execute"), ("method", "POST"), ("status", "201"))
    assert found[("api_requests_total", execute)] == 2
    assert not any("nope" in str(labels) for _, labels in found)  # raw paths never become labels
    timed = (("endpoint", "/api/v1/workflows/{workflow_id}"), ("method", "GET"))
    assert found[("api_request_duration_seconds_count", timed)] == 2
    assert found[("workflow_executions_total", (("status", "completed"),))] == 2
    assert found[("workflow_execution_duration_seconds_count", ())] == 2
    assert found[("workflow_execution_duration_seconds_bucket", (("le", "+Inf"),))] == 2
    assert found[("workflow_queue_depth", ())] == 0
    assert 0 <= found[("system_cpu_percent", ())] <= 100 and 0 < found[("system_memory_percent", ())] <= 100


async def test_every_application_has_its_own_registry(
    api_settings: Settings, client: httpx.AsyncClient
) -> None:
    await client.get("/health")
    async with serving(api_settings, background=False) as other:
        found = samples((await other.get("/metrics")).text)
        assert not any(
            name == "api_requests_total" and ("endpoint", "/health") in labels for name, labels in found
        )


async def test_a_metrics_token_guards_metrics_and_detailed_health(api_settings: Settings) -> None:
    guarded = api_settings.model_copy(update={"metrics_token": SecretStr("scrape-me")})
    async with serving(guarded, background=False) as client:
        for path in ("/metrics", "/health/detailed"):
            refused = await client.get(path)
            assert (
                refused.status_code == 401 and refused.headers["content-type"] == "application/problem+json"
            )
            assert "APG_METRICS_TOKEN" in refused.json()["detail"]
            wrong = await client.get(path, headers={"Authorization": "Bearer nope"})
            assert wrong.status_code == 401
            allowed = await client.get(path, headers={"Authorization": "Bearer scrape-me"})
            assert allowed.status_code == 200
        assert (await client.get("/health")).status_code == 200
