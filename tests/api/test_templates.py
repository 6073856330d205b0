"""The template library over HTTP: the catalogue, one template with its definition, and creating a
workflow from each template that then runs to the end."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from apg_workflow.services.connections import create_connection
from tests.api.test_lifecycle import _until
from tests.integration.components.conftest import LoopbackHttp
from tests.integration.components.conftest import http_server as _http_server

pytestmark = pytest.mark.asyncio
http_server = _http_server


async def _finished(client: httpx.AsyncClient, execution_id: str) -> dict[str, Any]:
    async def ended() -> dict[str, Any] | None:
        shown = (await client.get(f"/api/v1/executions/{execution_id}")).json()
        return shown if shown["status"] in ("completed", "failed") else None

    return dict(await _until(ended))


async def test_the_catalogue_lists_the_shipped_templates(client: httpx.AsyncClient) -> None:
    listed = await client.get("/api/v1/templates")
    assert listed.status_code == 200, listed.text
    by_id = {t["id"]: t for t in listed.json()["items"]}
    assert {"approval", "http-to-report"} <= by_id.keys()
    approval = by_id["approval"]
    assert approval["name"] == "Approval" and approval["category"] == "approvals"
    assert "user-task" in approval["tags"] and approval["description"]

    integration = (await client.get("/api/v1/templates", params={"category": "integration"})).json()["items"]
    assert [t["id"] for t in integration] == ["http-to-report"]

    shown = (await client.get("/api/v1/templates/approval")).json()
    assert shown["variables"]["request"] and "approvers" in shown["setup"]
    assert {a["type"] for a in shown["definition"]["activities"]} >= {"userTask", "exclusiveGateway"}
    assert "x-template" not in shown["definition"]


async def test_unknown_templates_and_bad_keys_are_precise_problems(client: httpx.AsyncClient) -> None:
    missing = await client.get("/api/v1/templates/nope")
    assert missing.status_code == 404 and missing.json()["detail"] == "no template 'nope'"
    created = await client.post("/api/v1/templates/nope/create-workflow", json={})
    assert created.status_code == 404

    bad_key = await client.post("/api/v1/templates/approval/create-workflow", json={"key": "has space"})
    assert bad_key.status_code == 422 and bad_key.json()["errors"][0]["loc"] == ["body", "key"]


async def test_create_workflow_names_and_keys(client: httpx.AsyncClient) -> None:
    first = await client.post("/api/v1/templates/approval/create-workflow")
    assert first.status_code == 201, first.text
    assert first.json()["id"] == "approval" and first.json()["category"] == "approvals"
    assert first.headers["location"] == "/api/v1/workflows/approval"

    again = await client.post("/api/v1/templates/approval/create-workflow", json={})
    assert again.status_code == 409 and "exists" in again.json()["detail"]

    keyed = await client.post(
        "/api/v1/templates/approval/create-workflow", json={"key": "purchase_approval", "name": "Purchases"}
    )
    assert keyed.status_code == 201 and keyed.json()["id"] == "purchase_approval"
    assert keyed.json()["name"] == "Purchases"

    named = await client.post("/api/v1/templates/approval/create-workflow", json={"name": "Leave request"})
    assert named.status_code == 201 and named.json()["name"] == "Leave request"
    assert named.json()["id"] not in ("approval", "purchase_approval")

    audit = (await client.get("/api/v1/audit", params={"action": "workflow.created"})).json()["items"]
    assert {e["object_id"] for e in audit} >= {"approval", "purchase_approval"}


async def test_the_approval_template_runs_both_ways(client: httpx.AsyncClient) -> None:
    template = (await client.get("/api/v1/templates/approval")).json()
    await client.post("/api/v1/templates/approval/create-workflow")
    for approved, end in ((True, "approved"), (False, "rejected")):
        started = await client.post(
            "/api/v1/workflows/approval/execute", json={"variables": template["variables"]}
        )
        assert started.status_code == 201, started.text
        execution_id = started.json()["id"]

        async def review(execution_id: str = execution_id) -> dict[str, Any] | None:
            tasks = (await client.get("/api/v1/tasks")).json()["items"]
            return next((t for t in tasks if t["execution_id"] == execution_id), None)

        task = await _until(review)
        assert task["candidate_groups"] == ["approvers"] and task["form"]["key"] == "approval"
        done = await client.post(
            f"/api/v1/tasks/{task['id']}/complete", json={"variables": {"approved": approved}}
        )
        assert done.status_code == 200, done.text
        final = await _finished(client, execution_id)
        assert final["status"] == "completed" and final["completed_elements"][-1] == end
        assert ("logged" in final["variables"]) is approved


@pytest.fixture
def report_api(http_server: LoopbackHttp) -> Iterator[LoopbackHttp]:
    items = [{"name": "a", "amount": 5}, {"name": "b", "amount": 30}, {"name": "c", "amount": 7}]
    http_server.route("/v1/items", lambda _: (200, {}, {"items": items}))
    yield http_server


async def test_the_http_to_report_template_fetches_summarises_and_logs(
    app: FastAPI, client: httpx.AsyncClient, report_api: LoopbackHttp
) -> None:
    source = {"type": "http", "base_url": report_api.url("/v1"), "allowed_hosts": ["127.0.0.1"]}
    await create_connection(app.state.runtime, "report_source", source)
    template = (await client.get("/api/v1/templates/http-to-report")).json()
    created = await client.post("/api/v1/templates/http-to-report/create-workflow")
    assert created.status_code == 201, created.text

    started = await client.post(
        f"/api/v1/workflows/{created.json()['id']}/execute", json={"variables": template["variables"]}
    )
    final = await _finished(client, started.json()["id"])
    assert final["status"] == "completed", final
    assert final["variables"]["report"] == {"count": 3, "total": 42, "largest": "b"}
    assert final["variables"]["logged"] == "Report: 3 item(s), total 42, largest b"
    assert [r.path for r in report_api.received] == ["/v1/items"]


async def test_templates_need_a_caller(anonymous: httpx.AsyncClient) -> None:
    for method, path in (
        ("GET", "/api/v1/templates"),
        ("POST", "/api/v1/templates/approval/create-workflow"),
    ):
        assert (await anonymous.request(method, path)).status_code == 401
