"""Redis components: read a key, write a key (with a time to live), publish on a channel."""

from __future__ import annotations

import base64
import json
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Literal, TypeVar

import redis.asyncio as aioredis
from pydantic import Field
from redis import exceptions as redis_errors

from apg_workflow.components.base import Component, ComponentConfig, ComponentContext
from apg_workflow.components.builtins.integration.support import connection_settings, render
from apg_workflow.components.errors import BpmnError, ConfigurationError, RetryableError

T = TypeVar("T")
INPUTS = {
    "type": "object",
    "description": "Variables that `${name}` placeholders in the configuration refer to.",
}
CONNECTION_DESCRIPTION = (
    "Name of a `redis` connection (its `url`, e.g. `redis://host:6379/0` or `rediss://…`)."
)
KEY_DESCRIPTION = "The key; `${name}` placeholders are filled from the inputs, e.g. `session:${user_id}`."


async def with_redis(
    context: ComponentContext, connection: str, action: Callable[[aioredis.Redis], Awaitable[T]]
) -> T:
    url = str(connection_settings(context, connection, "redis", ("url",))["url"])
    try:
        client = aioredis.from_url(url, socket_timeout=10, socket_connect_timeout=10)
    except ValueError:
        raise ConfigurationError(f"connection '{connection}' does not hold a valid Redis URL") from None
    try:
        return await action(client)
    except redis_errors.AuthenticationError:
        raise ConfigurationError(f"Redis refused the credentials of connection '{connection}'") from None
    except (redis_errors.ConnectionError, redis_errors.TimeoutError) as exc:
        raise RetryableError(f"Redis is unreachable through connection '{connection}': {exc}") from None
    except redis_errors.ResponseError as exc:
        raise ConfigurationError(f"Redis refused the command: {exc}") from None
    finally:
        await client.aclose()


def encode(value: Any) -> str:
    """Strings are stored as they are; anything else as JSON."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)


class RedisGetConfig(ComponentConfig):
    connection: str = Field(description=CONNECTION_DESCRIPTION)
    key: str = Field(description=KEY_DESCRIPTION)
    decode: Literal["text", "json", "base64"] = Field(
        "text",
        description="How to read the value: UTF-8 text, JSON (e.g. written by redis.set), or base64 bytes.",
    )
    fail_if_missing: bool = Field(
        False,
        description="Raise the BPMN error `redis-key-not-found` for a missing key instead of returning null.",
    )


class RedisGet(Component[RedisGetConfig]):
    type = "redis.get"
    category = "integration"
    title = "Redis: get a key"
    description = "Reads a string key from Redis; `found` tells whether it existed."
    Config = RedisGetConfig
    inputs = INPUTS
    outputs = {
        "type": "object",
        "properties": {
            "key": {"type": "string"},
            "value": {"description": "the decoded value, null when the key is missing"},
            "found": {"type": "boolean"},
        },
    }
    examples = (
        {
            "config": {"connection": "cache", "key": "rate:${customer_id}", "decode": "json"},
            "inputs": {"customer_id": 42},
            "outputs": {"key": "rate:42", "value": {"tier": "gold", "discount": 0.1}, "found": True},
        },
    )

    async def run(
        self, context: ComponentContext, config: RedisGetConfig, inputs: Mapping[str, Any]
    ) -> Mapping[str, Any]:
        key = encode(render(config.key, inputs, "key"))
        raw: bytes | None = await with_redis(context, config.connection, lambda client: client.get(key))
        if raw is None:
            if config.fail_if_missing:
                raise BpmnError("redis-key-not-found", f"the Redis key '{key}' does not exist")
            return {"key": key, "value": None, "found": False}
        if config.decode == "base64":
            return {"key": key, "value": base64.b64encode(raw).decode("ascii"), "found": True}
        try:
            text = raw.decode("utf-8")
            value = json.loads(text) if config.decode == "json" else text
        except ValueError as exc:
            raise BpmnError(
                "redis-bad-value", f"the value of '{key}' is not {config.decode}: {exc}"
            ) from None
        return {"key": key, "value": value, "found": True}


class RedisSetConfig(ComponentConfig):
    connection: str = Field(description=CONNECTION_DESCRIPTION)
    key: str = Field(description=KEY_DESCRIPTION)
    value: Any = Field(
        description="The value: a string as it is, anything else stored as JSON. Placeholders allowed."
    )
    ttl_seconds: float | None = Field(
        None, gt=0, le=10 * 365 * 86400, description="Expire the key after this many seconds (none: keep it)."
    )
    only_if: Literal["always", "missing", "exists"] = Field(
        "always", description="Write always, only when the key is missing (NX), or only when it exists (XX)."
    )


class RedisSet(Component[RedisSetConfig]):
    type = "redis.set"
    category = "integration"
    title = "Redis: set a key"
    description = (
        "Writes a string key to Redis, optionally with a time to live and only if missing / existing."
    )
    Config = RedisSetConfig
    inputs = INPUTS
    outputs = {
        "type": "object",
        "properties": {
            "key": {"type": "string"},
            "stored": {"type": "boolean", "description": "false when only_if prevented the write"},
        },
    }
    examples = (
        {
            "config": {
                "connection": "cache",
                "key": "order:${order.id}",
                "value": "${order}",
                "ttl_seconds": 3600,
            },
            "inputs": {"order": {"id": 7, "status": "paid"}},
            "outputs": {"key": "order:7", "stored": True},
        },
    )

    async def run(
        self, context: ComponentContext, config: RedisSetConfig, inputs: Mapping[str, Any]
    ) -> Mapping[str, Any]:
        key = encode(render(config.key, inputs, "key"))
        value = encode(render(config.value, inputs, "value"))
        ttl_ms = None if config.ttl_seconds is None else max(1, round(config.ttl_seconds * 1000))
        stored = await with_redis(
            context,
            config.connection,
            lambda client: client.set(
                key, value, px=ttl_ms, nx=config.only_if == "missing", xx=config.only_if == "exists"
            ),
        )
        return {"key": key, "stored": bool(stored)}


class RedisPublishConfig(ComponentConfig):
    connection: str = Field(description=CONNECTION_DESCRIPTION)
    channel: str = Field(description="The channel; placeholders allowed, e.g. `orders.${region}`.")
    message: Any = Field(
        description="The message: a string as it is, anything else as JSON. Placeholders allowed."
    )


class RedisPublish(Component[RedisPublishConfig]):
    type = "redis.publish"
    category = "integration"
    title = "Redis: publish a message"
    description = (
        "Publishes a message on a Redis pub/sub channel; `receivers` counts the subscribers that got it."
    )
    Config = RedisPublishConfig
    inputs = INPUTS
    outputs = {
        "type": "object",
        "properties": {"channel": {"type": "string"}, "receivers": {"type": "integer"}},
    }
    idempotent = False
    examples = (
        {
            "config": {
                "connection": "cache",
                "channel": "orders",
                "message": {"event": "paid", "id": "${id}"},
            },
            "inputs": {"id": 7},
            "outputs": {"channel": "orders", "receivers": 2},
        },
    )

    async def run(
        self, context: ComponentContext, config: RedisPublishConfig, inputs: Mapping[str, Any]
    ) -> Mapping[str, Any]:
        channel = encode(render(config.channel, inputs, "channel"))
        message = encode(render(config.message, inputs, "message"))
        receivers = await with_redis(
            context, config.connection, lambda client: client.publish(channel, message)
        )
        return {"channel": channel, "receivers": int(receivers)}


COMPONENTS = (RedisGet, RedisSet, RedisPublish)
