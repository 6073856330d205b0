"""Webhook signatures without I/O: what the platform signs, the ``standardwebhooks`` library verifies;
each inbound scheme accepts its own signature and refuses a wrong one or a stale timestamp; event
patterns and the retry schedule of the dispatcher."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks import Webhook

from apg_workflow.components.builtins.integration.signing import (
    Expectation,
    Inbound,
    SignatureRejected,
    event_body,
    new_secret,
    signed_headers,
    verify,
)
from apg_workflow.runtime.webhooks import DispatchPolicy, check_event_patterns, event_matches, next_try

NOW = datetime.now(UTC).replace(microsecond=0)
BODY = b'{"order":{"id":42},"total":9.5}'
SECRET = "correct horse battery staple"


def _hex(key: str, message: bytes) -> str:
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()


def test_what_is_signed_verifies_with_the_standardwebhooks_library() -> None:
    secret = new_secret()
    body = event_body("task.completed", NOW, {"execution_id": "e1", "note": "héllo"})
    headers = signed_headers(secret, "msg_1", datetime.now(UTC), body)
    assert Webhook(secret).verify(body, headers) == {
        "type": "task.completed",
        "timestamp": NOW.isoformat().replace("+00:00", "Z"),
        "data": {"execution_id": "e1", "note": "héllo"},
    }
    with pytest.raises(Exception, match="signature"):
        Webhook(new_secret()).verify(body, headers)


def _standard(secret: str, at: datetime, body: bytes = BODY) -> Inbound:
    headers = signed_headers(secret, "msg_7", at, body)
    return Inbound({k.lower(): v for k, v in headers.items()}, body, NOW)


def _github(secret: str) -> Inbound:
    return Inbound({"x-hub-signature-256": "sha256=" + _hex(secret, BODY)}, BODY, NOW)


def _stripe(secret: str, at: datetime) -> Inbound:
    t = str(int(at.timestamp()))
    signature = f"t={t},v1={_hex(secret, t.encode() + b'.' + BODY)},v0=ignored"
    return Inbound({"stripe-signature": signature}, BODY, NOW)


def _hmac_header(secret: str, at: datetime, encoding: str) -> Inbound:
    t = str(int(at.timestamp()))
    digest = hmac.new(secret.encode(), t.encode() + b"." + BODY, hashlib.sha256).digest()
    value = digest.hex() if encoding == "hex" else base64.b64encode(digest).decode()
    return Inbound({"x-shop-signature": value, "x-shop-time": t}, BODY, NOW)


def _expect(scheme: str, secret: str, **extra: object) -> Expectation:
    return Expectation(scheme=scheme, secret=secret, tolerance=timedelta(minutes=5), **extra)  # type: ignore[arg-type]


def test_standard_scheme() -> None:
    secret = new_secret()
    verify(_expect("standard", secret), _standard(secret, NOW))
    with pytest.raises(SignatureRejected, match="does not match"):
        verify(_expect("standard", new_secret()), _standard(secret, NOW))
    with pytest.raises(SignatureRejected, match="from now"):
        verify(_expect("standard", secret), _standard(secret, NOW - timedelta(minutes=6)))
    tampered = _standard(secret, NOW)
    with pytest.raises(SignatureRejected, match="does not match"):
        verify(_expect("standard", secret), Inbound(tampered.headers, BODY + b" ", NOW))
    with pytest.raises(SignatureRejected, match="webhook-signature header is missing"):
        headers = {"webhook-id": "m", "webhook-timestamp": str(int(NOW.timestamp()))}
        verify(_expect("standard", secret), Inbound(headers, BODY, NOW))


def test_github_scheme() -> None:
    verify(_expect("github", SECRET), _github(SECRET))
    with pytest.raises(SignatureRejected, match="does not match"):
        verify(_expect("github", SECRET), _github("another secret"))
    with pytest.raises(SignatureRejected, match="sha256="):
        verify(_expect("github", SECRET), Inbound({"x-hub-signature-256": "sha1=00"}, BODY, NOW))


def test_stripe_scheme() -> None:
    secret = "whsec_stripe_endpoint_secret"
    verify(_expect("stripe", secret), _stripe(secret, NOW - timedelta(minutes=4)))
    with pytest.raises(SignatureRejected, match="does not match"):
        verify(_expect("stripe", secret), _stripe("whsec_other", NOW))
    with pytest.raises(SignatureRejected, match="from now"):
        verify(_expect("stripe", secret), _stripe(secret, NOW - timedelta(hours=1)))


@pytest.mark.parametrize("encoding", ["hex", "base64"])
def test_hmac_header_scheme(encoding: str) -> None:
    expect = _expect(
        "hmac-header", SECRET, header="X-Shop-Signature", encoding=encoding, timestamp_header="X-Shop-Time"
    )
    verify(expect, _hmac_header(SECRET, NOW, encoding))
    with pytest.raises(SignatureRejected, match="does not match"):
        verify(expect, _hmac_header("wrong secret!", NOW, encoding))
    with pytest.raises(SignatureRejected, match="from now"):
        verify(expect, _hmac_header(SECRET, NOW + timedelta(minutes=10), encoding))
    plain = _expect("hmac-header", SECRET, header="X-Signature")
    verify(plain, Inbound({"x-signature": "sha256=" + _hex(SECRET, BODY)}, BODY, NOW))


def test_event_patterns_accept_names_synonyms_families_and_everything() -> None:
    assert check_event_patterns(["workflow.completed", "task.*", "task.*"]) == (
        "workflow.completed",
        "task.*",
    )
    with pytest.raises(ValueError, match=r"'execution\.exploded'"):
        check_event_patterns(["execution.exploded"])
    with pytest.raises(ValueError):
        check_event_patterns([])
    assert event_matches(["workflow.completed"], "execution.completed")
    assert event_matches(["workflow.*"], "workflow.deployed")
    assert not event_matches(["workflow.*"], "execution.started")
    assert event_matches(["*"], "webhook.disabled")
    assert not event_matches(["task.completed"], "task.created")


def test_the_default_retries_spread_over_a_day_with_jitter() -> None:
    policy = DispatchPolicy()
    now = datetime(2026, 1, 1, tzinfo=UTC)
    waits = [next_try(policy, attempt, now, 0.5) for attempt in range(1, 9)]
    assert waits[-1] is None  # eight tries in all
    total = sum(((w - now).total_seconds() for w in waits if w is not None), 0.0)
    assert 24 * 3600 <= total <= 30 * 3600
    early, late = next_try(policy, 1, now, 0.0), next_try(policy, 1, now, 0.999)
    assert early is not None and late is not None
    assert (early - now).total_seconds() == pytest.approx(4.0)
    assert (late - now).total_seconds() == pytest.approx(6.0, abs=0.01)


def test_a_fresh_secret_is_standard_and_unique() -> None:
    first, second = new_secret(), new_secret()
    assert first.startswith("whsec_") and first != second
    assert len(base64.b64decode(first.removeprefix("whsec_"))) == 32
