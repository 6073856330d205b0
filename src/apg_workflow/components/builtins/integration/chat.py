"""Chat components: post a message to a Slack or Microsoft Teams incoming webhook.

The webhook URL carries its own secret, so it lives in an ``http`` connection (as ``base_url``), never
in a workflow. Messages go through the family's HTTP client: SSRF guard, retries, size cap.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import Field

from apg_workflow.components.base import Component, ComponentContext
from apg_workflow.components.builtins.integration.http import HttpCallConfig, call
from apg_workflow.components.builtins.integration.http_client import HttpRequest
from apg_workflow.components.builtins.integration.support import render

INPUTS = {
    "type": "object",
    "description": "Variables that `${name}` placeholders in the configuration refer to.",
}
OUTPUTS = {
    "type": "object",
    "properties": {
        "status": {"type": "integer", "description": "the webhook's HTTP status"},
        "response": {"description": "what the webhook answered (e.g. `ok`)"},
    },
}
WEBHOOK_DESCRIPTION = "Name of an `http` connection whose `base_url` is the incoming-webhook URL."


async def post(
    context: ComponentContext, config: HttpCallConfig, payload: Mapping[str, Any]
) -> dict[str, Any]:
    result = await call(context, config, HttpRequest("POST", "", json_body=dict(payload)), config.policy())
    result.raise_for_status()
    return {"status": result.status, "response": result.body}


class SlackConfig(HttpCallConfig):
    connection: str = Field(description=WEBHOOK_DESCRIPTION)  # type: ignore[assignment]
    text: str = Field(
        description="The message, in Slack mrkdwn (`*bold*`, `<https://…|link>`); placeholders allowed. With "
        "blocks it is the notification fallback."
    )
    blocks: list[dict[str, Any]] | None = Field(
        None, description="Block Kit blocks for a richer layout (placeholders allowed inside)."
    )
    thread_ts: str | None = Field(None, description="Reply in the thread of this message timestamp.")
    username: str | None = Field(None, description="Display name override (legacy webhooks only).")
    icon_emoji: str | None = Field(
        None, description="Icon override such as `:robot_face:` (legacy webhooks only)."
    )


class SlackMessage(Component[SlackConfig]):
    type = "chat.slack"
    category = "integration"
    title = "Slack message"
    description = (
        "Posts a message (text, optionally Block Kit blocks) to a Slack incoming webhook. A refusal such as "
        "`invalid_payload` or `channel_is_archived` raises the BPMN error `http-<status>`."
    )
    Config = SlackConfig
    inputs = INPUTS
    outputs = OUTPUTS
    idempotent = False
    examples = (
        {
            "config": {"connection": "slack-ops", "text": ":package: Order *${order_id}* shipped to ${city}"},
            "inputs": {"order_id": 7, "city": "Lyon"},
            "outputs": {"status": 200, "response": "ok"},
        },
    )

    async def run(
        self, context: ComponentContext, config: SlackConfig, inputs: Mapping[str, Any]
    ) -> Mapping[str, Any]:
        payload: dict[str, Any] = {"text": str(render(config.text, inputs, "text"))}
        if config.blocks:
            payload["blocks"] = render(config.blocks, inputs, "blocks")
        for key in ("thread_ts", "username", "icon_emoji"):
            if getattr(config, key):
                payload[key] = getattr(config, key)
        return await post(context, config, payload)


class TeamsConfig(HttpCallConfig):
    connection: str = Field(description=WEBHOOK_DESCRIPTION)  # type: ignore[assignment]
    format: Literal["adaptive_card", "message_card"] = Field(
        "adaptive_card",
        description="`adaptive_card` for Teams Workflows (Power Automate) webhooks; `message_card` for the "
        "legacy Office 365 connector webhooks.",
    )
    title: str | None = Field(None, description="A bold heading (placeholders allowed).")
    text: str = Field(description="The message, Markdown allowed (placeholders allowed).")
    facts: dict[str, Any] = Field(
        default_factory=dict, description='Name/value pairs shown as a table, e.g. {"Order": "${order_id}"}.'
    )
    link_url: str | None = Field(None, description="A button opening this URL (placeholders allowed).")
    link_title: str = Field("Open", description="The button's label.")
    theme_color: str = Field(
        "0076D7", pattern=r"^[0-9A-Fa-f]{6}$", description="Accent colour (message_card)."
    )


def adaptive_card(
    title: str | None, text: str, facts: dict[str, str], link: tuple[str, str] | None
) -> dict[str, Any]:
    body: list[dict[str, Any]] = []
    if title:
        body.append({"type": "TextBlock", "text": title, "weight": "Bolder", "size": "Medium", "wrap": True})
    body.append({"type": "TextBlock", "text": text, "wrap": True})
    if facts:
        body.append({"type": "FactSet", "facts": [{"title": k, "value": v} for k, v in facts.items()]})
    card: dict[str, Any] = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": body,
    }
    if link:
        card["actions"] = [{"type": "Action.OpenUrl", "title": link[0], "url": link[1]}]
    return {
        "type": "message",
        "attachments": [
            {"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None, "content": card}
        ],
    }


def message_card(
    title: str | None, text: str, facts: dict[str, str], link: tuple[str, str] | None, color: str
) -> dict[str, Any]:
    card: dict[str, Any] = {
        "@type": "MessageCard",
        "@context": "https://schema.org/extensions",
        "summary": (title or text)[:80],
        "themeColor": color,
        "text": text,
    }
    if title:
        card["title"] = title
    if facts:
        card["sections"] = [{"facts": [{"name": k, "value": v} for k, v in facts.items()]}]
    if link:
        card["potentialAction"] = [
            {"@type": "OpenUri", "name": link[0], "targets": [{"os": "default", "uri": link[1]}]}
        ]
    return card


class TeamsMessage(Component[TeamsConfig]):
    type = "chat.teams"
    category = "integration"
    title = "Microsoft Teams message"
    description = (
        "Posts a card (title, text, facts, a link button) to a Microsoft Teams incoming webhook: an Adaptive "
        "Card for Workflows webhooks, or a MessageCard for legacy connector webhooks."
    )
    Config = TeamsConfig
    inputs = INPUTS
    outputs = OUTPUTS
    idempotent = False
    examples = (
        {
            "config": {
                "connection": "teams-sales",
                "title": "New order ${order_id}",
                "text": "A customer in **${city}** placed an order.",
                "facts": {"Total": "${total} EUR"},
                "link_url": "https://shop.example.com/orders/${order_id}",
            },
            "inputs": {"order_id": 7, "city": "Lyon", "total": 99.5},
            "outputs": {"status": 202, "response": None},
        },
    )

    async def run(
        self, context: ComponentContext, config: TeamsConfig, inputs: Mapping[str, Any]
    ) -> Mapping[str, Any]:
        title = None if config.title is None else str(render(config.title, inputs, "title"))
        text = str(render(config.text, inputs, "text"))
        facts = {str(k): str(v) for k, v in render(config.facts, inputs, "facts").items()}
        link = (
            None
            if config.link_url is None
            else (config.link_title, str(render(config.link_url, inputs, "link_url")))
        )
        if config.format == "adaptive_card":
            payload = adaptive_card(title, text, facts, link)
        else:
            payload = message_card(title, text, facts, link, config.theme_color)
        return await post(context, config, payload)


COMPONENTS = (SlackMessage, TeamsMessage)
