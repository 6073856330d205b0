"""Inbound webhooks: a URL per hook (``POST /api/v1/hooks/{id}``) that starts an execution of a
workflow with the JSON body as its variables, or correlates a message whose correlation key is read
from the body (a JSON pointer such as ``/order/id``, or a JMESPath such as ``order.id``).

A request is accepted only with a valid signature under the hook's scheme (see
:mod:`apg_workflow.components.builtins.integration.signing`) and, where the scheme has one, a
timestamp within the hook's tolerance. The sender's delivery id (``webhook-id``,
``X-GitHub-Delivery``, a Stripe event id, ``Idempotency-Key``; else the signature itself) is the
start's or correlation's request id, so a re-sent webhook acts once.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from datetime import datetime, timedelta
from typing import Any

import jmespath
from jmespath.exceptions import JMESPathError
from sqlalchemy.ext.asyncio import AsyncConnection

from apg_workflow.components.builtins.integration.signing import (
    SCHEMES,
    Expectation,
    Inbound,
    SignatureRejected,
    new_secret,
    standard_key,
    verify,
)
from apg_workflow.runtime.context import Runtime
from apg_workflow.security.secrets import Sealed
from apg_workflow.services.audit import audit
from apg_workflow.services.errors import ServiceError
from apg_workflow.services.executions import correlate, start
from apg_workflow.services.webhooks import open_secret, seal_secret
from apg_workflow.store import NotFound, Page
from apg_workflow.store import inbound_hooks as stored
from apg_workflow.store.inbound_hooks import HookRow

ACTIONS = ("start", "correlate")
ENCODINGS = ("hex", "base64")
_ID_HEADERS = {"standard": "webhook-id", "github": "x-github-delivery"}
_SIGNATURE_HEADERS = {
    "standard": "webhook-signature",
    "github": "x-hub-signature-256",
    "stripe": "stripe-signature",
}


class HookRejected(ServiceError):
    """A hook configuration that cannot work."""


class HookUnauthorized(ServiceError):
    """A request to a hook without a valid signature (or with a stale timestamp)."""


class HookRequestInvalid(ServiceError):
    """A signed request whose body the hook cannot act on."""


@dataclass(frozen=True, slots=True)
class HookSpec:
    """What a hook does and how its requests are signed."""

    action: str = "start"
    workflow_key: str | None = None
    message_name: str | None = None
    correlation_key: str | None = None
    scheme: str = "standard"
    signature_header: str | None = None
    signature_encoding: str | None = None
    timestamp_header: str | None = None
    tolerance_seconds: int = 300
    description: str | None = None
    enabled: bool = True


@dataclass(frozen=True, slots=True)
class Hook:
    """A hook as callers see it (never its secret)."""

    id: str
    spec: HookSpec
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: HookRow) -> Hook:
        spec = HookSpec(**{f.name: getattr(row, f.name) for f in fields(HookSpec)})
        return cls(row.id, spec, row.created_at, row.updated_at)


@dataclass(frozen=True, slots=True)
class CreatedHook:
    hook: Hook
    secret: str  # shown once


@dataclass(frozen=True, slots=True)
class HookOutcome:
    """What a request did: ``started`` (or ``duplicate``, a re-sent start) with the execution;
    ``correlated`` with the receiving execution, or ``buffered`` when none waited yet."""

    action: str
    status: str
    execution_id: str | None


def _check(spec: HookSpec, secret: str) -> HookSpec:
    if spec.action not in ACTIONS:
        raise HookRejected(f"action must be one of {', '.join(ACTIONS)}")
    if spec.action == "start" and not spec.workflow_key:
        raise HookRejected("a hook that starts executions needs the workflow_key to start")
    if spec.action == "correlate" and not spec.message_name:
        raise HookRejected("a hook that correlates messages needs the message_name")
    if spec.scheme not in SCHEMES:
        raise HookRejected(f"scheme must be one of {', '.join(SCHEMES)}")
    if spec.signature_encoding not in (None, *ENCODINGS):
        raise HookRejected(f"signature_encoding must be one of {', '.join(ENCODINGS)}")
    if not isinstance(spec.enabled, bool):
        raise HookRejected("enabled must be true or false")
    if not isinstance(spec.tolerance_seconds, int) or not 1 <= spec.tolerance_seconds <= 86_400:
        raise HookRejected("tolerance_seconds must be between 1 and 86400")
    if spec.correlation_key:
        _compile(spec.correlation_key)
    if spec.scheme == "standard":
        try:
            standard_key(secret)
        except ValueError as exc:
            raise HookRejected(str(exc)) from None
    elif len(secret) < 8:
        raise HookRejected("a signing secret has at least 8 characters")
    if spec.scheme == "hmac-header":
        return replace(
            spec,
            signature_header=spec.signature_header or "X-Signature",
            signature_encoding=spec.signature_encoding or "hex",
        )
    return replace(spec, signature_header=None, signature_encoding=None, timestamp_header=None)


def _row(rt: Runtime, hook_id: str, spec: HookSpec, secret: str, created_at: datetime) -> HookRow:
    sealed = seal_secret(rt.settings, "inbound webhook", rt.tenant, hook_id, secret)
    values = {f.name: getattr(spec, f.name) for f in fields(HookSpec)}
    return HookRow(
        id=hook_id,
        tenant_id=rt.tenant,
        key_id=sealed.key_id,
        secret=sealed.token,
        created_at=created_at,
        updated_at=rt.clock(),
        **values,
    )


async def create_hook(
    rt: Runtime, spec: HookSpec, *, secret: str | None = None, actor: str | None = None
) -> CreatedHook:
    """A new hook; the answer carries its secret (the given one, or a new ``whsec_…``) once."""
    secret = secret or new_secret()
    hook_id = f"hk_{secrets.token_urlsafe(18)}"
    row = _row(rt, hook_id, _check(spec, secret), secret, rt.clock())

    async def work(conn: AsyncConnection) -> None:
        await stored.insert_hook_txn(conn, row)
        await audit(conn, rt, actor, "inbound_webhook.created", "inbound_webhook", hook_id, _details(row))

    await rt.db.transaction(work)
    return CreatedHook(Hook.of(row), secret)


def _details(row: HookRow) -> dict[str, Any]:
    return {"action": row.action, "workflow_key": row.workflow_key, "scheme": row.scheme}


async def get_hook(rt: Runtime, hook_id: str) -> Hook:
    return Hook.of(await rt.db.read(lambda conn: stored.get_hook(conn, rt.tenant, hook_id)))


async def list_hooks(rt: Runtime, *, limit: int = 50, cursor: str | None = None) -> Page[Hook]:
    page = await rt.db.read(lambda conn: stored.list_hooks(conn, rt.tenant, limit=limit, cursor=cursor))
    return Page(tuple(Hook.of(row) for row in page.items), page.next_cursor)


async def update_hook(
    rt: Runtime,
    hook_id: str,
    changes: Mapping[str, Any],
    *,
    secret: str | None = None,
    actor: str | None = None,
) -> Hook:
    """Change the fields of :class:`HookSpec` named in ``changes`` (and the secret, when given)."""
    unknown = set(changes) - {f.name for f in fields(HookSpec)}
    if unknown:
        raise HookRejected(f"unknown hook field(s): {', '.join(sorted(unknown))}")

    async def work(conn: AsyncConnection) -> HookRow:
        current = await stored.get_hook(conn, rt.tenant, hook_id)
        kept = secret or open_secret(
            rt.settings, "inbound webhook", rt.tenant, hook_id, Sealed(current.key_id, current.secret)
        )
        spec = _check(replace(Hook.of(current).spec, **changes), kept)
        row = _row(rt, hook_id, spec, kept, current.created_at)
        await stored.update_hook_txn(conn, rt.tenant, hook_id, row.to_row())
        details = _details(row) | {"secret_changed": secret is not None}
        await audit(conn, rt, actor, "inbound_webhook.updated", "inbound_webhook", hook_id, details)
        return row

    return Hook.of(await rt.db.transaction(work))


async def delete_hook(rt: Runtime, hook_id: str, *, actor: str | None = None) -> None:
    async def work(conn: AsyncConnection) -> None:
        await stored.delete_hook_txn(conn, rt.tenant, hook_id)
        await audit(conn, rt, actor, "inbound_webhook.deleted", "inbound_webhook", hook_id)

    await rt.db.transaction(work)


# Receiving ----------------------------------------------------------------------------------------


async def receive(rt: Runtime, hook_id: str, headers: Mapping[str, str], body: bytes) -> HookOutcome:
    """Act on a request to the hook's URL. ``rt`` need not be scoped: the hook names its tenant.
    Raises ``NotFound`` (unknown or disabled hook), :class:`HookUnauthorized` (signature) or
    :class:`HookRequestInvalid` (body)."""
    row = await rt.db.read(lambda conn: stored.find_hook(conn, hook_id))
    if not row.enabled:
        raise NotFound("inbound webhook", hook_id)
    hook = Hook.of(row).spec
    secret = open_secret(
        rt.settings, "inbound webhook", row.tenant_id, row.id, Sealed(row.key_id, row.secret)
    )
    request = Inbound({k.lower(): v for k, v in headers.items()}, body, rt.clock())
    expectation = Expectation(
        scheme=hook.scheme,
        secret=secret,
        tolerance=timedelta(seconds=hook.tolerance_seconds),
        header=hook.signature_header,
        encoding=hook.signature_encoding or "hex",
        timestamp_header=hook.timestamp_header,
    )
    try:
        verify(expectation, request)
    except SignatureRejected as exc:
        raise HookUnauthorized(f"inbound webhook '{hook_id}': {exc.message}") from None
    payload = _json(body)
    variables = payload if isinstance(payload, dict) else {"payload": payload}
    request_id = _request_id(row, request, payload)
    scoped = rt.for_tenant(row.tenant_id)
    if hook.action == "start":
        assert hook.workflow_key is not None
        started = await start(scoped, hook.workflow_key, variables=variables, request_id=request_id)
        return HookOutcome("start", "started" if started.created else "duplicate", started.execution_id)
    assert hook.message_name is not None
    key = _correlation_key(hook.correlation_key, payload) if hook.correlation_key else None
    receiver = await correlate(
        scoped, hook.message_name, correlation_key=key, variables=variables, request_id=request_id
    )
    return HookOutcome("correlate", "correlated" if receiver else "buffered", receiver)


def _json(body: bytes) -> Any:
    if not body.strip():
        return {}
    try:
        return json.loads(body)
    except ValueError:
        raise HookRequestInvalid("the body of an inbound webhook must be JSON") from None


def _request_id(row: HookRow, request: Inbound, payload: Any) -> str:
    ident = request.headers.get(_ID_HEADERS.get(row.scheme, ""), "")
    if (
        not ident
        and row.scheme == "stripe"
        and isinstance(payload, dict)
        and isinstance(payload.get("id"), str)
    ):
        ident = payload["id"]
    ident = ident or request.headers.get("idempotency-key", "")
    if not ident:  # the signature covers the body (and the timestamp): the same one is the same request
        header = _SIGNATURE_HEADERS.get(row.scheme) or (row.signature_header or "").lower()
        ident = hashlib.sha256(request.headers.get(header, "").encode()).hexdigest()
    key = f"hook:{row.id}:{ident}"
    return key if len(key) <= 255 else f"hook:{row.id}:{hashlib.sha256(ident.encode()).hexdigest()}"


def _compile(expression: str) -> Any:
    if expression.startswith("/"):
        return None
    try:
        return jmespath.compile(expression)
    except JMESPathError as exc:
        raise HookRejected(
            f"correlation_key '{expression}' is neither a JSON pointer nor JMESPath: {exc}"
        ) from None


def _correlation_key(expression: str, payload: Any) -> str:
    """The value ``expression`` picks from the body, as text."""
    if expression.startswith("/"):
        value = _pointer(expression, payload)
    else:
        value = _compile(expression).search(payload)
    if value is None or isinstance(value, dict | list):
        raise HookRequestInvalid(f"the correlation key '{expression}' finds no text or number in the body")
    return value if isinstance(value, str) else json.dumps(value)


def _pointer(pointer: str, document: Any) -> Any:
    """RFC 6901: ``/a/0/b``, with ``~1`` for ``/`` and ``~0`` for ``~``; ``None`` when absent."""
    value = document
    for token in pointer[1:].split("/"):
        token = token.replace("~1", "/").replace("~0", "~")
        if isinstance(value, dict) and token in value:
            value = value[token]
        elif isinstance(value, list) and token.isdigit() and int(token) < len(value):
            value = value[int(token)]
        else:
            return None
    return value


__all__ = [
    "ACTIONS",
    "CreatedHook",
    "Hook",
    "HookOutcome",
    "HookRejected",
    "HookRequestInvalid",
    "HookSpec",
    "HookUnauthorized",
    "create_hook",
    "delete_hook",
    "get_hook",
    "list_hooks",
    "receive",
    "update_hook",
]
