"""``/executions``: filters, sort and keyset pagination, progress, retrying the open incidents, and
logs (paged and followed as server-sent events), on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from apg_workflow.runtime.context import Runtime
from apg_workflow.services import auth
from apg_workflow.settings import Settings
from tests.api.conftest import LiveServer, token_for
from tests.api.test_lifecycle import APPROVAL
from tests.api.test_lifecycle import _until as eventually
from tests.integration.store.databases import settings_for

pytestmark = pytest.mark.asyncio

DIVIDE: dict[str, Any] = {
    "name": "Divide",
    "activities": [
        {"id": "start", "type": "startEvent"},
        {"id": "divide", "type": "scriptTask", "script": "ratio = total / count"},
        {"id": "end", "type": "endEvent"},
    ],
    "flows": [{"from": "start", "to": "divide"}, {"from": "divide", "to": "end"}],
}


@pytest.fixture
def api_settings(database_url: str, tmp_path: Path) -> Settings:
    """The application of these tests on SQLite and on PostgreSQL."""
    return settings_for(database_url, storage_root=tmp_path / "storage")


async def deploy(client: httpx.AsyncClient, definition: dict[str, Any]) -> str:
    answer = await client.post("/api/v1/workflows", json=definition)
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


async def start(
    client: httpx.AsyncClient, key: str, variables: dict[str, Any], business_key: str | None = None
) -> dict[str, Any]:
    answer = await client.post(
        f"/api/v1/workflows/{key}/execute", json={"variables": variables, "business_key": business_key}
    )
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


async def open_task(client: httpx.AsyncClient, execution_id: str) -> dict[str, Any]:
    async def find() -> dict[str, Any] | None:
        items = (await client.get("/api/v1/tasks", params={"execution_id": execution_id})).json()["items"]
        return items[0] if items else None

    return await eventually(find)


async def finished(client: httpx.AsyncClient, execution_id: str) -> dict[str, Any]:
    async def ended() -> dict[str, Any] | None:
        shown = (await client.get(f"/api/v1/executions/{execution_id}")).json()
        return shown if shown["status"] in ("completed", "failed", "cancelled") else None

    return await eventually(ended)


@asynccontextmanager
async def user_client(
    app: FastAPI,
    username: str,
    *,
    roles: tuple[str, ...] = ("developer",),
    groups: tuple[str, ...] = (),
    tenant: str | None = None,
) -> AsyncIterator[httpx.AsyncClient]:
    """A client logged in as a new user (of ``tenant``, created when given)."""
    rt: Runtime = app.state.runtime
    if tenant is not None:
        await auth.create_tenant(rt, tenant)
    await auth.create_user(rt, username, "password-123", tenant_id=tenant, roles=roles, groups=groups)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as client:
        client.headers["Authorization"] = f"Bearer {await token_for(client, username, 'password-123')}"
        yield client


def ids(answer: httpx.Response) -> list[str]:
    assert answer.status_code == 200, answer.text
    return [item["id"] for item in answer.json()["items"]]


async def test_filters_narrow_the_list(client: httpx.AsyncClient) -> None:
    key = await deploy(client, APPROVAL)
    first = await start(client, key, {"amount": 120, "region": "emea", "tags": ["a", "b"]}, "E-1")
    second = await start(client, key, {"amount": 80, "region": "apac"}, "E-2")
    third = await start(client, key, {"amount": 120.0, "region": "apac", "urgent": True}, "E-3")
    done = await client.post(
        f"/api/v1/tasks/{(await open_task(client, second['id']))['id']}/complete", json={}
    )
    assert done.status_code == 200
    await finished(client, second["id"])

    async def listed(**params: Any) -> list[str]:
        return ids(await client.get("/api/v1/executions", params=params))

    assert await listed() == [third["id"], second["id"], first["id"]]  # newest first
    assert await listed(sort="started_at:asc") == [first["id"], second["id"], third["id"]]
    assert await listed(status="completed") == [second["id"]]
    assert await listed(business_key="E-1") == [first["id"]]
    assert await listed(workflow_id=key, version=1, status="running") == [third["id"], first["id"]]
    assert await listed(workflow_id="other") == []
    assert await listed(version=2) == []
    assert await listed(variables="amount:120") == [third["id"], first["id"]]  # 120 == 120.0 as JSON
    assert await listed(variables=["amount:120", "region:apac"]) == [third["id"]]
    assert await listed(variables='region:"emea"') == [first["id"]]
    assert await listed(variables="urgent:true") == [third["id"]]
    assert await listed(variables='tags:["a","b"]') == [first["id"]]
    assert await listed(variables="region:nowhere") == []

    second_ended = (await client.get(f"/api/v1/executions/{second['id']}")).json()["completed_at"]
    ended = datetime.fromisoformat(second_ended)
    assert await listed(ended_after=(ended - timedelta(seconds=1)).isoformat()) == [second["id"]]
    assert await listed(ended_before=(ended - timedelta(seconds=1)).isoformat()) == []
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    assert await listed(started_after=later) == []
    assert await listed(started_before=later) == [third["id"], second["id"], first["id"]]


async def test_keyset_pages_follow_the_sort(client: httpx.AsyncClient) -> None:
    key = await deploy(client, APPROVAL)
    started = [(await start(client, key, {"n": n}))["id"] for n in range(5)]
    for sort, expected in (("started_at:asc", started), ("started_at:desc", started[::-1])):
        seen: list[str] = []
        cursor = None
        while True:
            params = {"limit": 2, "sort": sort} | ({"cursor": cursor} if cursor else {})
            page = (await client.get("/api/v1/executions", params=params)).json()
            seen += [item["id"] for item in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert seen == expected


async def test_bad_filters_are_precise_problems(client: httpx.AsyncClient) -> None:
    for params, where in (
        ({"variables": "no-colon"}, ["query", "variables", "0"]),
        ({"sort": "name"}, ["query", "sort"]),
        ({"started_after": "yesterday"}, ["query", "started_after"]),
        ({"status": "sleeping"}, ["query", "status"]),
        ({"started_after": "2020-01-01T00:00:00"}, ["query", "started_after"]),  # no offset
        ({"ended_before": "9999-12-31T23:59:59-23:00"}, ["query", "ended_before"]),  # past year 9999 in UTC
        ({"version": str(2**31)}, ["query", "version"]),
    ):
        answer = await client.get("/api/v1/executions", params=params)
        assert answer.status_code == 422, params
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["errors"][0]["loc"] == where
    cursor = await client.get("/api/v1/executions", params={"cursor": "not-a-cursor"})
    assert cursor.status_code == 400 and "cursor" in cursor.json()["detail"]
    for value in ("1e999", "9" * 30, "[1, 1e400]"):
        huge = await client.get("/api/v1/executions", params={"variables": f"n:{value}"})
        assert huge.status_code == 400 and "out of range" in huge.json()["detail"], value
    assert ids(await client.get("/api/v1/executions", params={"variables": "n:NaN"})) == []  # a string


async def test_progress_counts_the_process_flow_nodes(client: httpx.AsyncClient) -> None:
    key = await deploy(client, APPROVAL)
    execution = await start(client, key, {})
    task = await open_task(client, execution["id"])
    waiting = (await client.get(f"/api/v1/executions/{execution['id']}")).json()
    assert waiting["active_elements"] == ["review"] and waiting["completed_elements"] == ["start"]
    assert waiting["progress"] == pytest.approx(1 / 3, abs=1e-3)  # start of start, review, end
    await client.post(f"/api/v1/tasks/{task['id']}/complete", json={})
    assert (await finished(client, execution["id"]))["progress"] == 1.0


async def test_retry_runs_the_failed_elements_again(client: httpx.AsyncClient) -> None:
    key = await deploy(client, DIVIDE)
    execution = await start(client, key, {"total": 10, "count": 0})

    async def incident() -> list[dict[str, Any]]:
        params = {"execution_id": execution["id"]}
        return list((await client.get("/api/v1/incidents", params=params)).json()["items"])

    (opened,) = await eventually(incident)
    assert opened["element_id"] == "divide" and "division by zero" in opened["message"]

    retried = await client.post(
        f"/api/v1/executions/{execution['id']}/retry", json={"variables": {"count": 4}}
    )
    assert retried.status_code == 200, retried.text
    body = retried.json()
    assert [i["id"] for i in body["retried"]] == [opened["id"]]
    assert body["retried"][0]["status"] == "resolved"
    final = await finished(client, execution["id"])
    assert final["status"] == "completed" and final["variables"]["ratio"] == 2.5

    again = await client.post(f"/api/v1/executions/{execution['id']}/retry")
    assert again.status_code == 200 and again.json()["retried"] == []


async def test_logs_are_paged_history_lines(client: httpx.AsyncClient) -> None:
    key = await deploy(client, DIVIDE)
    execution = await start(client, key, {"total": 1, "count": 0})
    url = f"/api/v1/executions/{execution['id']}/logs"

    async def failed_line() -> list[dict[str, Any]]:
        return [line for line in (await client.get(url)).json()["items"] if line["level"] == "error"]

    (error,) = await eventually(failed_line)
    assert error["element_id"] == "divide" and error["message"].startswith("divide failed: ")

    lines, cursor = [], None
    while True:
        page = (await client.get(url, params={"limit": 2} | ({"cursor": cursor} if cursor else {}))).json()
        lines += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert lines == (await client.get(url)).json()["items"]
    assert lines[0]["message"] == "execution started" and lines[0]["level"] == "info"
    assert [line["id"] for line in lines] == sorted(line["id"] for line in lines)


async def test_follow_streams_until_the_execution_ends(client: httpx.AsyncClient) -> None:
    key = await deploy(client, APPROVAL)
    execution = await start(client, key, {})
    task = await open_task(client, execution["id"])
    await client.post(f"/api/v1/tasks/{task['id']}/complete", json={})
    await finished(client, execution["id"])

    answer = await client.get(f"/api/v1/executions/{execution['id']}/logs", params={"follow": "true"})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/event-stream")
    events = parse_events(answer.text)
    assert events[-1] == ("end", None, {"status": "completed", "timed_out": False})
    messages = [data["message"] for name, _, data in events if name == "log"]
    assert "review completed" in messages and messages[-1] == "execution completed"

    last_id = events[-2][1]
    resumed = await client.get(
        f"/api/v1/executions/{execution['id']}/logs",
        params={"follow": "true"},
        headers={"Last-Event-ID": str(last_id)},
    )
    assert parse_events(resumed.text) == [events[-1]]


async def test_follow_times_out_on_a_running_execution(client: httpx.AsyncClient) -> None:
    key = await deploy(client, APPROVAL)
    execution = await start(client, key, {})
    await open_task(client, execution["id"])
    answer = await client.get(
        f"/api/v1/executions/{execution['id']}/logs", params={"follow": "true", "timeout": 1}
    )
    assert parse_events(answer.text)[-1] == ("end", None, {"status": "running", "timed_out": True})


async def test_unknown_and_foreign_executions_are_not_found(app: FastAPI, client: httpx.AsyncClient) -> None:
    key = await deploy(client, APPROVAL)
    execution = await start(client, key, {})
    for method, path in (
        ("GET", "/api/v1/executions/nope"),
        ("GET", "/api/v1/executions/nope/logs"),
        ("GET", "/api/v1/executions/nope/logs?follow=true"),
        ("POST", "/api/v1/executions/nope/retry"),
    ):
        answer = await client.request(method, path)
        assert answer.status_code == 404, path
        assert answer.json()["detail"] == "no execution 'nope'"
    async with user_client(app, "outsider", tenant="other") as outsider:
        assert ids(await outsider.get("/api/v1/executions")) == []
        shown = await outsider.get(f"/api/v1/executions/{execution['id']}")
        assert shown.status_code == 404
        assert (await outsider.get(f"/api/v1/executions/{execution['id']}/logs")).status_code == 404
        assert (await outsider.post(f"/api/v1/executions/{execution['id']}/retry")).status_code == 404


def parse_events(text: str) -> list[tuple[str, int | None, dict[str, Any]]]:
    """Server-sent events as (event, id, data)."""
    events = []
    for block in text.strip().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines())
        event_id = int(fields["id"]) if "id" in fields else None
        events.append((fields["event"], event_id, json.loads(fields["data"])))
    return events


async def test_follow_against_a_server_process(live_server: LiveServer) -> None:
    headers = {"Authorization": f"Bearer {live_server.token()}"}
    async with httpx.AsyncClient(base_url=live_server.base_url, headers=headers, timeout=20) as client:
        key = await deploy(client, APPROVAL)
        execution = await start(client, key, {})
        task = await open_task(client, execution["id"])
        url = f"/api/v1/executions/{execution['id']}/logs"
        received: list[str] = []
        async with client.stream("GET", url, params={"follow": "true", "timeout": 15}) as stream:
            assert stream.headers["content-type"].startswith("text/event-stream")
            lines = stream.aiter_lines()
            async for line in lines:  # the lines so far arrive before the task is completed
                received.append(line)
                if line == "" and len(received) > 1:
                    break
            completed = await client.post(f"/api/v1/tasks/{task['id']}/complete", json={})
            assert completed.status_code == 200
            async for line in lines:
                received.append(line)
        events = parse_events("\n".join(received))
        assert events[-1] == ("end", None, {"status": "completed", "timed_out": False})
        assert [data["message"] for name, _, data in events if name == "log"][-1] == "execution completed"


async def test_a_cursor_without_a_time_zone_is_a_bad_request(client: httpx.AsyncClient) -> None:
    answer = await client.get("/api/v1/executions", params={"cursor": "2020-01-01T00:00:00|x"})
    assert answer.status_code == 400
    assert "invalid page cursor" in answer.json()["detail"]
