"""``Idempotency-Key`` on mutating calls: a retry replays the first answer, a reused key with another
request is refused, 5xx answers are not kept, and two identical requests at once do the work once."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from apg_workflow.api.idempotency import Idempotency
from apg_workflow.services import auth
from tests.api.conftest import token_for
from tests.api.test_bulk import flow

pytestmark = pytest.mark.asyncio


def keyed(key: str, **headers: str) -> dict[str, str]:
    return {"Idempotency-Key": key, **headers}


async def _created_audits(client: httpx.AsyncClient) -> list[Any]:
    return list((await client.get("/api/v1/audit", params={"action": "workflow.created"})).json()["items"])


async def test_a_retry_replays_the_first_answer(client: httpx.AsyncClient) -> None:
    first = await client.post("/api/v1/workflows", json=flow("once"), headers=keyed("k-1"))
    assert first.status_code == 201 and "idempotent-replayed" not in first.headers
    again = await client.post("/api/v1/workflows", json=flow("once"), headers=keyed("k-1"))
    assert again.status_code == 201 and again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    assert again.headers["location"] == first.headers["location"] == "/api/v1/workflows/once"
    assert again.headers["content-type"] == "application/json"
    assert len(await _created_audits(client)) == 1  # the work was done once

    fresh = await client.post("/api/v1/workflows", json=flow("once"), headers=keyed("k-2"))
    assert fresh.status_code == 409  # a new key is a new request

    deleted = await client.delete("/api/v1/workflows/once", headers=keyed("k-3"))
    replayed = await client.delete("/api/v1/workflows/once", headers=keyed("k-3"))
    assert deleted.status_code == replayed.status_code == 204 and replayed.content == b""


async def test_client_errors_are_kept_too(client: httpx.AsyncClient) -> None:
    broken = {"activities": [{"id": "s", "type": "startEvent"}], "flows": [{"from": "s", "to": "x"}]}
    first = await client.post("/api/v1/workflows", json=broken, headers=keyed("bad-1"))
    again = await client.post("/api/v1/workflows", json=broken, headers=keyed("bad-1"))
    assert first.status_code == again.status_code == 422
    assert again.headers["content-type"] == "application/problem+json" and again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"


async def test_a_key_reused_for_another_request_is_refused(app: FastAPI, client: httpx.AsyncClient) -> None:
    assert (await client.post("/api/v1/workflows", json=flow("a"), headers=keyed("k"))).status_code == 201
    other_body = await client.post("/api/v1/workflows", json=flow("b"), headers=keyed("k"))
    assert other_body.status_code == 422
    assert other_body.headers["content-type"] == "application/problem+json"
    assert other_body.json()["type"] == "https://apg-workflow.dev/problems/idempotency-key-reuse"
    other_path = await client.post("/api/v1/workflows/a/execute", json={}, headers=keyed("k"))
    assert other_path.status_code == 422

    rt = app.state.runtime
    await auth.create_user(rt, "hal", "hal-password")
    hal = {"Authorization": f"Bearer {await token_for(client, 'hal', 'hal-password')}"}
    same_tenant = await client.post("/api/v1/workflows", json=flow("a"), headers=keyed("k", **hal))
    assert same_tenant.status_code == 422  # another caller cannot read someone else's answer

    await auth.create_user(rt.for_tenant("other"), "ivy", "ivy-password")
    ivy = {"Authorization": f"Bearer {await token_for(client, 'ivy', 'ivy-password')}"}
    other_tenant = await client.post("/api/v1/workflows", json=flow("a"), headers=keyed("k", **ivy))
    assert other_tenant.status_code == 201  # keys are per tenant


async def test_server_errors_are_not_kept(app: FastAPI, admin_token: str) -> None:
    calls: list[int] = []

    async def flaky() -> dict[str, int]:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("the first try fails")
        return {"calls": len(calls)}

    app.add_api_route("/api/v1/flaky", flaky, methods=["POST"])
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)  # answer 500 as a server does
    headers = keyed("f", Authorization=f"Bearer {admin_token}")
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test", headers=headers) as client:
        failed = await client.post("/api/v1/flaky")
        assert failed.status_code == 500
        retried = await client.post("/api/v1/flaky")
        assert retried.status_code == 200 and retried.json() == {"calls": 2}
        replayed = await client.post("/api/v1/flaky")
        assert replayed.json() == {"calls": 2} and len(calls) == 2


async def test_two_identical_requests_at_once_do_the_work_once(client: httpx.AsyncClient) -> None:
    answers = await asyncio.gather(
        *(client.post("/api/v1/workflows", json=flow("race"), headers=keyed("same")) for _ in range(5))
    )
    assert [a.status_code for a in answers] == [201] * 5
    assert sum("idempotent-replayed" in a.headers for a in answers) == 4
    assert len({a.text for a in answers}) == 1 and len(await _created_audits(client)) == 1


async def test_a_request_still_in_progress_answers_409_after_the_wait(app: FastAPI, admin_token: str) -> None:
    release = asyncio.Event()

    async def slow(request: Request) -> JSONResponse:
        await release.wait()
        return JSONResponse({"done": True}, status_code=201)

    inner = Starlette(
        routes=[Route("/api/slow", slow, methods=["POST"])],
        middleware=[Middleware(Idempotency, wait_seconds=0.2)],
    )
    inner.state.runtime = app.state.runtime
    headers = keyed("slow", Authorization=f"Bearer {admin_token}")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=inner), base_url="http://t") as c:
        first = asyncio.create_task(c.post("/api/slow", headers=headers))
        await asyncio.sleep(0.05)
        busy = await c.post("/api/slow", headers=headers)
        assert busy.status_code == 409 and busy.headers["retry-after"] == "1"
        assert busy.json()["type"].endswith("/request-in-progress")
        release.set()
        assert (await first).status_code == 201
        assert (await c.post("/api/slow", headers=headers)).headers["idempotent-replayed"] == "true"


async def test_what_the_header_does_not_touch(
    anonymous: httpx.AsyncClient, client: httpx.AsyncClient
) -> None:
    anonymous_call = await anonymous.post("/api/v1/workflows", json=flow("x"), headers=keyed("a"))
    assert anonymous_call.status_code == 401  # no caller: the handler answers as usual

    too_long = await client.post("/api/v1/workflows", json=flow("x"), headers=keyed("k" * 256))
    assert too_long.status_code == 422 and "Idempotency-Key" in too_long.json()["detail"]

    read = await client.get("/api/v1/workflows", headers=keyed("r"))
    assert read.status_code == 200 and "idempotent-replayed" not in read.headers
    created = await client.post("/api/v1/workflows", json=flow("x"), headers=keyed("r"))
    assert created.status_code == 201  # the GET kept nothing under that key
