"""REST v2 over HTTP, on SQLite and PostgreSQL: bulk workflow operations with per-item results, one
by one or all-or-nothing, and batches of executions."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from apg_workflow.settings import Settings
from tests.integration.store.databases import settings_for

pytestmark = pytest.mark.asyncio

BULK = "/api/v2/workflows/bulk"
BATCH = "/api/v2/workflows/execute-batch"


@pytest.fixture
def api_settings(database_url: str, tmp_path: Path) -> Settings:
    return settings_for(database_url, storage_root=tmp_path / "storage")


def flow(key: str, *, task: str = "Do it") -> dict[str, Any]:
    return {
        "id": key,
        "name": key.title(),
        "activities": [
            {"id": "start", "type": "startEvent"},
            {"id": "work", "type": "task", "name": task},
            {"id": "end", "type": "endEvent"},
        ],
        "flows": [{"from": "start", "to": "work"}, {"from": "work", "to": "end"}],
    }


BROKEN = {
    "id": "broken",
    "activities": [{"id": "s", "type": "startEvent"}],
    "flows": [{"from": "s", "to": "x"}],
}
DSL = 'WORKFLOW from_dsl "From DSL"\n  START "Go"\n  END "Done"\n'


async def _bulk(
    client: httpx.AsyncClient, operations: list[dict[str, Any]], *, atomic: bool
) -> dict[str, Any]:
    answer = await client.post(BULK, json={"operations": operations, "atomic": atomic})
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


async def test_one_by_one_each_item_has_its_result(client: httpx.AsyncClient) -> None:
    result = await _bulk(
        client,
        [
            {"op": "create", "definition": flow("alpha")},
            {"op": "create", "definition": flow("alpha")},
            {"op": "update", "workflow_id": "alpha", "definition": flow("alpha", task="Do more")},
            {"op": "deploy", "definition": flow("beta")},
            {"op": "deploy", "definition": flow("beta")},
            {"op": "create", "definition": DSL, "format": "dsl", "category": "text"},
            {"op": "create", "definition": BROKEN},
            {"op": "delete", "workflow_id": "missing"},
            {"op": "delete", "workflow_id": "beta"},
        ],
        atomic=False,
    )
    assert result["committed"] and (result["succeeded"], result["failed"]) == (6, 3)
    items = result["results"]
    failed = [i["index"] for i in items if i["status"] == "failed"]
    assert failed == [1, 6, 7] and {i["status"] for i in items} == {"succeeded", "failed"}
    assert [i["index"] for i in items] == list(range(9)) and items[2]["op"] == "update"
    assert items[0]["workflow"]["version"] == 1 and items[2]["workflow"]["version"] == 2
    assert items[1]["error"]["status"] == 409 and items[1]["error"]["type"].endswith("/conflict")
    assert items[3]["new_version"] is True and items[4]["new_version"] is False  # same definition
    assert items[5]["workflow"]["id"] == "from_dsl" and items[5]["workflow"]["category"] == "text"
    invalid = items[6]["error"]
    assert invalid["status"] == 422 and invalid["type"].endswith("/invalid-definition")
    assert invalid["errors"] and "x" in invalid["detail"] + str(invalid["errors"]), invalid
    assert items[7]["error"] == {
        "type": "https://apg-workflow.dev/problems/not-found",
        "title": "Not Found",
        "status": 404,
        "detail": "no workflow 'missing'",
        "errors": None,
    }

    assert (await client.get("/api/v1/workflows/alpha")).json()["version"] == 2
    assert (await client.get("/api/v1/workflows/beta")).status_code == 404


async def test_all_or_nothing_commits_together(client: httpx.AsyncClient) -> None:
    result = await _bulk(
        client,
        [
            {"op": "create", "definition": flow("one")},
            {"op": "deploy", "definition": flow("two")},
            {"op": "update", "workflow_id": "one", "definition": flow("one", task="Changed")},
            {"op": "delete", "workflow_id": "two"},
        ],
        atomic=True,
    )
    assert result["committed"] and [i["status"] for i in result["results"]] == ["succeeded"] * 4
    assert (await client.get("/api/v1/workflows/one")).json()["version"] == 2
    assert (await client.get("/api/v1/workflows/two")).status_code == 404
    audit = (await client.get("/api/v1/audit", params={"object_type": "workflow"})).json()["items"]
    assert [(e["action"], e["object_id"]) for e in audit] == [
        ("workflow.deleted", "two"),
        ("workflow.updated", "one"),
        ("workflow.created", "two"),
        ("workflow.created", "one"),
    ]


async def test_all_or_nothing_rolls_everything_back_and_reports_every_failure(
    client: httpx.AsyncClient,
) -> None:
    assert (await client.post("/api/v1/workflows", json=flow("kept"))).status_code == 201
    result = await _bulk(
        client,
        [
            {"op": "create", "definition": flow("first")},
            {"op": "create", "definition": BROKEN},
            {"op": "update", "workflow_id": "kept", "definition": flow("kept", task="Changed")},
            {"op": "create", "definition": flow("kept")},
            {"op": "delete", "workflow_id": "kept"},
        ],
        atomic=True,
    )
    assert not result["committed"] and (result["succeeded"], result["failed"]) == (0, 2)
    statuses = [i["status"] for i in result["results"]]
    assert statuses == ["rolled_back", "failed", "rolled_back", "failed", "rolled_back"]
    assert result["results"][3]["error"]["status"] == 409
    assert result["results"][0]["workflow"]["id"] == "first"  # what it would have been

    assert (await client.get("/api/v1/workflows/first")).status_code == 404
    kept = (await client.get("/api/v1/workflows/kept")).json()
    assert kept["version"] == 1 and kept["status"] == "active"
    audit = (await client.get("/api/v1/audit", params={"object_type": "workflow"})).json()["items"]
    assert [(e["action"], e["object_id"]) for e in audit] == [("workflow.created", "kept")]


async def test_malformed_operations_are_refused_whole(client: httpx.AsyncClient) -> None:
    x = flow("x")
    first = ["body", "operations", "0"]
    cases = [
        ([], ["body", "operations"]),
        ([{"op": "update", "definition": x}], [*first, "update", "workflow_id"]),
        ([{"op": "delete", "workflow_id": "x", "definition": x}], [*first, "delete", "definition"]),
        ([{"op": "create", "workflow_id": "x", "definition": x}], [*first, "create", "workflow_id"]),
        ([{"op": "rename", "workflow_id": "x"}], first),
        ([{"op": "create", "definition": "x", "format": "docx"}], [*first, "create", "format"]),
    ]
    for operations, loc in cases:
        answer = await client.post(BULK, json={"operations": operations})
        assert answer.status_code == 422, operations
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["errors"][0]["loc"] == loc, answer.json()


async def test_execute_batch_gives_each_start_its_result(client: httpx.AsyncClient) -> None:
    await _bulk(
        client,
        [{"op": "create", "definition": flow("job")}, {"op": "create", "definition": flow("gone")}],
        atomic=False,
    )
    assert (await client.delete("/api/v1/workflows/gone")).status_code == 204
    answer = await client.post(
        BATCH,
        json={
            "executions": [
                {"workflow_id": "job", "variables": {"n": 1}},
                {"workflow_id": "job", "business_key": "B-1"},
                {"workflow_id": "nope"},
                {"workflow_id": "job", "business_key": "B-1"},
                {"workflow_id": "gone"},
            ]
        },
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["started"], body["failed"]) == (2, 2)
    items = body["results"]
    assert [i["index"] for i in items] == [0, 1, 2, 3, 4]
    assert items[0]["status"] == "started" and items[0]["execution_status"] in ("running", "completed")
    assert items[2]["error"]["status"] == 404 and items[4]["error"]["detail"] == "no workflow 'gone'"
    # the same business key twice: the later one answers with the execution the earlier one started
    assert {items[1]["status"], items[3]["status"]} == {"started", "existing"}
    assert items[1]["execution_id"] == items[3]["execution_id"]
    shown = (await client.get(f"/api/v1/executions/{items[0]['execution_id']}")).json()
    assert shown["variables"] == {"n": 1} and shown["workflow_id"] == "job"


async def test_execute_batch_takes_a_thousand_and_refuses_more(client: httpx.AsyncClient) -> None:
    assert (await client.post("/api/v1/workflows", json=flow("many"))).status_code == 201
    too_many = await client.post(BATCH, json={"executions": [{"workflow_id": "many"}] * 1001})
    assert too_many.status_code == 422
    assert too_many.json()["errors"][0]["loc"] == ["body", "executions"]
    assert "1000" in too_many.json()["errors"][0]["message"]

    began = time.perf_counter()
    answer = await client.post(BATCH, json={"executions": [{"workflow_id": "many"}] * 1000}, timeout=120)
    elapsed = time.perf_counter() - began
    assert answer.status_code == 200 and answer.json()["started"] == 1000, answer.text[:500]
    assert len({i["execution_id"] for i in answer.json()["results"]}) == 1000
    assert elapsed < 60
