"""The whole lifecycle over HTTP: create a workflow from the JSON activities/flows shape, execute
it, find its user task, complete it, see the execution completed."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from tests.api.conftest import LiveServer

pytestmark = pytest.mark.asyncio

APPROVAL: dict[str, Any] = {
    "name": "Expense approval",
    "description": "A manager approves an expense.",
    "activities": [
        {"id": "start", "type": "startEvent"},
        {"id": "review", "type": "userTask", "name": "Review expense", "candidate_groups": ["managers"]},
        {"id": "end", "type": "endEvent"},
    ],
    "flows": [{"from": "start", "to": "review"}, {"from": "review", "to": "end"}],
}


async def _until(check: Any, timeout: float = 10.0) -> Any:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        found = await check()
        if found:
            return found
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("timed out")
        await asyncio.sleep(0.05)


async def lifecycle(client: httpx.AsyncClient) -> None:
    created = await client.post("/api/v1/workflows", json=APPROVAL)
    assert created.status_code == 201, created.text
    workflow = created.json()
    assert workflow["name"] == "Expense approval"
    assert workflow["version"] == 1 and workflow["status"] == "active"
    assert workflow["description"] == "A manager approves an expense."

    started = await client.post(
        f"/api/v1/workflows/{workflow['id']}/execute",
        json={"variables": {"amount": 120}, "business_key": "E-1"},
    )
    assert started.status_code == 201, started.text
    execution = started.json()
    assert execution["status"] in ("running", "pending")

    async def open_task() -> dict[str, Any] | None:
        tasks = (await client.get("/api/v1/tasks")).json()["items"]
        return next((t for t in tasks if t["execution_id"] == execution["id"]), None)

    task = await _until(open_task)
    assert task["element_id"] == "review" and task["name"] == "Review expense"
    assert task["candidate_groups"] == ["managers"] and task["status"] == "open"

    done = await client.post(f"/api/v1/tasks/{task['id']}/complete", json={"variables": {"approved": True}})
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "completed"

    async def finished() -> dict[str, Any] | None:
        shown = (await client.get(f"/api/v1/executions/{execution['id']}")).json()
        return shown if shown["status"] == "completed" else None

    final = await _until(finished)
    assert final["variables"] == {"amount": 120, "approved": True}
    assert final["progress"] == 1.0 and final["completed_elements"][-1] == "end"


async def test_lifecycle_in_process(client: httpx.AsyncClient) -> None:
    await lifecycle(client)


async def test_lifecycle_against_a_server_process(live_server: LiveServer) -> None:
    headers = {"Authorization": f"Bearer {live_server.token()}"}
    async with httpx.AsyncClient(base_url=live_server.base_url, headers=headers, timeout=10) as client:
        await lifecycle(client)


async def test_every_api_route_refuses_anonymous_calls(anonymous: httpx.AsyncClient) -> None:
    for method, path in [
        ("GET", "/api/v1/workflows"),
        ("POST", "/api/v1/workflows"),
        ("GET", "/api/v1/executions"),
        ("GET", "/api/v1/tasks"),
        ("POST", "/api/v1/tasks/x/complete"),
    ]:
        answer = await anonymous.request(method, path)
        assert answer.status_code == 401, (method, path)
        assert answer.headers["content-type"] == "application/problem+json"
        assert "authentication required" in answer.json()["detail"]


async def test_problems_say_what_is_wrong(client: httpx.AsyncClient) -> None:
    missing = await client.get("/api/v1/workflows/nope")
    assert missing.status_code == 404 and missing.json()["detail"] == "no workflow 'nope'"

    broken = await client.post(
        "/api/v1/workflows", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert broken.status_code == 422 and "not valid JSON" in broken.json()["detail"]

    media = await client.post("/api/v1/workflows", content=b"x", headers={"content-type": "image/png"})
    assert media.status_code == 415

    invalid = await client.post(
        "/api/v1/workflows",
        json={
            "name": "Broken",
            "activities": [{"id": "s", "type": "startEvent"}],
            "flows": [{"from": "s", "to": "x"}],
        },
    )
    assert invalid.status_code == 422
    body = invalid.json()
    assert body["type"].endswith("/invalid-definition") and body["errors"]

    twice = await client.post("/api/v1/workflows", json=APPROVAL)
    assert twice.status_code == 201
    again = await client.post("/api/v1/workflows", json=APPROVAL)
    assert again.status_code == 409 and "PUT /workflows/" in again.json()["detail"]

    execute = await client.post("/api/v1/workflows/expense_approval/execute", json={"variables": []})
    assert execute.status_code == 422 and execute.json()["errors"][0]["loc"] == ["body", "variables"]
