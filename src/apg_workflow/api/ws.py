"""``/ws``: live events over a WebSocket, fed by the process's outbox tail
(:mod:`apg_workflow.runtime.events`).

The protocol (JSON text messages; docs/websocket.md has the whole of it):

- authenticate with ``?token=<access token or API key>`` or, as the first message,
  ``{"type": "auth", "token": "…"}`` (within ``AUTH_SECONDS``); a failure closes with 4401;
- ``{"type": "subscribe", "topic": "executions" | "workflows" | "tasks", "id"?, "execution_id"?,
  "workflow_id"?, "events"?: [names], "replay"?: bool}`` → ``{"type": "subscribed", "id", …}``;
- ``{"type": "unsubscribe", "id"}`` → ``{"type": "unsubscribed", "id"}``;
- ``{"type": "ping"}`` → ``{"type": "pong"}``;
- events arrive as ``{"type": "event", "subscription", "id", "event", "execution_id",
  "workflow_key", "data", "created_at"}``, in id order within an execution;
- a bad message answers ``{"type": "error", "code", "message"}`` and the connection stays open;
  a reader too slow for its events is closed with 1013.

Only the caller's tenant's events are ever sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError
from starlette.websockets import WebSocketState

from apg_workflow.api.deps import Caller, credential_caller
from apg_workflow.runtime.context import Runtime
from apg_workflow.runtime.events import (
    EventBus,
    Match,
    Subscription,
    SubscriptionDropped,
    event_bus,
    event_message,
    execution_topic,
    task_topic,
    workflow_topic,
)
from apg_workflow.runtime.webhooks import check_event_patterns
from apg_workflow.security.identity import AuthenticationError
from apg_workflow.services import executions
from apg_workflow.store import NotFound

log = logging.getLogger(__name__)

router = APIRouter(tags=["live"])

AUTH_SECONDS = 10.0
MAX_SUBSCRIPTIONS = 100
CLOSE_UNAUTHENTICATED = 4401
CLOSE_TOO_SLOW = 1013  # "try again later"


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Auth(_Message):
    type: Literal["auth"]
    token: str = Field(min_length=1, max_length=4096)


class Subscribe(_Message):
    type: Literal["subscribe"]
    topic: Literal["executions", "workflows", "tasks"]
    id: str | None = Field(None, min_length=1, max_length=100, description="Yours; made up when absent.")
    execution_id: str | None = Field(None, max_length=255)
    workflow_id: str | None = Field(None, max_length=255, description="A workflow key.")
    events: list[str] | None = Field(None, max_length=50)
    replay: bool = Field(False, description="With execution_id: its past events first.")


class Unsubscribe(_Message):
    type: Literal["unsubscribe"]
    id: str


class Ping(_Message):
    type: Literal["ping"]
    data: Any = None


ClientMessage = TypeAdapter(Annotated[Auth | Subscribe | Unsubscribe | Ping, Field(discriminator="type")])


class BadMessage(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def parse(text: str) -> Auth | Subscribe | Unsubscribe | Ping:
    """A client message, or :class:`BadMessage` saying what is wrong with it."""
    try:
        return ClientMessage.validate_json(text)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "message"
        raise BadMessage("invalid-message", f"{where}: {first['msg']}") from None


async def authenticate(websocket: WebSocket, rt: Runtime, token: str | None) -> Caller | None:
    """The caller, from the ``token`` query parameter or a first ``auth`` message; ``None`` after
    closing the socket with 4401."""
    try:
        if token is None:
            async with asyncio.timeout(AUTH_SECONDS):
                first = parse(await websocket.receive_text())
            if not isinstance(first, Auth):
                raise AuthenticationError('authenticate first: {"type": "auth", "token": "…"}')
            token = first.token
        return await credential_caller(rt, token)
    except (AuthenticationError, BadMessage, TimeoutError) as exc:
        reason = "authentication timed out" if isinstance(exc, TimeoutError) else str(exc)
        await websocket.close(CLOSE_UNAUTHENTICATED, reason[:120])
        return None


class Session:
    """One authenticated connection: its subscriptions, each with a task forwarding its events."""

    def __init__(self, websocket: WebSocket, caller: Caller, rt: Runtime, bus: EventBus) -> None:
        self.websocket = websocket
        self.caller = caller
        self.rt = rt
        self.bus = bus
        self.pumps: dict[str, tuple[Subscription, asyncio.Task[None]]] = {}
        self._send = asyncio.Lock()

    async def send(self, message: dict[str, Any]) -> None:
        async with self._send:
            await self.websocket.send_text(json.dumps(message, separators=(",", ":"), default=str))

    async def run(self) -> None:
        await self.send({"type": "ready", "user": self.caller.username, "tenant": self.caller.tenant_id})
        try:
            while True:
                text = await self.websocket.receive_text()
                try:
                    await self.handle(parse(text))
                except BadMessage as exc:
                    await self.send({"type": "error", "code": exc.code, "message": exc.message})
        except (WebSocketDisconnect, RuntimeError):  # gone, or closed by a pump
            pass
        finally:
            for sub, pump in self.pumps.values():
                sub.close()
                pump.cancel()

    async def handle(self, message: Auth | Subscribe | Unsubscribe | Ping) -> None:
        if isinstance(message, Ping):
            await self.send({"type": "pong", "data": message.data})
        elif isinstance(message, Subscribe):
            await self.subscribe(message)
        elif isinstance(message, Unsubscribe):
            found = self.pumps.pop(message.id, None)
            if found is None:
                raise BadMessage("unknown-subscription", f"no subscription '{message.id}'")
            found[0].close()
            await self.send({"type": "unsubscribed", "id": message.id})
        else:
            raise BadMessage("invalid-message", "already authenticated")

    async def subscribe(self, message: Subscribe) -> None:
        sub_id = message.id or uuid.uuid4().hex[:12]
        if sub_id in self.pumps:
            raise BadMessage("duplicate-subscription", f"subscription '{sub_id}' exists; unsubscribe first")
        if len(self.pumps) >= MAX_SUBSCRIPTIONS:
            raise BadMessage("too-many-subscriptions", f"at most {MAX_SUBSCRIPTIONS} per connection")
        sub = await self.open(message)
        self.pumps[sub_id] = (sub, asyncio.create_task(self.pump(sub_id, sub)))
        details = message.model_dump(exclude={"type", "id"}, exclude_none=True)
        await self.send({"type": "subscribed", "id": sub_id, **details})

    async def open(self, message: Subscribe) -> Subscription:
        tenant = self.caller.tenant_id
        if message.events is not None:
            try:
                check_event_patterns(message.events)
            except ValueError as exc:
                raise BadMessage("invalid-message", f"events: {exc}") from None
        if message.replay and (message.topic != "executions" or message.execution_id is None):
            raise BadMessage("invalid-message", "replay needs topic 'executions' and an execution_id")
        if message.topic == "executions" and message.execution_id is not None:
            try:
                await executions.get(self.rt, message.execution_id)
            except NotFound:
                raise BadMessage("not-found", f"no execution '{message.execution_id}'") from None
            return await self.bus.subscribe_execution(
                tenant, message.execution_id, message.events, replay=message.replay
            )
        return self.bus.subscribe(tenant, self.topic(message))

    def topic(self, message: Subscribe) -> Match:
        if message.topic == "executions":
            return execution_topic(None, message.events)
        if message.topic == "workflows":
            return workflow_topic(message.workflow_id, message.events)
        me = self.caller
        return task_topic((me.username, me.user_id), me.groups, message.events)

    async def pump(self, sub_id: str, sub: Subscription) -> None:
        try:
            async for event in sub:
                await self.send({**event_message(event), "subscription": sub_id})
        except SubscriptionDropped as exc:
            await self.close(CLOSE_TOO_SLOW if exc.reason.startswith("too slow") else 1001, exc.reason)
        except (WebSocketDisconnect, RuntimeError, OSError):  # the client went away meanwhile
            sub.close()

    async def close(self, code: int, reason: str) -> None:
        if self.websocket.application_state != WebSocketState.DISCONNECTED:
            with contextlib.suppress(RuntimeError, WebSocketDisconnect):
                await self.websocket.close(code, reason[:120])


@router.websocket("/ws")
async def live_events(websocket: WebSocket, token: str | None = None) -> None:
    """Live events of the caller's tenant (see the module's documentation for the protocol)."""
    await websocket.accept()
    rt: Runtime = websocket.app.state.runtime
    caller = await authenticate(websocket, rt, token)
    if caller is None:
        return
    await Session(websocket, caller, rt.for_tenant(caller.tenant_id), event_bus(rt)).run()


__all__ = ["router"]
