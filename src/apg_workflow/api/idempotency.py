"""``Idempotency-Key`` for every mutating call under ``/api``: a retried request gets the answer the
first one got instead of doing the work again.

When a POST, PUT, PATCH or DELETE carries the header and its caller authenticates, the answer is
kept for that key in the caller's tenant (2xx and 4xx answers, except 429; a 5xx answer is not an
answer, so a retry does the work). The same key again with the same method, path, query, body and
caller replays the kept answer with ``Idempotent-Replayed: true``; with anything different it is
refused (422 ``idempotency-key-reuse``). Two identical requests at once in one process: the second
waits for the first and replays its answer (409 ``request-in-progress`` after ``wait_seconds``).
Requests without a credential pass through untouched (their handler answers 401, or verifies a
signature, as inbound webhooks do)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from apg_workflow.api.deps import Caller, credential_caller
from apg_workflow.api.problems import problem_response
from apg_workflow.runtime.context import Runtime
from apg_workflow.security.identity import AuthenticationError
from apg_workflow.store.identity import KeptResponse, find_response, keep_response

log = logging.getLogger(__name__)

MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
PREFIX = "/api/"
MAX_KEY_LENGTH = 255
MAX_KEPT_BYTES = 1024 * 1024  # larger answers are sent but not kept
REPLAYED_HEADER = (b"idempotent-replayed", b"true")
_KEPT_HEADERS = ("content-type", "location")


@dataclass(frozen=True, slots=True)
class Answer:
    """A response as kept: status, the headers worth replaying, and the body."""

    status: int
    headers: dict[str, str]
    body: bytes

    def keepable(self) -> bool:
        return self.status < 500 and self.status != 429

    def envelope(self) -> str:
        return json.dumps({"headers": self.headers, "body": self.body.decode("utf-8")})

    @classmethod
    def from_kept(cls, kept: KeptResponse) -> Answer:
        data = json.loads(kept.body)
        return cls(kept.status_code, dict(data["headers"]), str(data["body"]).encode("utf-8"))

    async def send(self, send: Send) -> None:
        headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in self.headers.items()]
        headers += [(b"content-length", str(len(self.body)).encode()), REPLAYED_HEADER]
        await send({"type": "http.response.start", "status": self.status, "headers": headers})
        await send({"type": "http.response.body", "body": self.body})


@dataclass
class _Capture:
    """What the application sends, recorded on its way to the client."""

    status: int = 500
    headers: dict[str, str] = field(default_factory=dict)
    chunks: list[bytes] = field(default_factory=list)
    size: int = 0

    def record(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = int(message["status"])
            raw = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in message.get("headers", ())}
            self.headers = {k: raw[k] for k in _KEPT_HEADERS if k in raw}
        elif message["type"] == "http.response.body":
            chunk = message.get("body", b"")
            self.size += len(chunk)
            if self.size <= MAX_KEPT_BYTES:
                self.chunks.append(chunk)

    def answer(self) -> Answer | None:
        if self.size > MAX_KEPT_BYTES:
            return None
        body = b"".join(self.chunks)
        try:
            body.decode("utf-8")
        except UnicodeDecodeError:
            return None
        return Answer(self.status, self.headers, body)


def fingerprint(caller: Caller, method: str, path: str, query: bytes, body: bytes) -> str:
    """What makes two requests "the same": caller, method, path, query and body (SHA-256)."""
    digest = hashlib.sha256()
    for part in (
        caller.user_id.encode(),
        method.encode(),
        path.encode(),
        query,
        hashlib.sha256(body).digest(),
    ):
        digest.update(len(part).to_bytes(8, "big") + part)
    return digest.hexdigest()


def credential_of(headers: dict[bytes, bytes]) -> str | None:
    """The API key or bearer token of a request, as :func:`~apg_workflow.api.deps.current_caller`
    reads them."""
    api_key = headers.get(b"x-api-key")
    if api_key:
        return api_key.decode("latin-1")
    scheme, _, token = headers.get(b"authorization", b"").decode("latin-1").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


async def _read_body(receive: Receive) -> tuple[bytes, list[Message]]:
    """The whole request body, and the messages that carried it (to hand on unchanged)."""
    messages, parts = [], []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            break
        parts.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(parts), messages


class _Busy(Exception):
    """Another request with the same key held its slot for longer than the wait."""


def _replaying(messages: list[Message], receive: Receive) -> Receive:
    pending = list(messages)

    async def again() -> Message:
        return pending.pop(0) if pending else await receive()

    return again


class Idempotency:
    """ASGI middleware; put it inside the body limit, so that what it buffers is bounded."""

    def __init__(self, app: ASGIApp, *, wait_seconds: float = 10.0) -> None:
        self.app = app
        self.wait_seconds = wait_seconds
        self._slots: dict[tuple[str, str], tuple[asyncio.Lock, int]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self._applies(scope):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or ())
        credential = credential_of(headers)
        caller = await self._caller(scope, credential) if credential else None
        if caller is None:
            await self.app(scope, receive, send)
            return
        key = headers[b"idempotency-key"].decode("latin-1").strip()
        if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
            detail = f"the Idempotency-Key header must be 1 to {MAX_KEY_LENGTH} printable characters"
            await problem_response(422, detail)(scope, receive, send)
            return
        scope.setdefault("state", {})["caller"] = caller  # read by current_caller: one authentication
        body, messages = await _read_body(receive)
        receive = _replaying(messages, receive)
        mark = fingerprint(caller, scope["method"], scope["path"], scope.get("query_string", b""), body)
        try:
            async with self._slot(caller.tenant_id, key):
                await self._once(scope, receive, send, caller.tenant_id, key, mark)
        except _Busy:
            response = problem_response(
                409,
                f"a request with Idempotency-Key '{key}' is still in progress; retry it shortly",
                type="request-in-progress",
                headers={"Retry-After": "1"},
            )
            await response(scope, receive, send)

    @staticmethod
    def _applies(scope: Scope) -> bool:
        return (
            scope["type"] == "http"
            and scope["method"] in MUTATING
            and scope["path"].startswith(PREFIX)
            and any(name == b"idempotency-key" for name, _ in scope.get("headers") or ())
        )

    @staticmethod
    async def _caller(scope: Scope, credential: str) -> Caller | None:
        try:
            return await credential_caller(_runtime(scope), credential)
        except AuthenticationError:
            return None

    async def _once(
        self, scope: Scope, receive: Receive, send: Send, tenant: str, key: str, mark: str
    ) -> None:
        rt = _runtime(scope)
        kept = await rt.db.read(lambda conn: find_response(conn, tenant, key))
        if kept is not None:
            if kept.fingerprint != mark:
                detail = (
                    f"Idempotency-Key '{key}' was used for a different request (method, path, body or "
                    "caller); use a new key for a new request"
                )
                await problem_response(422, detail, type="idempotency-key-reuse")(scope, receive, send)
                return
            await Answer.from_kept(kept).send(send)
            return
        capture = _Capture()

        async def recording(message: Message) -> None:
            capture.record(message)
            await send(message)

        await self.app(scope, receive, recording)
        answer = capture.answer()
        if answer is not None and answer.keepable():
            await _keep(rt, tenant, key, KeptResponse(mark, answer.status, answer.envelope()))

    @asynccontextmanager
    async def _slot(self, tenant: str, key: str) -> AsyncIterator[None]:
        """One request per tenant and key at a time in this process; a second waits its turn."""
        name = (tenant, key)
        lock, users = self._slots.get(name, (asyncio.Lock(), 0))
        self._slots[name] = (lock, users + 1)
        try:
            try:
                async with asyncio.timeout(self.wait_seconds):
                    await lock.acquire()
            except TimeoutError:
                raise _Busy from None
            try:
                yield
            finally:
                lock.release()
        finally:
            lock, users = self._slots[name]
            if users <= 1:
                del self._slots[name]
            else:
                self._slots[name] = (lock, users - 1)


async def _keep(rt: Runtime, tenant: str, key: str, response: KeptResponse) -> None:
    """Keep the answer; it was sent already, so a failure here only costs the replay."""
    try:
        await rt.db.transaction(lambda conn: keep_response(conn, tenant, key, response, rt.clock()))
    except Exception:
        log.exception("could not keep the answer to Idempotency-Key '%s'", key)


def _runtime(scope: Scope) -> Runtime:
    app: Any = scope["app"]
    return app.state.runtime  # type: ignore[no-any-return]


__all__ = ["Answer", "Idempotency", "credential_of", "fingerprint"]
