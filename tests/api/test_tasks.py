"""``/tasks``: mine and those I may claim, claim / unclaim / assign with who may do what, and
completion checked against the task's form schema, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from apg_workflow.runtime.context import Runtime
from apg_workflow.store.identity import list_audit
from tests.api.test_executions import (  # noqa: F401  (api_settings: both dialects)
    api_settings,
    deploy,
    finished,
    open_task,
    start,
    user_client,
)

pytestmark = pytest.mark.asyncio

FORM = {
    "type": "object",
    "required": ["approved"],
    "properties": {"approved": {"type": "boolean"}, "comment": {"type": "string", "maxLength": 5}},
}
REVIEW: dict[str, Any] = {
    "name": "Review",
    "activities": [
        {"id": "start", "type": "startEvent"},
        {
            "id": "review",
            "type": "userTask",
            "name": "Review",
            "candidate_groups": ["managers"],
            "candidate_users": ["carol"],
            "form": {"schema": FORM},
        },
        {"id": "end", "type": "endEvent"},
    ],
    "flows": [{"from": "start", "to": "review"}, {"from": "review", "to": "end"}],
}
FILE: dict[str, Any] = {
    "name": "File",
    "activities": [
        {"id": "start", "type": "startEvent"},
        {"id": "file", "type": "userTask", "assignee": "dave"},
        {"id": "end", "type": "endEvent"},
    ],
    "flows": [{"from": "start", "to": "file"}, {"from": "file", "to": "end"}],
}


def task_ids(answer: httpx.Response) -> list[str]:
    assert answer.status_code == 200, answer.text
    return [t["id"] for t in answer.json()["items"]]


async def test_lists_mine_and_those_i_may_claim(app: FastAPI, client: httpx.AsyncClient) -> None:
    review = await open_task(client, (await start(client, await deploy(client, REVIEW), {}))["id"])
    filing = await open_task(client, (await start(client, await deploy(client, FILE), {}))["id"])
    assert "/" in review["id"]  # task ids hold a '/': the routes take them as paths

    async with (
        user_client(app, "alice", groups=("managers",)) as alice,
        user_client(app, "carol") as carol,
        user_client(app, "dave") as dave,
        user_client(app, "erin", groups=("sales",)) as erin,
    ):
        assert task_ids(await alice.get("/api/v1/tasks", params={"candidate": "me"})) == [review["id"]]
        assert task_ids(await carol.get("/api/v1/tasks", params={"candidate": "me"})) == [review["id"]]
        assert task_ids(await erin.get("/api/v1/tasks", params={"candidate": "me"})) == []
        assert task_ids(await dave.get("/api/v1/tasks", params={"assignee": "me"})) == [filing["id"]]
        assert task_ids(await alice.get("/api/v1/tasks", params={"assignee": "me"})) == []
        assert task_ids(await erin.get("/api/v1/tasks", params={"assignee": "dave"})) == [filing["id"]]

        assert (await alice.post(f"/api/v1/tasks/{review['id']}/claim")).status_code == 200
        assert task_ids(await alice.get("/api/v1/tasks", params={"assignee": "me"})) == [review["id"]]
        assert task_ids(await alice.get("/api/v1/tasks", params={"candidate": "me"})) == [review["id"]]
        assert task_ids(await carol.get("/api/v1/tasks", params={"candidate": "me"})) == []  # alice holds it

    assert task_ids(await client.get("/api/v1/tasks", params={"element_id": "file"})) == [filing["id"]]
    by_execution = await client.get("/api/v1/tasks", params={"execution_id": review["execution_id"]})
    assert task_ids(by_execution) == [review["id"]]
    bad = await client.get("/api/v1/tasks", params={"candidate": "bob"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["loc"] == ["query", "candidate"]


async def test_who_may_claim_unclaim_and_assign(app: FastAPI, client: httpx.AsyncClient) -> None:
    task = await open_task(client, (await start(client, await deploy(client, REVIEW), {}))["id"])
    url = f"/api/v1/tasks/{task['id']}"
    async with (
        user_client(app, "alice", groups=("managers",)) as alice,
        user_client(app, "bob", groups=("managers",)) as bob,
        user_client(app, "erin", groups=("sales",)) as erin,
    ):
        stranger = await erin.post(f"{url}/claim")
        assert stranger.status_code == 403 and "not a candidate" in stranger.json()["detail"]

        claimed = await alice.post(f"{url}/claim")
        assert claimed.status_code == 200 and claimed.json()["assignee"] == "alice"
        assert (await alice.post(f"{url}/claim")).json()["assignee"] == "alice"  # again: nothing changes
        taken = await bob.post(f"{url}/claim")
        assert (
            taken.status_code == 409
            and taken.json()["detail"] == f"user task '{task['id']}' is held by 'alice'"
        )
        assert (await bob.post(f"{url}/unclaim")).status_code == 409
        assert (await bob.post(f"{url}/complete", json={"variables": {"approved": True}})).status_code == 409

        passed = await alice.post(f"{url}/assign", json={"assignee": "bob"})  # the holder passes it on
        assert passed.status_code == 200 and passed.json()["assignee"] == "bob"
        assert (await alice.post(f"{url}/assign", json={"assignee": "alice"})).status_code == 403
        assert (await bob.post(f"{url}/unclaim")).json()["assignee"] is None

        assigned = await client.post(f"{url}/assign", json={"assignee": "erin"})  # an administrator may
        assert assigned.status_code == 200 and assigned.json()["assignee"] == "erin"
        done = await erin.post(f"{url}/complete", json={"variables": {"approved": True}})
        assert done.status_code == 200 and done.json()["status"] == "completed"

        closed = await alice.post(f"{url}/claim")
        assert closed.status_code == 409 and closed.json()["detail"].endswith("is completed")

    rt: Runtime = app.state.runtime
    audit = await rt.db.read(lambda conn: list_audit(conn, rt.tenant, object_type="user_task"))
    assert [(e["actor"], e["action"], e["details"]["to"]) for e in reversed(audit.items)] == [
        ("alice", "task.claimed", "alice"),
        ("alice", "task.assigned", "bob"),
        ("bob", "task.unclaimed", None),
        ("admin", "task.assigned", "erin"),
    ]


async def test_completion_checks_the_form_schema(client: httpx.AsyncClient) -> None:
    execution = await start(client, await deploy(client, REVIEW), {})
    task = await open_task(client, execution["id"])
    assert task["form"] == {"key": None, "schema": FORM}
    url = f"/api/v1/tasks/{task['id']}/complete"

    wrong = await client.post(url, json={"variables": {"approved": "yes", "comment": "far too long"}})
    assert wrong.status_code == 422
    problem = wrong.json()
    assert problem["type"].endswith("/validation-error")
    assert [e["loc"] for e in problem["errors"]] == [
        ["body", "variables", "approved"],
        ["body", "variables", "comment"],
    ]
    assert problem["errors"][0]["message"] == "'yes' is not of type 'boolean'"
    missing = await client.post(url, json={"variables": {}})
    assert missing.json()["errors"] == [
        {"loc": ["body", "variables"], "message": "'approved' is a required property"}
    ]
    assert (await client.get(f"/api/v1/tasks/{task['id']}")).json()["status"] == "open"

    done = await client.post(url, json={"variables": {"approved": True, "comment": "ok"}})
    assert done.status_code == 200 and done.json()["status"] == "completed"
    final = await finished(client, execution["id"])
    assert final["variables"] == {"approved": True, "comment": "ok"}
    assert (await client.post(url, json={"variables": {"approved": True}})).status_code == 200  # a retry


async def test_unknown_and_foreign_tasks_are_not_found(app: FastAPI, client: httpx.AsyncClient) -> None:
    task = await open_task(client, (await start(client, await deploy(client, REVIEW), {}))["id"])
    for method, path in (
        ("GET", "/api/v1/tasks/x/1"),
        ("POST", "/api/v1/tasks/x/1/claim"),
        ("POST", "/api/v1/tasks/x/1/unclaim"),
        ("POST", "/api/v1/tasks/x/1/complete"),
    ):
        answer = await client.request(method, path, json={})
        assert answer.status_code == 404 and answer.json()["detail"] == "no user task 'x/1'", path
    assign = await client.post("/api/v1/tasks/x/1/assign", json={})
    assert assign.status_code == 422 and assign.json()["errors"][0]["loc"] == ["body", "assignee"]
    async with user_client(app, "outsider", tenant="other", roles=("admin",)) as outsider:
        assert task_ids(await outsider.get("/api/v1/tasks")) == []
        assert (await outsider.get(f"/api/v1/tasks/{task['id']}")).status_code == 404
        assert (await outsider.post(f"/api/v1/tasks/{task['id']}/claim")).status_code == 404
        foreign = await outsider.post(f"/api/v1/tasks/{task['id']}/assign", json={"assignee": "x"})
        assert foreign.status_code == 404
