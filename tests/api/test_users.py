"""Users over HTTP: listing the caller's tenant, creation by administrators only, lookups that never
cross tenants."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from apg_workflow.services import auth
from tests.api.conftest import token_for

pytestmark = pytest.mark.asyncio

ALICE = {"username": "alice", "password": "alice-password", "roles": ["developer"], "groups": ["managers"]}


async def test_an_admin_creates_a_user_who_can_log_in(client: httpx.AsyncClient) -> None:
    created = await client.post("/api/v1/users", json=ALICE)
    assert created.status_code == 201, created.text
    user = created.json()
    assert user["username"] == "alice" and user["roles"] == ["developer"] and user["groups"] == ["managers"]
    assert user["tenant_id"] == "default" and user["active"] and "password" not in str(user)
    assert created.headers["location"] == f"/api/v1/users/{user['id']}"
    assert (await client.get(created.headers["location"])).json() == user

    token = await token_for(client, "alice", "alice-password")
    me = await client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json()["username"] == "alice" and me.json()["groups"] == ["managers"]

    default_role = await client.post("/api/v1/users", json={"username": "bob", "password": "bob-password"})
    assert default_role.json()["roles"] == ["developer"]


async def test_only_admins_create_users(client: httpx.AsyncClient) -> None:
    await client.post("/api/v1/users", json=ALICE)
    alice = {"Authorization": f"Bearer {await token_for(client, 'alice', 'alice-password')}"}
    refused = await client.post("/api/v1/users", json={**ALICE, "username": "mallory"}, headers=alice)
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["type"].endswith("/forbidden") and "admin role" in refused.json()["detail"]
    listed = await client.get("/api/v1/users", headers=alice)  # reading is open to every user
    assert [u["username"] for u in listed.json()["items"]] == ["admin", "alice"]


async def test_bad_users_are_precise_problems(client: httpx.AsyncClient) -> None:
    assert (await client.post("/api/v1/users", json=ALICE)).status_code == 201
    taken = await client.post("/api/v1/users", json=ALICE)
    assert taken.status_code == 409 and "already exists" in taken.json()["detail"]

    for body, field in (
        ({**ALICE, "username": "x", "roles": ["root"]}, "roles"),
        ({**ALICE, "username": "x", "password": "short"}, "password"),
        ({**ALICE, "username": " padded "}, "username"),
    ):
        answer = await client.post("/api/v1/users", json=body)
        assert answer.status_code == 422, body
        assert answer.json()["errors"][0]["loc"][:2] == ["body", field]


async def test_users_of_other_tenants_stay_hidden(app: FastAPI, client: httpx.AsyncClient) -> None:
    outsider = await auth.create_user(app.state.runtime, "outsider", "outsider-pw", tenant_id="other")
    for name in ("carol", "dave"):
        await client.post("/api/v1/users", json={"username": name, "password": f"{name}-password"})

    first = (await client.get("/api/v1/users", params={"limit": 2})).json()
    assert [u["username"] for u in first["items"]] == ["admin", "carol"] and first["next_cursor"]
    rest = (await client.get("/api/v1/users", params={"limit": 2, "cursor": first["next_cursor"]})).json()
    assert [u["username"] for u in rest["items"]] == ["dave"] and rest["next_cursor"] is None

    hidden = await client.get(f"/api/v1/users/{outsider.id}")
    assert hidden.status_code == 404 and hidden.json()["detail"] == f"no user '{outsider.id}'"


async def test_users_need_a_caller(anonymous: httpx.AsyncClient) -> None:
    assert (await anonymous.get("/api/v1/users")).status_code == 401
    assert (await anonymous.post("/api/v1/users", json=ALICE)).status_code == 401
