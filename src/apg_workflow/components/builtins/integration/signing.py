"""Webhook signatures, both ways.

Out: every webhook the platform sends (the subscription dispatcher, the ``http.webhook`` component)
is a Standard Webhooks message: a ``{"type", "timestamp", "data"}`` JSON body and the
``webhook-id``, ``webhook-timestamp`` and ``webhook-signature`` headers, signed with the
``standardwebhooks`` reference implementation so that any receiver's library verifies it.

In: a request to an inbound hook is accepted only with a valid HMAC-SHA256 signature under one of
four schemes: ``standard`` (Standard Webhooks), ``github`` (``X-Hub-Signature-256: sha256=…``),
``stripe`` (``Stripe-Signature: t=…,v1=…``) or ``hmac-header`` (a configured header carrying the hex
or base64 HMAC of the body, optionally of ``{timestamp}.{body}`` with a timestamp header). Where the
scheme carries a timestamp, one outside the tolerance is refused, so a captured request cannot be
replayed later.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from standardwebhooks import Webhook
from standardwebhooks.webhooks import EmptyWebhookSecretError

SECRET_PREFIX = "whsec_"
SCHEMES = ("standard", "github", "stripe", "hmac-header")


class SignatureRejected(Exception):
    """A request whose signature is missing, wrong or too old; the message says which."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def new_secret() -> str:
    """A fresh Standard Webhooks secret: ``whsec_`` and 32 random bytes in base64."""
    return SECRET_PREFIX + base64.b64encode(os.urandom(32)).decode()


def standard_key(secret: str) -> Webhook:
    """The signer of a Standard Webhooks secret (``whsec_`` + base64 of at least 16 key bytes);
    ValueError when malformed."""
    problem = "a Standard Webhooks secret is 'whsec_' followed by the base64 of at least 16 key bytes"
    encoded = secret.removeprefix(SECRET_PREFIX)
    try:
        key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(problem) from None
    if not secret.startswith(SECRET_PREFIX) or len(key) < 16:
        raise ValueError(problem)
    try:
        return Webhook(secret)
    except (binascii.Error, ValueError, EmptyWebhookSecretError):
        raise ValueError(problem) from None


def timestamp_text(at: datetime) -> str:
    """``at`` in ISO 8601 UTC with a ``Z``."""
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def event_body(event: str, at: datetime, data: Any) -> bytes:
    """The body of a webhook: ``{"type", "timestamp", "data"}`` as compact UTF-8 JSON."""
    document = {"type": event, "timestamp": timestamp_text(at), "data": data}
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def signed_headers(secret: str, message_id: str, at: datetime, body: bytes) -> dict[str, str]:
    """The Standard Webhooks headers of ``body`` sent as message ``message_id`` at ``at``."""
    signature = standard_key(secret).sign(msg_id=message_id, timestamp=at.astimezone(UTC), data=body.decode())
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signature,
        "content-type": "application/json",
    }


# Inbound ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Expectation:
    """How an inbound hook's requests must be signed."""

    scheme: str
    secret: str
    tolerance: timedelta = timedelta(minutes=5)
    header: str | None = None  # hmac-header: the header carrying the signature
    encoding: str = "hex"  # hmac-header: hex | base64
    timestamp_header: str | None = None  # hmac-header: signs "{timestamp}.{body}" when set


@dataclass(frozen=True, slots=True)
class Inbound:
    """A received request: header names in lower case, the raw body, when it arrived."""

    headers: Mapping[str, str]
    body: bytes
    now: datetime

    def header(self, name: str) -> str:
        value = self.headers.get(name.lower())
        if not value:
            raise SignatureRejected(f"the {name} header is missing")
        return value


def _mac(key: bytes, message: bytes) -> bytes:
    return hmac.new(key, message, hashlib.sha256).digest()


def _fresh(request: Inbound, timestamp: str, tolerance: timedelta) -> None:
    try:
        at = datetime.fromtimestamp(int(timestamp), UTC)
    except (ValueError, OverflowError, OSError):
        raise SignatureRejected("the signature's timestamp is not a Unix time in seconds") from None
    if abs(request.now - at) > tolerance:
        raise SignatureRejected(
            f"the signature's timestamp is more than {int(tolerance.total_seconds())} s from now "
            "(a replay, or a clock out of sync)"
        )


def _matches(expected: bytes, candidates: list[bytes]) -> None:
    if not any(hmac.compare_digest(expected, candidate) for candidate in candidates):
        raise SignatureRejected("the signature does not match")


def _decode(text: str, encoding: str) -> bytes:
    try:
        return bytes.fromhex(text) if encoding == "hex" else base64.b64decode(text, validate=True)
    except (ValueError, binascii.Error):
        return b""


def _standard(expect: Expectation, request: Inbound) -> None:
    message_id = request.header("webhook-id")
    timestamp = request.header("webhook-timestamp")
    _fresh(request, timestamp, expect.tolerance)
    try:
        body = request.body.decode()
    except UnicodeDecodeError:
        raise SignatureRejected("the body is not UTF-8") from None
    at = datetime.fromtimestamp(int(timestamp), UTC)
    expected = standard_key(expect.secret).sign(msg_id=message_id, timestamp=at, data=body)
    signatures = [
        _decode(value, "base64")
        for version, _, value in (part.partition(",") for part in request.header("webhook-signature").split())
        if version == "v1"
    ]
    _matches(base64.b64decode(expected.split(",", 1)[1]), signatures)


def _github(expect: Expectation, request: Inbound) -> None:
    scheme, _, digest = request.header("x-hub-signature-256").partition("=")
    if scheme != "sha256":
        raise SignatureRejected("X-Hub-Signature-256 must read 'sha256=<hex digest>'")
    _matches(_mac(expect.secret.encode(), request.body), [_decode(digest, "hex")])


def _stripe(expect: Expectation, request: Inbound) -> None:
    fields: dict[str, list[str]] = {}
    for part in request.header("stripe-signature").split(","):
        key, _, value = part.strip().partition("=")
        fields.setdefault(key, []).append(value)
    timestamps = fields.get("t") or [""]
    _fresh(request, timestamps[0], expect.tolerance)
    signed = timestamps[0].encode() + b"." + request.body
    _matches(_mac(expect.secret.encode(), signed), [_decode(v, "hex") for v in fields.get("v1", [])])


def _hmac_header(expect: Expectation, request: Inbound) -> None:
    value = request.header(expect.header or "x-signature")
    _, _, digest = value.rpartition("sha256=")
    signed = request.body
    if expect.timestamp_header:
        timestamp = request.header(expect.timestamp_header)
        _fresh(request, timestamp, expect.tolerance)
        signed = timestamp.encode() + b"." + request.body
    _matches(_mac(expect.secret.encode(), signed), [_decode(digest.strip(), expect.encoding)])


_VERIFIERS: dict[str, Callable[[Expectation, Inbound], None]] = {
    "standard": _standard,
    "github": _github,
    "stripe": _stripe,
    "hmac-header": _hmac_header,
}


def verify(expect: Expectation, request: Inbound) -> None:
    """Accept the request or raise :class:`SignatureRejected` saying why."""
    verifier = _VERIFIERS.get(expect.scheme)
    if verifier is None:
        raise SignatureRejected(f"unknown signature scheme '{expect.scheme}'")
    verifier(expect, request)


__all__ = [
    "SCHEMES",
    "SECRET_PREFIX",
    "Expectation",
    "Inbound",
    "SignatureRejected",
    "event_body",
    "new_secret",
    "signed_headers",
    "standard_key",
    "timestamp_text",
    "verify",
]
