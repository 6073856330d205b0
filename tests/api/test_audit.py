"""The audit log over HTTP: every change (workflows, users, API keys) is recorded with its actor,
filterable and paginated, for administrators of the tenant only."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from apg_workflow.services import auth
from tests.api.conftest import token_for
from tests.api.test_lifecycle import APPROVAL

pytestmark = pytest.mark.asyncio


async def _entries(client: httpx.AsyncClient, **filters: str | int) -> list[dict[str, object]]:
    answer = await client.get("/api/v1/audit", params=filters)
    assert answer.status_code == 200, answer.text
    return list(answer.json()["items"])


async def test_changes_are_audited_with_their_actor(client: httpx.AsyncClient) -> None:
    created = await client.post("/api/v1/workflows", json=APPROVAL)
    key = created.json()["id"]
    end = {"id": "end", "type": "endEvent", "name": "Done"}
    changed = {**APPROVAL, "activities": [*APPROVAL["activities"][:2], end]}
    assert (await client.put(f"/api/v1/workflows/{key}", json=changed)).status_code == 200
    assert (await client.delete(f"/api/v1/workflows/{key}")).status_code == 204
    user = (await client.post("/api/v1/users", json={"username": "erin", "password": "erin-password"})).json()
    api_key = (await client.post("/api/v1/auth/api-keys", json={"name": "ci"})).json()
    assert (await client.delete(f"/api/v1/auth/api-keys/{api_key['id']}")).status_code == 204

    entries = await _entries(client)
    assert [e["action"] for e in entries] == [
        "api_key.revoked",
        "api_key.created",
        "user.created",
        "workflow.deleted",
        "workflow.updated",
        "workflow.created",
        "user.created",  # the administrator of the fixture, made without an actor (as the CLI does)
    ]
    assert entries[-1]["actor"] is None and entries[-1]["details"]["username"] == "admin"
    by_action = {e["action"]: e for e in entries[:-1]}
    assert by_action["workflow.updated"]["details"] == {"version": 2}
    made = by_action["user.created"]
    assert (
        made["object_id"] == user["id"]
        and made["actor"] == "admin"
        and made["details"]["roles"] == ["developer"]
    )
    issued = by_action["api_key.created"]
    assert issued["details"]["name"] == "ci" and issued["actor"] == "admin"
    assert "key" not in issued["details"]  # the secret is never recorded
    assert all(e["actor"] == "admin" for e in entries if e["action"].startswith("workflow."))
    assert entries[0]["at"].endswith("Z")


async def test_filters_and_pages(client: httpx.AsyncClient) -> None:
    for index in range(3):
        body = {**APPROVAL, "id": f"flow_{index}"}
        assert (await client.post("/api/v1/workflows", json=body)).status_code == 201
    await client.post("/api/v1/users", json={"username": "frank", "password": "frank-password"})

    workflows = await _entries(client, object_type="workflow")
    assert len(workflows) == 3 and {e["object_id"] for e in workflows} == {"flow_0", "flow_1", "flow_2"}
    assert [e["object_id"] for e in await _entries(client, object_type="workflow", object_id="flow_1")] == [
        "flow_1"
    ]
    users = await _entries(client, action="user.created")
    assert [e["details"]["username"] for e in users] == ["frank", "admin"]

    first = (await client.get("/api/v1/audit", params={"limit": 3})).json()
    second = (await client.get("/api/v1/audit", params={"limit": 3, "cursor": first["next_cursor"]})).json()
    assert len(first["items"]) == 3 and len(second["items"]) == 2 and second["next_cursor"] is None
    assert first["items"][-1]["id"] > second["items"][0]["id"]

    bad = await client.get("/api/v1/audit", params={"cursor": "x"})
    assert bad.status_code == 400 and "cursor" in bad.json()["detail"]


async def test_only_admins_of_the_tenant_read_it(app: FastAPI, client: httpx.AsyncClient) -> None:
    rt = app.state.runtime
    await auth.create_user(rt.for_tenant("other"), "olga", "olga-password", roles=("admin",))
    await auth.create_user(rt, "gina", "gina-password", roles=("viewer",))
    await client.post("/api/v1/workflows", json=APPROVAL)

    olga = {"Authorization": f"Bearer {await token_for(client, 'olga', 'olga-password')}"}
    seen = (await client.get("/api/v1/audit", headers=olga)).json()["items"]
    assert [e["object_id"] for e in seen] == [e["object_id"] for e in seen if e["action"] == "user.created"]
    assert all(e["details"]["username"] == "olga" for e in seen)

    gina = {"Authorization": f"Bearer {await token_for(client, 'gina', 'gina-password')}"}
    refused = await client.get("/api/v1/audit", headers=gina)
    assert refused.status_code == 403 and refused.json()["type"].endswith("/forbidden")
