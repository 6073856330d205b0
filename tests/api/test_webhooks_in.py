"""Inbound webhooks over HTTP: ``/api/v1/inbound-webhooks`` configures them; ``POST /api/v1/hooks/{id}``
needs no token but a valid signature under the hook's scheme (Standard Webhooks, GitHub, Stripe, a
configured HMAC header), refuses a wrong one or a stale timestamp with 401, an unknown hook with 404,
starts an execution once per sender delivery id, and correlates a message by a key read from the
body."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI

from apg_workflow import services
from apg_workflow.components.builtins.integration.signing import new_secret, signed_headers
from apg_workflow.runtime.context import Runtime
from tests.integration.store.databases import deploy_text
from tests.integration.store.workflows import PAYMENT

pytestmark = pytest.mark.asyncio
PROBLEM = "application/problem+json"
Signer = Callable[[str, bytes, int], dict[str, str]]


def _hex(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def standard(secret: str, body: bytes, at: int) -> dict[str, str]:
    return signed_headers(
        secret, f"msg_{hashlib.md5(body).hexdigest()}", datetime.fromtimestamp(at, UTC), body
    )


def github(secret: str, body: bytes, at: int) -> dict[str, str]:
    return {"X-Hub-Signature-256": "sha256=" + _hex(secret, body), "X-GitHub-Delivery": "d-" + _hex("", body)}


def stripe(secret: str, body: bytes, at: int) -> dict[str, str]:
    return {"Stripe-Signature": f"t={at},v1={_hex(secret, f'{at}.'.encode() + body)}"}


def shop(secret: str, body: bytes, at: int) -> dict[str, str]:
    return {"X-Shop-Hmac": _hex(secret, f"{at}.".encode() + body), "X-Shop-Time": str(at)}


SCHEMES: dict[str, tuple[dict[str, Any], Signer, bool]] = {
    "standard": ({}, standard, True),
    "github": ({}, github, False),
    "stripe": ({}, stripe, True),
    "hmac-header": ({"signature_header": "X-Shop-Hmac", "timestamp_header": "X-Shop-Time"}, shop, True),
}


@pytest_asyncio.fixture
async def rt(app: FastAPI) -> Runtime:
    runtime: Runtime = app.state.runtime
    await deploy_text(runtime, PAYMENT)
    return runtime


async def make_hook(client: httpx.AsyncClient, **fields: Any) -> dict[str, Any]:
    answer = await client.post("/api/v1/inbound-webhooks", json=fields)
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


async def send(
    anonymous: httpx.AsyncClient, hook: dict[str, Any], payload: Any, headers: dict[str, str]
) -> httpx.Response:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return await anonymous.post(
        hook["url"], content=body, headers={"Content-Type": "application/json", **headers}
    )


@pytest.mark.parametrize("scheme", list(SCHEMES))
async def test_each_scheme_accepts_its_signature_and_refuses_a_wrong_or_stale_one(
    rt: Runtime, client: httpx.AsyncClient, anonymous: httpx.AsyncClient, scheme: str
) -> None:
    extra, sign, timed = SCHEMES[scheme]
    secret = new_secret()
    hook = await make_hook(client, workflow_key="order", scheme=scheme, secret=secret, **extra)
    assert hook["url"] == f"/api/v1/hooks/{hook['id']}" and hook["secret"] == secret
    body = json.dumps({"order_id": f"{scheme}-1"}).encode()
    now = int(time.time())

    accepted = await send(anonymous, hook, body, sign(secret, body, now))
    assert accepted.status_code == 202, accepted.text
    result = accepted.json()
    assert result["action"] == "start" and result["status"] == "started"
    execution = await services.get(rt, result["execution_id"])
    assert execution.workflow_key == "order"
    assert (await services.show(rt, execution.id))["variables"] == {"order_id": f"{scheme}-1"}

    wrong = await send(anonymous, hook, body, sign(new_secret(), body, now))
    assert wrong.status_code == 401 and wrong.headers["content-type"] == PROBLEM
    assert "does not match" in wrong.json()["detail"]
    unsigned = await send(anonymous, hook, body, {})
    assert unsigned.status_code == 401 and "missing" in unsigned.json()["detail"]
    if timed:
        stale = await send(anonymous, hook, body, sign(secret, body, now - 600))
        assert stale.status_code == 401 and "replay" in stale.json()["detail"]


async def test_a_resent_webhook_starts_once(
    rt: Runtime, client: httpx.AsyncClient, anonymous: httpx.AsyncClient
) -> None:
    hook = await make_hook(client, workflow_key="order")
    body = json.dumps({"order_id": "dup"}).encode()
    headers = standard(hook["secret"], body, int(time.time()))
    first = (await send(anonymous, hook, body, headers)).json()
    again = (await send(anonymous, hook, body, headers)).json()
    assert first["status"] == "started" and again["status"] == "duplicate"
    assert again["execution_id"] == first["execution_id"]


async def test_a_hook_correlates_a_message_by_a_key_in_the_body(
    rt: Runtime, client: httpx.AsyncClient, anonymous: httpx.AsyncClient
) -> None:
    waiting = await services.start(rt, "order", variables={"order_id": "A-7"})
    pointer = await make_hook(client, action="correlate", message_name="Paid", correlation_key="/order/id")
    jmes = await make_hook(client, action="correlate", message_name="Paid", correlation_key="order.id")
    body = json.dumps({"order": {"id": "A-7"}, "amount": 30}).encode()

    done = await send(anonymous, pointer, body, standard(pointer["secret"], body, int(time.time())))
    assert done.status_code == 202, done.text
    assert done.json() == {
        "action": "correlate",
        "status": "correlated",
        "execution_id": waiting.execution_id,
    }
    shown = await services.show(rt, waiting.execution_id)
    assert shown["status"] == "completed" and shown["variables"]["amount"] == 30

    other = json.dumps({"order": {"id": "B-9"}}).encode()
    buffered = await send(anonymous, jmes, other, standard(jmes["secret"], other, int(time.time())))
    assert buffered.json() == {"action": "correlate", "status": "buffered", "execution_id": None}
    keyless = json.dumps({"order": {}}).encode()
    missing = await send(anonymous, jmes, keyless, standard(jmes["secret"], keyless, int(time.time())))
    assert missing.status_code == 400 and "order.id" in missing.json()["detail"]


async def test_unknown_disabled_and_unreadable_requests_get_problems(
    rt: Runtime, client: httpx.AsyncClient, anonymous: httpx.AsyncClient
) -> None:
    unknown = await anonymous.post("/api/v1/hooks/hk_nope", content=b"{}")
    assert unknown.status_code == 404 and unknown.headers["content-type"] == PROBLEM
    hook = await make_hook(client, workflow_key="order")
    garbage = b"not json"
    refused = await send(anonymous, hook, garbage, standard(hook["secret"], garbage, int(time.time())))
    assert refused.status_code == 400 and "JSON" in refused.json()["detail"]
    no_workflow = await make_hook(client, workflow_key="no-such-workflow")
    body = b"{}"
    missing = await send(
        anonymous, no_workflow, body, standard(no_workflow["secret"], body, int(time.time()))
    )
    assert missing.status_code == 404
    await client.patch(f"/api/v1/inbound-webhooks/{hook['id']}", json={"enabled": False})
    disabled = await send(anonymous, hook, body, standard(hook["secret"], body, int(time.time())))
    assert disabled.status_code == 404


async def test_configuration_crud_and_validation(
    client: httpx.AsyncClient, anonymous: httpx.AsyncClient
) -> None:
    hook = await make_hook(
        client, workflow_key="order", scheme="github", secret="a-github-secret", description="gh"
    )
    listed = (await client.get("/api/v1/inbound-webhooks")).json()["items"]
    assert [h["id"] for h in listed] == [hook["id"]] and "secret" not in listed[0]
    changed = await client.patch(
        f"/api/v1/inbound-webhooks/{hook['id']}", json={"tolerance_seconds": 60, "secret": "another-secret"}
    )
    assert changed.status_code == 200 and changed.json()["tolerance_seconds"] == 60
    assert (await client.get(f"/api/v1/inbound-webhooks/{hook['id']}")).json()["description"] == "gh"
    assert (await anonymous.get("/api/v1/inbound-webhooks")).status_code == 401
    assert (await client.delete(f"/api/v1/inbound-webhooks/{hook['id']}")).status_code == 204
    assert (await client.get(f"/api/v1/inbound-webhooks/{hook['id']}")).status_code == 404

    for bad, words in (
        ({"action": "start"}, "workflow_key"),
        ({"action": "correlate"}, "message_name"),
        ({"workflow_key": "order", "secret": "not-a-whsec-secret"}, "whsec_"),
        ({"action": "correlate", "message_name": "Paid", "correlation_key": "order[?"}, "JMESPath"),
    ):
        answer = await client.post("/api/v1/inbound-webhooks", json=bad)
        assert answer.status_code == 400 and words in answer.json()["detail"], answer.text
    invalid = await client.post("/api/v1/inbound-webhooks", json={"scheme": "md5", "workflow_key": "order"})
    assert invalid.status_code == 422 and invalid.headers["content-type"] == PROBLEM
