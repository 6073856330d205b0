"""``/api/v1/webhooks`` over HTTP: subscriptions CRUD with the secret shown once, precise problems
for bad targets and events, tenant isolation, the delivery log and redelivery; the events of a run
reach a receiver on loopback signed so that ``standardwebhooks`` verifies them; and an event whose
step committed in a process killed before it could send is delivered by the next server."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from standardwebhooks import Webhook

from apg_workflow.runtime.context import Runtime
from apg_workflow.services import auth
from apg_workflow.settings import Settings
from tests.api.conftest import ADMIN, BIN, server_env, start_server, stop_server, token_for
from tests.api.test_lifecycle import APPROVAL
from tests.api.test_lifecycle import _until as until
from tests.integration.components import conftest as loopback
from tests.integration.components.conftest import LoopbackHttp, Received
from tests.integration.store.databases import settings_for

pytestmark = pytest.mark.asyncio
http_server = loopback.http_server  # the loopback HTTP server fixture, as the receiver
PROBLEM = "application/problem+json"


@pytest.fixture
def api_settings(sqlite_url: str, tmp_path: Path) -> Settings:
    return settings_for(sqlite_url, storage_root=tmp_path / "storage", webhook_allowed_hosts=["127.0.0.1"])


def events_at(server: LoopbackHttp, secret: str) -> list[tuple[Received, dict[str, Any]]]:
    return [(r, Webhook(secret).verify(r.body, r.headers)) for r in list(server.received)]


async def run_to_a_task(client: httpx.AsyncClient) -> str:
    workflow = (await client.post("/api/v1/workflows", json=APPROVAL)).json()
    started = await client.post(f"/api/v1/workflows/{workflow['id']}/execute", json={"variables": {"n": 1}})
    assert started.status_code == 201, started.text
    return str(started.json()["id"])


async def test_subscriptions_crud_shows_the_secret_once(client: httpx.AsyncClient) -> None:
    created = await client.post(
        "/api/v1/webhooks",
        json={
            "url": "https://example.com/hooks",
            "events": ["workflow.completed", "task.*"],
            "description": "ops",
        },
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["secret"].startswith("whsec_")
    assert body["events"] == ["workflow.completed", "task.*"] and body["enabled"] is True
    assert created.headers["location"].endswith(f"/api/v1/webhooks/{body['id']}")
    assert body["created_at"].endswith("Z")

    listed = (await client.get("/api/v1/webhooks")).json()
    assert [w["id"] for w in listed["items"]] == [body["id"]] and listed["next_cursor"] is None
    shown = (await client.get(f"/api/v1/webhooks/{body['id']}")).json()
    assert "secret" not in shown and "secret" not in listed["items"][0]

    changed = await client.patch(f"/api/v1/webhooks/{body['id']}", json={"events": ["*"], "enabled": False})
    assert changed.status_code == 200 and changed.json()["events"] == ["*"] and not changed.json()["enabled"]
    assert (await client.delete(f"/api/v1/webhooks/{body['id']}")).status_code == 204
    gone = await client.get(f"/api/v1/webhooks/{body['id']}")
    assert gone.status_code == 404 and gone.headers["content-type"] == PROBLEM
    audit = (await client.get("/api/v1/audit")).json()["items"]
    assert {"webhook.created", "webhook.updated", "webhook.deleted"} <= {entry["action"] for entry in audit}


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ({"url": "ftp://example.com/x"}, 400, "http://"),
        ({"url": "http://10.1.2.3/hook"}, 400, "server-side request forgery"),
        ({"url": "http://169.254.169.254/latest"}, 400, "metadata"),
        ({"url": "http://localhost:9000/"}, 400, "loopback"),
        ({"url": "https://example.com", "events": ["execution.exploded"]}, 400, "execution.exploded"),
        ({"url": "https://example.com", "events": []}, 422, "events"),
        ({"events": ["*"]}, 422, "url"),
    ],
)
async def test_bad_subscriptions_get_precise_problems(
    client: httpx.AsyncClient, body: dict[str, Any], status: int, words: str
) -> None:
    answer = await client.post("/api/v1/webhooks", json=body)
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == PROBLEM
    assert words in answer.text


async def test_anonymous_calls_and_other_tenants_are_refused(
    app: FastAPI, client: httpx.AsyncClient, anonymous: httpx.AsyncClient
) -> None:
    created = (await client.post("/api/v1/webhooks", json={"url": "https://example.com/a"})).json()
    assert (await anonymous.get("/api/v1/webhooks")).status_code == 401
    assert (
        await anonymous.post("/api/v1/webhooks", json={"url": "https://example.com/b"})
    ).status_code == 401
    rt: Runtime = app.state.runtime
    await auth.create_user(rt, "olga", "olga-password", tenant_id="other", roles=("admin",))
    other = {"Authorization": f"Bearer {await token_for(anonymous, 'olga', 'olga-password')}"}
    assert (await anonymous.get(f"/api/v1/webhooks/{created['id']}", headers=other)).status_code == 404
    assert (await anonymous.get("/api/v1/webhooks", headers=other)).json()["items"] == []
    deliveries = await anonymous.get(f"/api/v1/webhooks/{created['id']}/deliveries", headers=other)
    assert deliveries.status_code == 404


async def test_a_run_is_delivered_signed_logged_and_redelivered(
    client: httpx.AsyncClient, http_server: LoopbackHttp
) -> None:
    http_server.route("/receiver", lambda r: (200, {"Content-Type": "text/plain"}, "thanks"))
    created = await client.post(
        "/api/v1/webhooks",
        json={"url": http_server.url("/receiver"), "events": ["workflow.started", "task.created"]},
    )
    hook = created.json()
    execution_id = await run_to_a_task(client)

    async def both() -> bool:
        return len(http_server.received) >= 2

    await until(both)
    seen = events_at(http_server, hook["secret"])
    assert sorted(event["type"] for _, event in seen) == ["execution.started", "task.created"]
    assert {event["data"]["execution_id"] for _, event in seen} == {execution_id}

    async def logged() -> list[dict[str, Any]]:
        items = (await client.get(f"/api/v1/webhooks/{hook['id']}/deliveries")).json()["items"]
        return items if {d["status"] for d in items} == {"delivered"} else []

    deliveries = await until(logged)
    assert len(deliveries) == 2
    assert all(d["last_status_code"] == 200 and d["last_response"] == "thanks" for d in deliveries)
    first = deliveries[0]
    detail = (await client.get(f"/api/v1/webhooks/{hook['id']}/deliveries/{first['id']}")).json()
    assert [a["status_code"] for a in detail["attempt_log"]] == [200]
    assert detail["payload"]["execution_id"] == execution_id

    again = await client.post(f"/api/v1/webhooks/{hook['id']}/deliveries/{first['id']}/redeliver")
    assert again.status_code == 202 and again.json()["status"] == "pending"

    async def resent() -> bool:
        return len(http_server.received) >= 3

    await until(resent)
    assert http_server.received[-1].headers["webhook-id"] == first["message_id"]
    Webhook(hook["secret"]).verify(http_server.received[-1].body, http_server.received[-1].headers)
    missing = await client.post(f"/api/v1/webhooks/{hook['id']}/deliveries/nope/redeliver")
    assert missing.status_code == 404 and missing.headers["content-type"] == PROBLEM
    filtered = await client.get(f"/api/v1/webhooks/{hook['id']}/deliveries", params={"status": "failed"})
    assert filtered.json()["items"] == []


async def test_an_event_committed_before_a_crash_is_delivered_after_restart(
    sqlite_url: str, tmp_path: Path, http_server: LoopbackHttp
) -> None:
    """``apg-workflow api`` commits the run's events but sends nothing; it is killed; the next
    ``apg-workflow server`` (which runs the dispatcher) delivers them."""
    env = server_env(sqlite_url, tmp_path, APG_WEBHOOK_ALLOWED_HOSTS='["127.0.0.1"]')
    subprocess.run(
        [str(BIN / "apg-workflow"), "user", "create", ADMIN[0], "--password", ADMIN[1], "--role", "admin"],
        env=env,
        check=True,
        capture_output=True,
    )
    api, base = start_server(env, command="api", log=tmp_path / "api.log")
    try:
        login = httpx.post(f"{base}/api/v1/auth/login", json={"username": ADMIN[0], "password": ADMIN[1]})
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        with httpx.Client(base_url=base, headers=headers) as client:
            hook = client.post(
                "/api/v1/webhooks", json={"url": http_server.url("/after"), "events": ["execution.started"]}
            ).json()
            workflow = client.post("/api/v1/workflows", json=APPROVAL).json()
            started = client.post(f"/api/v1/workflows/{workflow['id']}/execute", json={"variables": {}})
            assert started.status_code == 201, started.text
    finally:
        api.kill()  # no goodbye: SIGKILL
        api.wait()
    assert http_server.received == []

    server, _ = start_server(env, command="server", log=tmp_path / "server.log")
    try:

        async def received() -> bool:
            return bool(http_server.received)

        await until(received)
    finally:
        stop_server(server)
    [(request, event)] = events_at(http_server, hook["secret"])
    assert event["type"] == "execution.started"
    assert event["data"]["execution_id"] == started.json()["id"]
    assert request.path == "/after"
