"""``/incidents``: list by status (paged), get, retry with variables that fix the cause, and resolve
without a retry, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.api.test_executions import (  # noqa: F401  (api_settings: both dialects)
    DIVIDE,
    api_settings,
    deploy,
    eventually,
    finished,
    start,
    user_client,
)

pytestmark = pytest.mark.asyncio


async def failing(client: httpx.AsyncClient, key: str, count: int) -> list[dict[str, Any]]:
    """Start ``count`` executions that fail at once; their incidents, oldest first."""
    started = [(await start(client, key, {"total": 1, "count": 0}))["id"] for _ in range(count)]

    async def opened() -> list[dict[str, Any]] | None:
        items = (await client.get("/api/v1/incidents", params={"limit": 100})).json()["items"]
        return items if len(items) == count else None

    found = await eventually(opened)
    assert sorted(i["execution_id"] for i in found) == sorted(started)
    return found


async def test_list_pages_by_status(client: httpx.AsyncClient) -> None:
    incidents = await failing(client, await deploy(client, DIVIDE), 3)
    seen, cursor = [], None
    while True:
        params: dict[str, Any] = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = (await client.get("/api/v1/incidents", params=params)).json()
        seen += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == incidents
    assert all(i["status"] == "open" and i["element_id"] == "divide" for i in seen)

    resolved = await client.post(
        f"/api/v1/incidents/{incidents[0]['id']}/resolve", json={"reason": "handled"}
    )
    assert resolved.status_code == 200 and resolved.json()["status"] == "resolved"
    assert resolved.json()["resolved_at"] is not None

    async def listed(status: str) -> list[str]:
        return [
            i["id"]
            for i in (await client.get("/api/v1/incidents", params={"status": status})).json()["items"]
        ]

    assert await listed("open") == [incidents[1]["id"], incidents[2]["id"]]
    assert await listed("resolved") == [incidents[0]["id"]]
    assert await listed("any") == [i["id"] for i in incidents]
    bad = await client.get("/api/v1/incidents", params={"status": "closed"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["loc"] == ["query", "status"]


async def test_retry_with_variables_completes_the_execution(client: httpx.AsyncClient) -> None:
    (incident,) = await failing(client, await deploy(client, DIVIDE), 1)
    assert "/" in incident["id"]
    shown = await client.get(f"/api/v1/incidents/{incident['id']}")
    assert shown.status_code == 200 and shown.json() == incident

    retried = await client.post(f"/api/v1/incidents/{incident['id']}/retry", json={"variables": {"count": 2}})
    assert retried.status_code == 200 and retried.json()["status"] == "resolved"
    final = await finished(client, incident["execution_id"])
    assert final["status"] == "completed" and final["variables"]["ratio"] == 0.5
    again = await client.post(f"/api/v1/incidents/{incident['id']}/retry")
    assert again.status_code == 200 and again.json()["status"] == "resolved"


async def test_resolve_leaves_the_execution_where_it_stopped(client: httpx.AsyncClient) -> None:
    (incident,) = await failing(client, await deploy(client, DIVIDE), 1)
    url = f"/api/v1/incidents/{incident['id']}/resolve"
    assert (await client.post(url)).json()["status"] == "resolved"
    first = (await client.get(f"/api/v1/incidents/{incident['id']}")).json()
    assert (await client.post(url)).json() == first  # resolving again changes nothing

    execution_id = incident["execution_id"]
    shown = (await client.get(f"/api/v1/executions/{execution_id}")).json()
    assert shown["status"] == "running" and shown["active_elements"] == ["divide"]
    logs = (await client.get(f"/api/v1/executions/{execution_id}/logs")).json()["items"]
    assert logs[-1]["message"] == "divide: incident resolved by admin"
    retry = await client.post(f"/api/v1/executions/{execution_id}/retry")
    assert retry.json()["retried"] == []  # only open incidents are retried


async def test_unknown_and_foreign_incidents_are_not_found(app: FastAPI, client: httpx.AsyncClient) -> None:
    (incident,) = await failing(client, await deploy(client, DIVIDE), 1)
    for method, path in (
        ("GET", "/api/v1/incidents/x/1"),
        ("POST", "/api/v1/incidents/x/1/retry"),
        ("POST", "/api/v1/incidents/x/1/resolve"),
    ):
        answer = await client.request(method, path)
        assert answer.status_code == 404 and answer.json()["detail"] == "no incident 'x/1'", path
    unknown = await client.get("/api/v1/incidents", params={"execution_id": "nope"})
    assert unknown.status_code == 404
    async with user_client(app, "outsider", tenant="other", roles=("admin",)) as outsider:
        assert (await outsider.get("/api/v1/incidents")).json()["items"] == []
        for method, suffix in (("GET", ""), ("POST", "/retry"), ("POST", "/resolve")):
            answer = await outsider.request(method, f"/api/v1/incidents/{incident['id']}{suffix}")
            assert answer.status_code == 404
    assert (await client.get(f"/api/v1/incidents/{incident['id']}")).json()["status"] == "open"
