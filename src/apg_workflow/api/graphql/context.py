"""Who is asking and with what: the GraphQL context of a request or of a subscription connection.

Over HTTP the caller comes from the same credentials as REST (``Authorization: Bearer …`` with an
access token or API key, or ``X-API-Key``); an operation without them answers 401 like every other
``/api`` route, while a plain ``GET`` (the GraphiQL page) needs none. Over WebSocket
(graphql-transport-ws) it comes from the ``connection_init`` payload
``{"Authorization": "Bearer …"}``; a connection without valid credentials is refused (4403).

The context also holds the request's DataLoaders, so that a list asking each item for its
statistics makes one batched query, not one per item.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

from starlette.requests import HTTPConnection
from strawberry.dataloader import DataLoader
from strawberry.exceptions import ConnectionRejectionError
from strawberry.fastapi import BaseContext

from apg_workflow.api.deps import Caller, credential_caller
from apg_workflow.api.routes.executions import ExecutionOut, execution_out
from apg_workflow.runtime.context import Runtime
from apg_workflow.security.identity import AuthenticationError
from apg_workflow.services import workflows

Stats = tuple[int, float | None]


class Context(BaseContext):
    """The application's runtime, the caller (once known) and the loaders of one request."""

    def __init__(self, runtime: Runtime, caller: Caller | None = None) -> None:
        super().__init__()
        self.app_runtime = runtime
        self.caller = caller
        self.stats: DataLoader[int, Stats] = DataLoader(load_fn=self._load_stats)
        self.executions: DataLoader[str, ExecutionOut] = DataLoader(load_fn=self._load_executions)

    @property
    def me(self) -> Caller:
        if self.caller is None:
            raise AuthenticationError("authentication required")
        return self.caller

    @property
    def rt(self) -> Runtime:
        """The runtime scoped to the caller's tenant: every read and change goes through it."""
        return self.app_runtime.for_tenant(self.me.tenant_id)

    async def _load_stats(self, workflow_ids: Sequence[int]) -> list[Stats]:
        found = await workflows.stats(self.rt, list(workflow_ids))
        return [found.get(i, (0, None)) for i in workflow_ids]

    async def _load_executions(self, execution_ids: Sequence[str]) -> list[ExecutionOut | BaseException]:
        rt = self.rt
        return list(
            await asyncio.gather(*(execution_out(rt, i) for i in execution_ids), return_exceptions=True)
        )


def credential_of(values: Mapping[str, Any]) -> str | None:
    """The token or API key in headers or a ``connection_init`` payload (any key case)."""
    lowered = {str(k).lower(): v for k, v in values.items()}
    key = lowered.get("x-api-key")
    if isinstance(key, str) and key:
        return key
    header = lowered.get("authorization")
    if isinstance(header, str):
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
    return None


def _asks_an_operation(connection: HTTPConnection) -> bool:
    return connection.scope.get("method") != "GET" or "query" in connection.query_params


async def context_of(connection: HTTPConnection) -> Context:
    """The context of an HTTP request (authenticated now) or a WebSocket (at ``connection_init``)."""
    rt: Runtime = connection.app.state.runtime
    if connection.scope["type"] == "websocket":
        return Context(rt)
    credential = credential_of(connection.headers)
    if credential is None:
        if _asks_an_operation(connection):
            raise AuthenticationError(
                "authentication required: send 'Authorization: Bearer <token>' or an 'X-API-Key' header"
            )
        return Context(rt)
    return Context(rt, await credential_caller(rt, credential))


async def accept_connection(context: Context) -> None:
    """Authenticate a subscription connection from its ``connection_init`` payload."""
    params = context.connection_params if isinstance(context.connection_params, dict) else {}
    credential = credential_of(params)
    if credential is None:
        hint = 'send {"Authorization": "Bearer <token>"} in connection_init'
        raise ConnectionRejectionError({"message": hint})
    try:
        context.caller = await credential_caller(context.app_runtime, credential)
    except AuthenticationError as exc:
        raise ConnectionRejectionError({"message": str(exc)}) from None


__all__ = ["Context", "accept_connection", "context_of", "credential_of"]
