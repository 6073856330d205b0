"""The one HTTP client of the integration family (http.*, chat.*): connection auth, the SSRF guard,
redirects followed by hand, bounded retries honouring ``Retry-After``, and a response size cap.

Retries happen inside the call: a 429, 500, 502, 503 or 504 answer, a timeout or a failed connection
is tried again up to ``retries`` times, waiting what ``Retry-After`` asks (else 0.5 s, 1 s, 2 s, …),
never past ``max_retry_delay`` nor the job's deadline. When that budget is spent the call raises
:class:`RetryableError`, and the element's retry policy takes over.

A connection's credentials and headers are sent only to its own origin (its ``base_url``, else the
first URL requested): never to another host a URL or a redirect points at.
"""

from __future__ import annotations

import base64
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import Any

import httpx

from apg_workflow.components.base import ComponentContext
from apg_workflow.components.builtins.integration.credentials import Credentials
from apg_workflow.components.builtins.integration.ssrf import (
    AddressGuard,
    AllowList,
    GuardedTransport,
    check_scheme,
)
from apg_workflow.components.builtins.integration.support import connection_settings
from apg_workflow.components.errors import BpmnError, ConfigurationError, RetryableError

_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
USER_AGENT = "apg-workflow"


@dataclass(frozen=True, slots=True)
class HttpRequest:
    method: str
    url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    params: Mapping[str, Any] = field(default_factory=dict)
    json_body: Any = None
    content: str | bytes | None = None


@dataclass(frozen=True, slots=True)
class HttpPolicy:
    timeout: float = 30.0
    retries: int = 2
    max_retry_delay: float = 30.0
    follow_redirects: bool = True
    max_redirects: int = 5
    max_response_bytes: int = 10 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class HttpResult:
    status: int
    headers: dict[str, str]
    body: Any
    body_encoding: str
    url: str
    attempts: int
    where: str

    def outputs(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "headers": self.headers,
            "body": self.body,
            "body_encoding": self.body_encoding,
            "url": self.url,
            "attempts": self.attempts,
        }

    def raise_for_status(self) -> None:
        """Nothing for 1xx-3xx; RetryableError for a transient status; BpmnError ``http-<status>`` else."""
        if self.status < 400:
            return
        excerpt = self.body if isinstance(self.body, str) else json.dumps(self.body, default=str)
        detail = f"HTTP {self.status} from {self.where}" + (f": {excerpt[:200]}" if excerpt else "")
        if self.status in RETRY_STATUSES:
            raise RetryableError(f"{detail} (after {self.attempts} attempts)")
        raise BpmnError(f"http-{self.status}", detail)


class _Transient(Exception):
    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def decode_body(content: bytes, content_type: str, charset: str | None) -> tuple[Any, str]:
    """The body as JSON when it says so, as text when textual, else base64; with that encoding's name."""
    if not content:
        return None, "none"
    mime = content_type.split(";", 1)[0].strip().lower()
    if mime == "application/json" or mime.endswith("+json"):
        try:
            return json.loads(content), "json"
        except ValueError:
            pass
    textual = mime.startswith("text/") or mime.endswith(
        ("xml", "json", "javascript", "x-www-form-urlencoded")
    )
    if textual or not mime:
        try:
            return content.decode(charset or "utf-8"), "text"
        except (UnicodeDecodeError, LookupError):
            pass
    return base64.b64encode(content).decode("ascii"), "base64"


def check_request(request: HttpRequest) -> None:
    """Refuse what would otherwise fail deep in the transport (and be mistaken for a network fault)."""
    for name, value in request.headers.items():
        if not _TOKEN.fullmatch(name) or any(c in str(value) for c in "\r\n\0"):
            raise ConfigurationError(f"invalid header {name!r}: names are tokens, values have no line breaks")
    for name, value in request.params.items():
        values = value if isinstance(value, list) else [value]
        if not all(item is None or isinstance(item, str | int | float | bool) for item in values):
            raise ConfigurationError(f"query parameter '{name}' must be text, a number or a list of them")


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    return url.scheme, url.host, url.port


class HttpClient:
    """An async client bound to one (optional) ``http`` connection; use as ``async with``."""

    def __init__(self, context: ComponentContext, connection: str | None) -> None:
        self._context = context
        self._name = connection
        settings: Mapping[str, Any] = (
            connection_settings(context, connection, "http") if connection is not None else {}
        )
        self._base_url = str(settings.get("base_url") or "")
        self._credentials = Credentials(settings.get("auth"))
        self._headers = {str(k): str(v) for k, v in (settings.get("headers") or {}).items()}
        allowed = settings.get("allowed_hosts") or []
        if not isinstance(allowed, list | tuple):
            raise ConfigurationError(f"connection '{connection}': allowed_hosts must be a list")
        self._guard = AddressGuard(AllowList.parse(allowed))
        self._client: httpx.AsyncClient | None = None
        self._auth_origin: tuple[str, str, int | None] | None = (
            _origin(httpx.URL(self._base_url)) if self._base_url else None
        )

    async def __aenter__(self) -> HttpClient:
        self._client = httpx.AsyncClient(
            transport=GuardedTransport(self._guard), follow_redirects=False, trust_env=False
        )
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._client is not None:
            await self._client.aclose()

    def _open(self) -> httpx.AsyncClient:
        if self._client is None:
            raise RuntimeError("use HttpClient as an async context manager")
        return self._client

    def absolute(self, url: str) -> httpx.URL:
        target = httpx.URL(url)
        if not target.scheme:
            if not self._base_url:
                raise ConfigurationError(f"'{url}' is a relative URL and the connection has no base_url")
            joined = self._base_url.rstrip("/") + "/" + url.lstrip("/") if url else self._base_url
            target = httpx.URL(joined)
        check_scheme(target)
        return target

    def where(self, url: httpx.URL | str) -> str:
        """A URL fit for messages and logs: without its query, credentials or the connection's base URL
        (which may be a secret, as a chat webhook's is)."""
        text = str(httpx.URL(url).copy_with(query=None, fragment=None, userinfo=b""))
        base = self._base_url.rstrip("/")
        rest = text[len(base) :]
        if base and text.startswith(base) and rest[:1] in ("", "/"):
            return f"connection '{self._name}'" + (f" ({rest})" if rest.strip("/") else "")
        return text

    async def send(self, request: HttpRequest, policy: HttpPolicy) -> HttpResult:
        """Send with retries; the final answer whatever its status (see ``HttpResult.raise_for_status``)."""
        check_request(request)
        url = self.absolute(request.url)
        if self._auth_origin is None:
            self._auth_origin = _origin(url)
        attempt, refreshed = 0, False
        while True:
            attempt += 1
            try:
                result = await self._attempt(replace(request, url=str(url)), policy, attempt)
                if result.status == 401 and self._credentials.refreshable and not refreshed:
                    # the cached token may have been revoked: fetch a new one, once
                    refreshed = True
                    self._credentials.forget_token()
                    attempt -= 1
                    continue
                if result.status not in RETRY_STATUSES or attempt > policy.retries:
                    return result
                delay = self._retry_after(result.headers.get("retry-after"), attempt, policy)
                message = f"HTTP {result.status} from {result.where}"
            except _Transient as exc:
                if attempt > policy.retries:
                    raise RetryableError(f"{exc} (after {attempt} attempts)") from None
                delay, message = self._backoff(attempt, policy), str(exc)
            if delay is None:  # Retry-After beyond max_retry_delay, or the deadline too close
                raise RetryableError(
                    f"{message} (attempt {attempt}); leaving further retries to the retry policy"
                )
            self._context.logger.info("%s; retrying in %.1f s (attempt %d)", message, delay, attempt + 1)
            await self._context.sleep(delay)

    def _backoff(self, attempt: int, policy: HttpPolicy) -> float | None:
        delay = min(policy.max_retry_delay, 0.5 * 2 ** (attempt - 1))
        deadline = self._context.deadline
        if (
            deadline is not None
            and (deadline - self._context.now()).total_seconds() <= delay + policy.timeout
        ):
            return None
        return delay

    def _retry_after(self, header: str | None, attempt: int, policy: HttpPolicy) -> float | None:
        if header is None:
            return self._backoff(attempt, policy)
        try:
            seconds = float(header)
            if not math.isfinite(seconds):
                return self._backoff(attempt, policy)
        except ValueError:
            try:
                seconds = (parsedate_to_datetime(header) - self._context.now()).total_seconds()
            except (TypeError, ValueError):
                return self._backoff(attempt, policy)
        seconds = max(0.0, seconds)
        deadline = self._context.deadline
        if seconds > policy.max_retry_delay or (
            deadline is not None and (deadline - self._context.now()).total_seconds() <= seconds
        ):
            return None
        return seconds

    async def _attempt(self, request: HttpRequest, policy: HttpPolicy, attempt: int) -> HttpResult:
        client = self._open()
        outgoing = client.build_request(
            request.method,
            request.url,
            params=dict(request.params) or None,
            headers={"user-agent": USER_AGENT, **request.headers},
            json=request.json_body if request.content is None else None,
            content=request.content,
            timeout=policy.timeout,
        )
        try:
            for _hop in range(policy.max_redirects + 1):
                await self._authorise(outgoing)
                response = await client.send(outgoing, stream=True)
                try:
                    location = response.headers.get("location")
                    if not (
                        policy.follow_redirects and response.status_code in REDIRECT_STATUSES and location
                    ):
                        content = await self._read(response, policy.max_response_bytes)
                        body, encoding = decode_body(
                            content, response.headers.get("content-type", ""), response.charset_encoding
                        )
                        headers = dict(response.headers.items())  # lower-case names, repeats joined
                        url = outgoing.url
                        return HttpResult(
                            response.status_code, headers, body, encoding, str(url), attempt, self.where(url)
                        )
                finally:
                    await response.aclose()
                outgoing = self._redirect(outgoing, response.status_code, outgoing.url.join(location))
        except httpx.TimeoutException:
            shown = self.where(request.url)
            raise _Transient(f"{request.method} {shown} timed out after {policy.timeout:g} s") from None
        except httpx.TransportError as exc:
            shown = self.where(request.url)
            raise _Transient(f"{request.method} {shown} failed: {exc or type(exc).__name__}") from None
        shown = self.where(request.url)
        raise BpmnError(
            "http-too-many-redirects", f"{shown} redirected more than {policy.max_redirects} times"
        )

    def _redirect(self, previous: httpx.Request, status: int, target: httpx.URL) -> httpx.Request:
        check_scheme(target)
        method = previous.method
        keep_body = status in (307, 308) or method in ("GET", "HEAD")
        if (status == 303 and method != "HEAD") or (status in (301, 302) and method == "POST"):
            method, keep_body = "GET", False
        headers = httpx.Headers(previous.headers)
        headers.pop("host", None)
        if not keep_body:
            for name in ("content-length", "content-type", "transfer-encoding"):
                headers.pop(name, None)
        if _origin(target) != _origin(previous.url):
            for name in {"cookie", *self._headers, *self._credentials.header_names()}:
                headers.pop(name, None)
        return self._open().build_request(
            method,
            target,
            headers=headers,
            content=previous.content if keep_body else None,
            extensions=previous.extensions,
        )

    async def _read(self, response: httpx.Response, limit: int) -> bytes:
        declared = response.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > limit:
            raise self._too_large(response, limit)
        chunks, size = [], 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > limit:
                raise self._too_large(response, limit)
            chunks.append(chunk)
        return b"".join(chunks)

    def _too_large(self, response: httpx.Response, limit: int) -> BpmnError:
        shown = self.where(response.url)
        return BpmnError("http-response-too-large", f"the response from {shown} is larger than {limit} bytes")

    async def _authorise(self, request: httpx.Request) -> None:
        if _origin(request.url) != self._auth_origin:
            return
        for name, value in self._headers.items():
            request.headers.setdefault(name, value)
        request.headers.update(await self._credentials.headers(self._open(), self.where))


__all__ = ["HttpClient", "HttpPolicy", "HttpRequest", "HttpResult", "decode_body"]
