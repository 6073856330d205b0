"""``/messages`` (correlate by name and key, buffered when nothing waits, start events, retried with
an ``Idempotency-Key``) and ``/signals`` (broadcast), on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.api.test_executions import (  # noqa: F401  (api_settings: both dialects)
    api_settings,
    deploy,
    finished,
    start,
    user_client,
)

pytestmark = pytest.mark.asyncio


def waiting_for(key: str, trigger: dict[str, Any], **declared: Any) -> dict[str, Any]:
    """start → a catch event with ``trigger`` → end."""
    return {
        "id": key,
        "name": key,
        "activities": [
            {"id": "start", "type": "startEvent"},
            {"id": "wait", "type": "intermediateCatchEvent", **trigger},
            {"id": "end", "type": "endEvent"},
        ],
        "flows": [{"from": "start", "to": "wait"}, {"from": "wait", "to": "end"}],
        **declared,
    }


def started_by(key: str, trigger: dict[str, Any], **declared: Any) -> dict[str, Any]:
    return {
        "id": key,
        "name": key,
        "activities": [{"id": "start", "type": "startEvent", **trigger}, {"id": "end", "type": "endEvent"}],
        "flows": [{"from": "start", "to": "end"}],
        **declared,
    }


PAYMENT = waiting_for(
    "payment",
    {"message": {"ref": "paid", "correlation_key": "order_id"}},
    messages=[{"id": "paid", "name": "PaymentReceived"}],
)
ORDER = started_by("order", {"message": "placed"}, messages=[{"id": "placed", "name": "OrderPlaced"}])
ALARM = [{"id": "alarm", "name": "Alarm"}]


async def correlate(client: httpx.AsyncClient, body: dict[str, Any], **headers: str) -> dict[str, Any]:
    answer = await client.post("/api/v1/messages", json=body, headers=headers)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


async def status_of(client: httpx.AsyncClient, execution_id: str) -> str:
    return str((await client.get(f"/api/v1/executions/{execution_id}")).json()["status"])


async def test_a_message_reaches_the_execution_with_its_key(client: httpx.AsyncClient) -> None:
    key = await deploy(client, PAYMENT)
    first = await start(client, key, {"order_id": "A-1"})
    second = await start(client, key, {"order_id": "A-2"})

    body = {"name": "PaymentReceived", "correlation_key": "A-2", "variables": {"amount": 5}}
    assert await correlate(client, body) == {"execution_id": second["id"], "buffered": False}
    assert (await finished(client, second["id"]))["variables"] == {"order_id": "A-2", "amount": 5}
    assert await status_of(client, first["id"]) == "running"


async def test_a_message_nobody_waits_for_is_buffered(client: httpx.AsyncClient) -> None:
    key = await deploy(client, PAYMENT)
    body = {"name": "PaymentReceived", "correlation_key": "B-1", "variables": {"amount": 7}}
    assert await correlate(client, body) == {"execution_id": None, "buffered": True}
    later = await start(client, key, {"order_id": "B-1"})
    assert (await finished(client, later["id"]))["variables"]["amount"] == 7


async def test_a_message_start_event_starts_once_per_idempotency_key(client: httpx.AsyncClient) -> None:
    await deploy(client, ORDER)
    body = {"name": "OrderPlaced", "variables": {"order_id": "C-1"}}
    first = await correlate(client, body, **{"Idempotency-Key": "order-C-1"})
    assert first["execution_id"] is not None and first["buffered"] is False
    again = await correlate(client, body, **{"Idempotency-Key": "order-C-1"})
    assert again == first
    listed = (await client.get("/api/v1/executions", params={"workflow_id": "order"})).json()["items"]
    assert [e["id"] for e in listed] == [first["execution_id"]]
    other = await correlate(client, body, **{"Idempotency-Key": "order-C-2"})
    assert other["execution_id"] not in (None, first["execution_id"])


async def test_a_signal_reaches_every_waiting_execution(client: httpx.AsyncClient) -> None:
    waiting = await deploy(client, waiting_for("watch", {"signal": "alarm"}, signals=ALARM))
    await deploy(client, started_by("respond", {"signal": "alarm"}, signals=ALARM))
    watchers = [(await start(client, waiting, {"n": n}))["id"] for n in range(2)]

    answer = await client.post("/api/v1/signals", json={"name": "Alarm", "variables": {"level": 3}})
    assert answer.status_code == 200 and answer.json() == {"delivered": 3}
    for execution_id in watchers:
        assert (await finished(client, execution_id))["variables"]["level"] == 3
    started = (await client.get("/api/v1/executions", params={"workflow_id": "respond"})).json()["items"]
    assert len(started) == 1
    quiet = await client.post("/api/v1/signals", json={"name": "Nothing"})
    assert quiet.json() == {"delivered": 0}


async def test_bad_bodies_are_precise_problems(client: httpx.AsyncClient) -> None:
    for path, body, where in (
        ("/api/v1/messages", {"correlation_key": "x"}, ["body", "name"]),
        ("/api/v1/messages", {"name": ""}, ["body", "name"]),
        ("/api/v1/messages", {"name": "m", "variables": [1]}, ["body", "variables"]),
        ("/api/v1/signals", {"name": "s", "variables": "x"}, ["body", "variables"]),
        ("/api/v1/signals", {}, ["body", "name"]),
    ):
        answer = await client.post(path, json=body)
        assert answer.status_code == 422, body
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["errors"][0]["loc"] == where
    broken = await client.post("/api/v1/messages", content=b"{", headers={"content-type": "application/json"})
    assert broken.status_code == 422


async def test_messages_and_signals_stay_in_their_tenant(app: FastAPI, client: httpx.AsyncClient) -> None:
    payment = await start(client, await deploy(client, PAYMENT), {"order_id": "D-1"})
    watcher = await start(
        client, await deploy(client, waiting_for("watch", {"signal": "alarm"}, signals=ALARM)), {}
    )
    async with user_client(app, "outsider", tenant="other") as outsider:
        body = {"name": "PaymentReceived", "correlation_key": "D-1"}
        assert await correlate(outsider, body) == {"execution_id": None, "buffered": True}
        assert (await outsider.post("/api/v1/signals", json={"name": "Alarm"})).json() == {"delivered": 0}
    assert await status_of(client, payment["id"]) == "running"
    assert await status_of(client, watcher["id"]) == "running"


async def test_variables_must_be_json_numbers(client: httpx.AsyncClient) -> None:
    """Python's JSON reader takes NaN and Infinity; the API refuses them before they reach the store."""
    for path, body in (
        ("/api/v1/messages", b'{"name": "PaymentReceived", "variables": {"x": NaN}}'),
        ("/api/v1/signals", b'{"name": "Alarm", "variables": {"x": [1, {"y": Infinity}]}}'),
        ("/api/v1/tasks/x/1/complete", b'{"variables": {"x": -Infinity}}'),
        ("/api/v1/incidents/x/1/retry", b'{"variables": {"x": NaN}}'),
        ("/api/v1/executions/x/retry", b'{"variables": {"x": NaN}}'),
    ):
        answer = await client.post(path, content=body, headers={"content-type": "application/json"})
        assert answer.status_code == 422, path
        assert answer.json()["errors"][0]["loc"] == ["body", "variables"]
        assert "NaN and Infinity are not JSON" in answer.json()["errors"][0]["message"]
