"""redis.get / set / publish against the real Redis server."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
import redis.asyncio as aioredis

from apg_workflow.components import BpmnError, RetryableError
from apg_workflow.components.builtins.integration.redis import RedisGet, RedisPublish, RedisSet

from .conftest import RunComponent

pytestmark = [pytest.mark.asyncio, pytest.mark.redis]


@pytest_asyncio.fixture
async def redis_client(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.from_url(redis_url)
    yield client
    await client.aclose()


@pytest.fixture
def prefix() -> str:
    return f"apg-test:{uuid.uuid4().hex[:8]}"


def cache(redis_url: str) -> dict[str, dict[str, Any]]:
    return {"cache": {"type": "redis", "url": redis_url}}


async def test_set_then_get_text_and_json(
    run_component: RunComponent, redis_url: str, redis_client: aioredis.Redis, prefix: str
) -> None:
    order = {"id": 7, "status": "paid"}
    out = await run_component(
        RedisSet,
        {"connection": "cache", "key": prefix + ":order:${order.id}", "value": "${order}"},
        {"order": order},
        connections=cache(redis_url),
    )
    assert out == {"key": f"{prefix}:order:7", "stored": True}
    assert json.loads(await redis_client.get(f"{prefix}:order:7")) == order
    got = await run_component(
        RedisGet,
        {"connection": "cache", "key": f"{prefix}:order:7", "decode": "json"},
        connections=cache(redis_url),
    )
    assert got == {"key": f"{prefix}:order:7", "value": order, "found": True}
    await redis_client.set(f"{prefix}:greeting", "héllo")
    text = await run_component(
        RedisGet, {"connection": "cache", "key": f"{prefix}:greeting"}, connections=cache(redis_url)
    )
    assert text["value"] == "héllo"
    await redis_client.delete(f"{prefix}:order:7", f"{prefix}:greeting")


async def test_ttl_and_conditional_writes(
    run_component: RunComponent, redis_url: str, redis_client: aioredis.Redis, prefix: str
) -> None:
    key = f"{prefix}:lock"
    first = await run_component(
        RedisSet,
        {"connection": "cache", "key": key, "value": "a", "ttl_seconds": 30, "only_if": "missing"},
        connections=cache(redis_url),
    )
    second = await run_component(
        RedisSet,
        {"connection": "cache", "key": key, "value": "b", "only_if": "missing"},
        connections=cache(redis_url),
    )
    assert (first["stored"], second["stored"]) == (True, False)
    assert await redis_client.get(key) == b"a"
    assert 0 < await redis_client.pttl(key) <= 30_000
    absent = await run_component(
        RedisSet,
        {"connection": "cache", "key": f"{prefix}:absent", "value": "x", "only_if": "exists"},
        connections=cache(redis_url),
    )
    assert absent["stored"] is False
    await run_component(
        RedisSet,
        {"connection": "cache", "key": f"{prefix}:short", "value": "x", "ttl_seconds": 0.05},
        connections=cache(redis_url),
    )
    await asyncio.sleep(0.1)
    gone = await run_component(
        RedisGet, {"connection": "cache", "key": f"{prefix}:short"}, connections=cache(redis_url)
    )
    assert gone == {"key": f"{prefix}:short", "value": None, "found": False}
    with pytest.raises(BpmnError) as caught:
        await run_component(
            RedisGet,
            {"connection": "cache", "key": f"{prefix}:short", "fail_if_missing": True},
            connections=cache(redis_url),
        )
    assert caught.value.code == "redis-key-not-found"
    await redis_client.delete(key)


async def test_publish_reaches_subscribers(
    run_component: RunComponent, redis_url: str, redis_client: aioredis.Redis, prefix: str
) -> None:
    channel = f"{prefix}:orders"
    pubsub = redis_client.pubsub()
    await pubsub.subscribe(channel)
    await pubsub.get_message(timeout=1)  # the subscription confirmation
    out = await run_component(
        RedisPublish,
        {"connection": "cache", "channel": channel, "message": {"event": "paid", "id": "${id}"}},
        {"id": 7},
        connections=cache(redis_url),
    )
    assert out == {"channel": channel, "receivers": 1}
    message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=2)
    assert message is not None and json.loads(message["data"]) == {"event": "paid", "id": 7}
    await pubsub.aclose()


async def test_an_unreachable_server_is_transient(run_component: RunComponent) -> None:
    with pytest.raises(RetryableError, match="unreachable"):
        await run_component(
            RedisGet,
            {"connection": "cache", "key": "k"},
            connections={"cache": {"type": "redis", "url": "redis://127.0.0.1:1/0"}},
        )
