"""http.webhook signs with its connection's ``webhook_secret`` so that a receiver using the
``standardwebhooks`` library accepts what it sends (and refuses it under another secret)."""

from __future__ import annotations

import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from apg_workflow.components import ConfigurationError
from apg_workflow.components.builtins.integration.http import WebhookComponent
from apg_workflow.components.builtins.integration.signing import new_secret

from .conftest import LoopbackHttp, RunComponent

pytestmark = pytest.mark.asyncio


def partner(server: LoopbackHttp, secret: str) -> dict[str, dict[str, object]]:
    return {
        "partner": {
            "type": "http",
            "base_url": server.url("/in"),
            "allowed_hosts": ["127.0.0.1"],
            "webhook_secret": secret,
        }
    }


async def test_the_webhook_component_signs_per_standard_webhooks(
    http_server: LoopbackHttp, run_component: RunComponent
) -> None:
    http_server.route("/in/orders", lambda r: (202, {}, b""))
    secret = new_secret()
    config = {"connection": "partner", "url": "/orders", "event": "order.shipped", "payload": "${order}"}
    out = await run_component(
        WebhookComponent,
        config,
        {"order": {"id": 7}},
        connections=partner(http_server, secret),
        job_id="job-5",
    )
    assert out == {"delivered": True, "status": 202, "webhook_id": "job-5"}
    seen = http_server.received[-1]
    event = Webhook(secret).verify(seen.body, seen.headers)
    assert event["type"] == "order.shipped" and event["data"] == {"id": 7}
    assert seen.headers["webhook-id"] == "job-5"
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(seen.body, seen.headers)


async def test_a_malformed_webhook_secret_is_a_configuration_error(
    http_server: LoopbackHttp, run_component: RunComponent
) -> None:
    with pytest.raises(ConfigurationError, match="webhook_secret"):
        await run_component(
            WebhookComponent,
            {"connection": "partner", "url": "/orders", "event": "order.shipped"},
            connections=partner(http_server, "whsec_***not base64***"),
        )
    assert http_server.received == []
