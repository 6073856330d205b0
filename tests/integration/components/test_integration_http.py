"""http.request, http.graphql and http.webhook against a real HTTP server on loopback."""

from __future__ import annotations

import base64
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

import pytest

from apg_workflow.components import BpmnError, ConfigurationError, RetryableError
from apg_workflow.components.builtins.integration.http import (
    GraphqlComponent,
    HttpRequestComponent,
    WebhookComponent,
)

from .conftest import LoopbackHttp, Received, RunComponent

pytestmark = pytest.mark.asyncio


def api(server: LoopbackHttp, **extra: Any) -> dict[str, dict[str, Any]]:
    """An ``http`` connection to the loopback server, which the SSRF guard must be told to allow."""
    return {"api": {"type": "http", "base_url": server.url("/v1"), "allowed_hosts": ["127.0.0.1"], **extra}}


class Sleeps(list[float]):
    async def __call__(self, seconds: float) -> None:
        self.append(seconds)


async def test_get_sends_params_headers_and_idempotency_key_and_decodes_json(
    http_server: LoopbackHttp, run_component: RunComponent
) -> None:
    http_server.route("/v1/customers/42", lambda r: (200, {"X-Trace": "t1"}, {"id": 42, "name": "Ada"}))
    out = await run_component(
        HttpRequestComponent,
        {
            "connection": "api",
            "url": "/customers/${id}",
            "params": {"expand": "${what}", "tag": ["a", "b"]},
            "headers": {"Accept": "application/json"},
        },
        {"id": 42, "what": "orders"},
        connections=api(http_server),
        job_id="job-77",
    )
    assert out["status"] == 200
    assert out["body"] == {"id": 42, "name": "Ada"}
    assert out["body_encoding"] == "json"
    assert out["headers"]["x-trace"] == "t1"
    assert out["attempts"] == 1
    seen = http_server.received[-1]
    assert seen.query == {"expand": ["orders"], "tag": ["a", "b"]}
    assert seen.headers["idempotency-key"] == "job-77"
    assert seen.headers["accept"] == "application/json"


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"])
async def test_every_method_reaches_the_server(
    http_server: LoopbackHttp, run_component: RunComponent, method: str
) -> None:
    out = await run_component(
        HttpRequestComponent,
        {"connection": "api", "method": method, "url": "/echo"},
        connections=api(http_server),
    )
    assert out["status"] == 200
    assert http_server.received[-1].method == method
    if method != "HEAD":
        assert out["body"]["method"] == method


async def test_json_body_keeps_input_types_and_text_body_is_sent_raw(
    http_server: LoopbackHttp, run_component: RunComponent
) -> None:
    order = {"sku": "A-1", "quantity": 2, "gift": False}
    await run_component(
        HttpRequestComponent,
        {
            "connection": "api",
            "method": "POST",
            "url": "/orders",
            "json": {"order": "${order}", "note": "n ${n}"},
        },
        {"order": order, "n": 3},
        connections=api(http_server),
    )
    assert http_server.received[-1].json() == {"order": order, "note": "n 3"}
    await run_component(
        HttpRequestComponent,
        {
            "connection": "api",
            "method": "PUT",
            "url": "/doc",
            "body": "<a>${v}</a>",
            "headers": {"Content-Type": "application/xml"},
        },
        {"v": "x"},
        connections=api(http_server),
    )
    assert http_server.received[-1].body == b"<a>x</a>"
    assert http_server.received[-1].headers["content-type"] == "application/xml"


@pytest.mark.parametrize(
    ("auth", "header", "expected"),
    [
        ({"kind": "bearer", "token": "s3cret"}, "authorization", "Bearer s3cret"),
        (
            {"kind": "basic", "username": "ada", "password": "pw"},
            "authorization",
            "Basic " + base64.b64encode(b"ada:pw").decode(),
        ),
        ({"kind": "api_key", "header": "X-Api-Key", "value": "k-1"}, "x-api-key", "k-1"),
    ],
)
async def test_connection_credentials_are_sent(
    http_server: LoopbackHttp, run_component: RunComponent, auth: dict[str, str], header: str, expected: str
) -> None:
    await run_component(
        HttpRequestComponent,
        {"connection": "api", "url": "/me"},
        connections=api(http_server, auth=auth, headers={"X-Tenant": "acme"}),
    )
    seen = http_server.received[-1]
    assert seen.headers[header] == expected
    assert seen.headers["x-tenant"] == "acme"


async def test_oauth2_client_credentials_token_is_fetched_once_and_renewed_after_a_401(
    http_server: LoopbackHttp, run_component: RunComponent
) -> None:
    issued: list[str] = []

    def token(request: Received) -> tuple[int, dict[str, str], Any]:
        form = {k: v[0] for k, v in parse_qs(request.body.decode()).items()}
        assert form == {
            "grant_type": "client_credentials",
            "client_id": "app",
            "client_secret": "cs",
            "scope": "orders:read",
        }
        issued.append(f"tok-{len(issued) + 1}")
        return 200, {}, {"access_token": issued[-1], "token_type": "bearer", "expires_in": 3600}

    revoked = {"tok-1"}

    def orders(request: Received) -> tuple[int, dict[str, str], Any]:
        granted = request.headers["authorization"].removeprefix("Bearer ")
        return (401, {}, {"error": "revoked"}) if granted in revoked else (200, {}, {"token": granted})

    http_server.route("/oauth/token", token)
    http_server.route("/v1/orders", orders)
    auth = {
        "kind": "oauth2_client_credentials",
        "token_url": http_server.url("/oauth/token"),
        "client_id": "app",
        "client_secret": "cs",
        "scope": "orders:read",
    }
    connections = api(http_server, auth=auth)
    revoked.clear()
    first = await run_component(
        HttpRequestComponent, {"connection": "api", "url": "/orders"}, connections=connections
    )
    second = await run_component(
        HttpRequestComponent, {"connection": "api", "url": "/orders"}, connections=connections
    )
    assert first["body"] == second["body"] == {"token": "tok-1"}
    assert issued == ["tok-1"]
    revoked.add("tok-1")
    third = await run_component(
        HttpRequestComponent, {"connection": "api", "url": "/orders"}, connections=connections
    )
    assert third["body"] == {"token": "tok-2"}
    assert issued == ["tok-1", "tok-2"]


def flaky(failures: list[tuple[int, dict[str, str]]]):  # type: ignore[no-untyped-def]
    def handler(request: Received) -> tuple[int, dict[str, str], Any]:
        if failures:
            status, headers = failures.pop(0)
            return status, headers, {"error": "busy"}
        return 200, {}, {"ok": True}

    return handler


async def test_429_and_503_are_retried_honouring_retry_after(
    http_server: LoopbackHttp, run_component: RunComponent
) -> None:
    http_server.route(
        "/v1/busy", flaky([(429, {"Retry-After": "3"}), (503, {}), (502, {"Retry-After": "0"})])
    )
    sleeps = Sleeps()
    out = await run_component(
        HttpRequestComponent,
        {"connection": "api", "url": "/busy", "retries": 3},
        connections=api(http_server),
        sleeper=sleeps,
    )
    assert out["status"] == 200
    assert out["attempts"] == 4
    assert sleeps == [3.0, 1.0, 0.0]  # Retry-After, then backoff 0.5 * 2, then Retry-After: 0


async def test_retries_exhausted_or_a_long_retry_after_hand_over_to_the_retry_policy(
    http_server: LoopbackHttp, run_component: RunComponent
) -> None:
    http_server.route("/v1/down", lambda r: (503, {}, "down"))
    http_server.route("/v1/later", lambda r: (429, {"Retry-After": "600"}, "slow down"))
    sleeps = Sleeps()
    with pytest.raises(RetryableError, match=r"HTTP 503 .*after 2 attempts"):
        await run_component(
            HttpRequestComponent,
            {"connection": "api", "url": "/down", "retries": 1},
            connections=api(http_server),
            sleeper=sleeps,
        )
    with pytest.raises(RetryableError, match="429"):
        await run_component(
            HttpRequestComponent,
            {"connection": "api", "url": "/later"},
            connections=api(http_server),
            sleeper=sleeps,
        )
    assert sleeps == [0.5]
    assert [r.path for r in http_server.received] == ["/v1/down", "/v1/down", "/v1/later"]


async def test_retry_after_as_http_date_and_deadline_are_honoured(
    http_server: LoopbackHttp, run_component: RunComponent
) -> None:
    soon = datetime.now(UTC) + timedelta(seconds=5)
    http_server.route("/v1/date", flaky([(503, {"Retry-After": soon.strftime("%a, %d %b %Y %H:%M:%S GMT")})]))
    sleeps = Sleeps()
    await run_component(
        HttpRequestComponent,
        {"connection": "api", "url": "/date"},
        connections=api(http_server),
        sleeper=sleeps,
    )
    assert len(sleeps) == 1 and 2 <= sleeps[0] <= 5
    http_server.route("/v1/flaky", flaky([(503, {"Retry-After": "5"})]))
    with pytest.raises(RetryableError):
        await run_component(
            HttpRequestComponent,
            {"connection": "api", "url": "/flaky"},
            connections=api(http_server),
            sleeper=sleeps,
            deadline=datetime.now(UTC) + timedelta(seconds=2),
        )


async def test_client_errors_raise_bpmn_errors_unless_disabled(
    http_server: LoopbackHttp, run_component: RunComponent
) -> None:
    http_server.route("/v1/missing", lambda r: (404, {}, {"error": "no such customer"}))
    with pytest.raises(BpmnError) as caught:
        await run_component(
            HttpRequestComponent, {"connection": "api", "url": "/missing"}, connections=api(http_server)
        )
    assert caught.value.code == "http-404"
    assert "no such customer" in caught.value.message
    out = await run_component(
        HttpRequestComponent,
        {"connection": "api", "url": "/missing", "raise_for_status": False},
        connections=api(http_server),
    )
    assert out["status"] == 404
    assert out["body"] == {"error": "no such customer"}


async def test_timeouts_are_transient(http_server: LoopbackHttp, run_component: RunComponent) -> None:
    http_server.route("/v1/slow", lambda r: (time.sleep(1), (200, {}, "late"))[1])
    with pytest.raises(RetryableError, match="timed out"):
        await run_component(
            HttpRequestComponent,
            {"connection": "api", "url": "/slow", "timeout": 0.2, "retries": 0},
            connections=api(http_server),
        )


async def test_response_size_is_capped_and_binary_bodies_come_back_as_base64(
    http_server: LoopbackHttp, run_component: RunComponent
) -> None:
    http_server.route("/v1/big", lambda r: (200, {"Content-Type": "text/plain"}, "x" * 5000))
    http_server.route("/v1/png", lambda r: (200, {"Content-Type": "image/png"}, b"\x89PNG\x00\x01"))
    with pytest.raises(BpmnError) as caught:
        await run_component(
            HttpRequestComponent,
            {"connection": "api", "url": "/big", "max_response_bytes": 1000},
            connections=api(http_server),
        )
    assert caught.value.code == "http-response-too-large"
    out = await run_component(
        HttpRequestComponent, {"connection": "api", "url": "/png"}, connections=api(http_server)
    )
    assert out["body_encoding"] == "base64"
    assert base64.b64decode(out["body"]) == b"\x89PNG\x00\x01"


async def test_redirects_are_followed_and_credentials_stay_with_their_origin(
    http_server: LoopbackHttp, run_component: RunComponent
) -> None:
    elsewhere = http_server.url("/landing", host="localhost")
    http_server.route("/v1/moved", lambda r: (302, {"Location": "/v1/new"}, ""))
    http_server.route("/v1/new", lambda r: (303, {"Location": elsewhere}, ""))
    out = await run_component(
        HttpRequestComponent,
        {"connection": "api", "method": "POST", "url": "/moved", "json": {"a": 1}},
        connections=api(
            http_server, auth={"kind": "bearer", "token": "t"}, allowed_hosts=["127.0.0.1", "localhost"]
        ),
    )
    assert out["url"] == elsewhere
    moved, new, landing = http_server.received
    assert (moved.method, new.method, landing.method) == ("POST", "GET", "GET")
    assert new.headers["authorization"] == "Bearer t"
    assert "authorization" not in landing.headers
    assert landing.body == b""
    http_server.route("/v1/loop", lambda r: (307, {"Location": "/v1/loop"}, ""))
    with pytest.raises(BpmnError, match="redirected more than 2 times"):
        await run_component(
            HttpRequestComponent,
            {"connection": "api", "url": "/loop", "max_redirects": 2},
            connections=api(http_server),
        )


async def test_bad_configuration_is_reported_clearly(
    http_server: LoopbackHttp, run_component: RunComponent
) -> None:
    with pytest.raises(ConfigurationError, match="either json or body"):
        await run_component(HttpRequestComponent, {"url": "http://x", "json": {}, "body": "x"})
    with pytest.raises(ConfigurationError, match=r"\$\{customer\}, which the inputs lack"):
        await run_component(
            HttpRequestComponent, {"connection": "api", "url": "/c/${customer}"}, connections=api(http_server)
        )
    with pytest.raises(ConfigurationError, match="unknown auth kind 'digest'"):
        await run_component(
            HttpRequestComponent,
            {"connection": "api", "url": "/x"},
            connections=api(http_server, auth={"kind": "digest"}),
        )
    with pytest.raises(ConfigurationError, match="relative URL"):
        await run_component(HttpRequestComponent, {"url": "/no-base"})
    with pytest.raises(ConfigurationError, match="invalid header"):
        await run_component(
            HttpRequestComponent, {"url": "http://x", "headers": {"X-A": "${v}"}}, {"v": "1\r\nX-Injected: 1"}
        )
    with pytest.raises(ConfigurationError, match="query parameter 'q'"):
        await run_component(HttpRequestComponent, {"url": "http://x", "params": {"q": {"nested": 1}}})
    with pytest.raises(ConfigurationError, match="only absolute http"):
        await run_component(HttpRequestComponent, {"url": "file:///etc/passwd"})


async def test_graphql_returns_data_and_raises_on_errors(
    http_server: LoopbackHttp, run_component: RunComponent
) -> None:
    def graphql(request: Received) -> tuple[int, dict[str, str], Any]:
        payload = request.json()
        if payload["variables"]["login"] == "ghost":
            return 200, {}, {"data": None, "errors": [{"message": "user not found"}]}
        return 200, {}, {"data": {"user": {"name": payload["variables"]["login"].title()}}}

    http_server.route("/v1/graphql", graphql)
    config = {
        "connection": "api",
        "url": "/graphql",
        "operation_name": "U",
        "query": "query U($login: String!) { user(login: $login) { name } }",
        "variables": {"login": "${login}"},
    }
    out = await run_component(GraphqlComponent, config, {"login": "ada"}, connections=api(http_server))
    assert out == {"data": {"user": {"name": "Ada"}}, "errors": [], "status": 200}
    sent = http_server.received[-1].json()
    assert sent["operationName"] == "U" and sent["query"].startswith("query U")
    with pytest.raises(BpmnError) as caught:
        await run_component(GraphqlComponent, config, {"login": "ghost"}, connections=api(http_server))
    assert caught.value.code == "graphql-error"
    out = await run_component(
        GraphqlComponent,
        {**config, "fail_on_errors": False},
        {"login": "ghost"},
        connections=api(http_server),
    )
    assert out["errors"] == [{"message": "user not found"}]


async def test_webhook_posts_a_standard_webhooks_event(
    http_server: LoopbackHttp, run_component: RunComponent
) -> None:
    http_server.route("/v1/hooks", lambda r: (204, {}, b""))
    out = await run_component(
        WebhookComponent,
        {"connection": "api", "url": "/hooks", "event": "order.shipped", "payload": {"order": "${order}"}},
        {"order": {"id": 9}},
        connections=api(http_server),
        job_id="job-9",
    )
    assert out == {"delivered": True, "status": 204, "webhook_id": "job-9"}
    seen = http_server.received[-1]
    event = seen.json()
    assert event["type"] == "order.shipped" and event["data"] == {"order": {"id": 9}}
    assert event["timestamp"].endswith("Z")
    assert seen.headers["webhook-id"] == "job-9"
    assert abs(int(seen.headers["webhook-timestamp"]) - time.time()) < 60
