"""``/schedules``: create, read, change, pause, resume, preview and delete schedules, see one fire,
and get precise problems for bad ones, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from fastapi import FastAPI

from tests.api.test_executions import (  # noqa: F401  (api_settings: both dialects)
    api_settings,
    deploy,
    eventually,
    user_client,
)
from tests.api.test_lifecycle import APPROVAL

pytestmark = pytest.mark.asyncio

WEEKDAYS = {"kind": "cron", "expression": "0 9 * * MON-FRI", "timezone": "Europe/Berlin"}


async def create(client: httpx.AsyncClient, body: dict[str, Any]) -> dict[str, Any]:
    answer = await client.post("/api/v1/schedules", json=body)
    assert answer.status_code == 201, answer.text
    assert answer.headers["location"] == f"/api/v1/schedules/{answer.json()['id']}"
    return dict(answer.json())


async def test_a_schedule_through_its_life(client: httpx.AsyncClient) -> None:
    key = await deploy(client, APPROVAL)
    created = await create(
        client, {"workflow_id": key, "name": "Mornings", "variables": {"amount": 1}, **WEEKDAYS}
    )
    assert created["workflow_id"] == key and created["status"] == "active"
    assert created["kind"] == "cron" and created["timezone"] == "Europe/Berlin"
    assert created["misfire"] == "fire_once" and created["misfire_grace"] == "PT1M"
    assert created["variables"] == {"amount": 1}
    fire = datetime.fromisoformat(created["next_fire_at"])
    assert fire > datetime.now(UTC) and fire.astimezone(ZoneInfo("Europe/Berlin")).weekday() < 5
    url = f"/api/v1/schedules/{created['id']}"
    assert (await client.get(url)).json() == created

    listed = (await client.get("/api/v1/schedules", params={"workflow_id": key})).json()
    assert listed == {"items": [created], "next_cursor": None}
    assert (await client.get("/api/v1/schedules", params={"workflow_id": "other"})).json()["items"] == []

    preview = (await client.get(f"{url}/next", params={"count": 3})).json()
    times = [datetime.fromisoformat(t) for t in preview["times"]]
    assert preview["schedule_id"] == created["id"] and times[0] == fire and times == sorted(times)
    assert len(times) == 3 and all(t.astimezone(UTC).minute == 0 for t in times)

    changed = (await client.patch(url, json={"expression": "30 18 * * *", "name": "Evenings"})).json()
    assert changed["expression"] == "30 18 * * *" and changed["name"] == "Evenings"
    assert changed["timezone"] == "Europe/Berlin" and changed["variables"] == {"amount": 1}  # the rest stays

    paused = (await client.post(f"{url}/pause")).json()
    assert paused["status"] == "paused" and paused["next_fire_at"] is None
    assert len((await client.get(f"{url}/next")).json()["times"]) == 10  # as if resumed now
    still = (await client.patch(url, json={"variables": {"amount": 2}})).json()
    assert still["status"] == "paused" and still["variables"] == {"amount": 2}
    resumed = (await client.post(f"{url}/resume")).json()
    assert resumed["status"] == "active" and resumed["next_fire_at"] is not None

    assert (await client.delete(url)).status_code == 204
    gone = await client.get(url)
    assert gone.status_code == 404 and gone.json()["detail"] == f"no schedule '{created['id']}'"
    assert (await client.delete(url)).status_code == 404


async def test_a_schedule_starts_executions(client: httpx.AsyncClient) -> None:
    key = await deploy(client, APPROVAL)
    created = await create(
        client, {"workflow_id": key, "kind": "interval", "expression": "1s", "variables": {"n": 1}}
    )

    async def fired() -> dict[str, Any] | None:
        shown = (await client.get(f"/api/v1/schedules/{created['id']}")).json()
        return shown if shown["last_execution_id"] else None

    shown = await eventually(fired)
    execution = (await client.get(f"/api/v1/executions/{shown['last_execution_id']}")).json()
    assert execution["workflow_id"] == key and execution["variables"] == {"n": 1}


async def test_bad_schedules_are_precise_problems(client: httpx.AsyncClient) -> None:
    key = await deploy(client, APPROVAL)
    past = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    for body, field in (
        ({"kind": "cron", "expression": "0 0 31 2 *"}, "expression"),
        ({"kind": "cron", "expression": "0 9 * * *", "timezone": "Mars/Olympus"}, "timezone"),
        ({"kind": "interval", "expression": "P1M"}, "expression"),
        ({"kind": "once", "expression": past}, "expression"),
        ({"kind": "cron", "expression": "@daily", "misfire_grace": "soon"}, "misfire_grace"),
    ):
        answer = await client.post("/api/v1/schedules", json={"workflow_id": key, **body})
        assert answer.status_code == 422, body
        problem = answer.json()
        assert problem["type"].endswith("/invalid-schedule")
        assert problem["errors"][0]["loc"] == ["body", field] and problem["detail"].startswith(f"{field}: ")
    for body, where in (
        ({"kind": "hourly", "expression": "x"}, ["body", "kind"]),
        ({"kind": "cron"}, ["body", "expression"]),
        ({"kind": "cron", "expression": "@daily", "max_catch_up": 0}, ["body", "max_catch_up"]),
    ):
        answer = await client.post("/api/v1/schedules", json={"workflow_id": key, **body})
        assert answer.status_code == 422 and answer.json()["errors"][0]["loc"] == where, body
    for body in (
        {"kind": "once", "expression": "9999-12-31T23:59:59-23:00"},
        {"kind": "interval", "expression": "P99999999D"},
    ):
        answer = await client.post("/api/v1/schedules", json={"workflow_id": key, **body})
        assert answer.status_code == 422 and "out of range" in answer.json()["detail"], body
    unknown = await client.post("/api/v1/schedules", json={"workflow_id": "nope", **WEEKDAYS})
    assert unknown.status_code == 404 and unknown.json()["detail"] == "no workflow 'nope'"

    created = await create(client, {"workflow_id": key, **WEEKDAYS})
    url = f"/api/v1/schedules/{created['id']}"
    bad_change = await client.patch(url, json={"expression": "61 * * * *"})
    assert bad_change.status_code == 422 and bad_change.json()["errors"][0]["loc"] == ["body", "expression"]
    assert (await client.get(url)).json() == created
    assert (await client.get(f"{url}/next", params={"count": 0})).status_code == 422
    for path in ("/api/v1/schedules/0", f"/api/v1/schedules/{2**63}", "/api/v1/schedules/abc"):
        answer = await client.get(path)
        assert answer.status_code == 422 and answer.json()["errors"][0]["loc"] == ["path", "schedule_id"]
    assert (await client.get("/api/v1/schedules/999999")).status_code == 404


async def test_schedules_stay_in_their_tenant(app: FastAPI, client: httpx.AsyncClient) -> None:
    created = await create(client, {"workflow_id": await deploy(client, APPROVAL), **WEEKDAYS})
    url = f"/api/v1/schedules/{created['id']}"
    async with user_client(app, "outsider", tenant="other", roles=("admin",)) as outsider:
        assert (await outsider.get("/api/v1/schedules")).json()["items"] == []
        for method, path in (("GET", url), ("PATCH", url), ("DELETE", url), ("POST", f"{url}/pause")):
            assert (await outsider.request(method, path, json={})).status_code == 404, (method, path)
        foreign = await outsider.post(
            "/api/v1/schedules", json={"workflow_id": created["workflow_id"], **WEEKDAYS}
        )
        assert foreign.status_code == 404
    assert (await client.get(url)).json() == created
