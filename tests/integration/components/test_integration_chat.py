"""chat.slack / chat.teams posting to a loopback server standing in for the incoming webhooks."""

from __future__ import annotations

from typing import Any

import pytest

from apg_workflow.components import BpmnError
from apg_workflow.components.builtins.integration.chat import SlackMessage, TeamsMessage
from apg_workflow.components.builtins.integration.ssrf import AddressNotAllowed

from .conftest import LoopbackHttp, RunComponent

pytestmark = pytest.mark.asyncio
HOOK = "/services/T000/B000/XXXX"


def webhook(server: LoopbackHttp, allowed: bool = True) -> dict[str, dict[str, Any]]:
    settings: dict[str, Any] = {"type": "http", "base_url": server.url(HOOK)}
    if allowed:
        settings["allowed_hosts"] = ["127.0.0.1"]
    return {"hook": settings}


async def test_slack_posts_text_and_blocks(http_server: LoopbackHttp, run_component: RunComponent) -> None:
    http_server.route(HOOK, lambda r: (200, {"Content-Type": "text/html"}, "ok"))
    out = await run_component(
        SlackMessage,
        {
            "connection": "hook",
            "text": ":package: Order *${order_id}* shipped",
            "thread_ts": "1700000000.000100",
            "blocks": [
                {"type": "section", "text": {"type": "mrkdwn", "text": "Order *${order_id}* to ${city}"}}
            ],
        },
        {"order_id": 7, "city": "Lyon"},
        connections=webhook(http_server),
    )
    assert out == {"status": 200, "response": "ok"}
    seen = http_server.received[-1]
    assert seen.method == "POST" and seen.path == HOOK
    assert seen.headers["content-type"] == "application/json"
    assert seen.json() == {
        "text": ":package: Order *7* shipped",
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Order *7* to Lyon"}}],
        "thread_ts": "1700000000.000100",
    }


async def test_slack_refusals_are_bpmn_errors(http_server: LoopbackHttp, run_component: RunComponent) -> None:
    http_server.route(HOOK, lambda r: (410, {"Content-Type": "text/plain"}, "channel_is_archived"))
    with pytest.raises(BpmnError) as caught:
        await run_component(
            SlackMessage, {"connection": "hook", "text": "hi"}, connections=webhook(http_server)
        )
    assert caught.value.code == "http-410" and "channel_is_archived" in caught.value.message
    assert "XXXX" not in caught.value.message  # the webhook URL is a secret: errors name the connection
    assert "connection 'hook'" in caught.value.message


async def test_teams_adaptive_card(http_server: LoopbackHttp, run_component: RunComponent) -> None:
    http_server.route(HOOK, lambda r: (202, {}, b""))
    out = await run_component(
        TeamsMessage,
        {
            "connection": "hook",
            "title": "New order ${order_id}",
            "text": "A customer in **${city}** ordered.",
            "facts": {"Total": "${total} EUR"},
            "link_url": "https://shop.example.com/orders/${order_id}",
        },
        {"order_id": 7, "city": "Lyon", "total": 99.5},
        connections=webhook(http_server),
    )
    assert out == {"status": 202, "response": None}
    message = http_server.received[-1].json()
    assert message["type"] == "message"
    [attachment] = message["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.4"
    assert card["body"] == [
        {"type": "TextBlock", "text": "New order 7", "weight": "Bolder", "size": "Medium", "wrap": True},
        {"type": "TextBlock", "text": "A customer in **Lyon** ordered.", "wrap": True},
        {"type": "FactSet", "facts": [{"title": "Total", "value": "99.5 EUR"}]},
    ]
    assert card["actions"] == [
        {"type": "Action.OpenUrl", "title": "Open", "url": "https://shop.example.com/orders/7"}
    ]


async def test_teams_legacy_message_card(http_server: LoopbackHttp, run_component: RunComponent) -> None:
    http_server.route(HOOK, lambda r: (200, {"Content-Type": "text/plain"}, "1"))
    await run_component(
        TeamsMessage,
        {
            "connection": "hook",
            "format": "message_card",
            "title": "Build ${n} failed",
            "text": "See the log.",
            "facts": {"Branch": "main"},
            "theme_color": "D70000",
        },
        {"n": 12},
        connections=webhook(http_server),
    )
    assert http_server.received[-1].json() == {
        "@type": "MessageCard",
        "@context": "https://schema.org/extensions",
        "summary": "Build 12 failed",
        "themeColor": "D70000",
        "title": "Build 12 failed",
        "text": "See the log.",
        "sections": [{"facts": [{"name": "Branch", "value": "main"}]}],
    }


async def test_webhooks_pass_the_ssrf_guard(http_server: LoopbackHttp, run_component: RunComponent) -> None:
    with pytest.raises(AddressNotAllowed):
        await run_component(
            SlackMessage,
            {"connection": "hook", "text": "hi"},
            connections=webhook(http_server, allowed=False),
        )
    with pytest.raises(AddressNotAllowed):
        await run_component(
            TeamsMessage,
            {"connection": "hook", "text": "hi"},
            connections=webhook(http_server, allowed=False),
        )
    assert http_server.received == []
