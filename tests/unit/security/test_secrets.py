"""The key ring: sealing binds a value to its record, older keys keep opening until rotation, and the
well-known development key is refused outside development."""

from __future__ import annotations

import base64

import pytest

from apg_workflow.security import (
    DEV_SECRET_KEY,
    KeyRing,
    Sealed,
    SecretKeyError,
    generate_key,
    key_id,
    keyring_from_settings,
    load_keyring,
)
from apg_workflow.settings import Settings

CONTEXT = b"tenant\0crm"


def test_sealed_values_open_only_in_their_context() -> None:
    ring = KeyRing.parse(generate_key())
    sealed = ring.seal(b"hunter2", CONTEXT)
    assert b"hunter2" not in base64.urlsafe_b64decode(sealed.token)
    assert sealed.key_id == ring.current
    assert ring.open(sealed, CONTEXT) == b"hunter2"
    assert ring.seal(b"hunter2", CONTEXT).token != sealed.token  # a fresh nonce every time
    with pytest.raises(SecretKeyError, match="belongs to another record"):
        ring.open(sealed, b"tenant\0other")
    tampered = Sealed(sealed.key_id, sealed.token[:-4] + ("AAAA" if sealed.token[-4:] != "AAAA" else "BBBB"))
    with pytest.raises(SecretKeyError, match="altered"):
        ring.open(tampered, CONTEXT)


def test_older_keys_open_until_they_are_removed() -> None:
    old, new = generate_key(), generate_key()
    sealed = KeyRing.parse(old).seal(b"v", CONTEXT)
    rotated = KeyRing.parse(f"{new}, {old}")
    assert rotated.current != sealed.key_id
    assert rotated.open(sealed, CONTEXT) == b"v"
    assert rotated.seal(b"v", CONTEXT).key_id == rotated.current
    with pytest.raises(
        SecretKeyError, match=f"sealed with key {sealed.key_id}, which is not in APG_SECRET_KEYS"
    ):
        KeyRing.parse(new).open(sealed, CONTEXT)


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("not-a-key", "key 1 is not 32 bytes"),
        (f"{DEV_SECRET_KEY},{base64.urlsafe_b64encode(b'short').decode()}", "key 2 is not 32 bytes"),
        (f"{DEV_SECRET_KEY},{DEV_SECRET_KEY}", "twice"),
        (" , ", "lists no key"),
    ],
)
def test_malformed_settings_are_refused_with_a_reason(setting: str, message: str) -> None:
    with pytest.raises(SecretKeyError, match=message):
        KeyRing.parse(setting)


def test_the_development_key_is_refused_outside_development() -> None:
    dev = keyring_from_settings(Settings(environment="development"))
    assert dev.current == key_id(base64.urlsafe_b64decode(DEV_SECRET_KEY))
    with pytest.raises(SecretKeyError, match="not set: production needs a key of its own"):
        keyring_from_settings(Settings(environment="production"))
    with pytest.raises(SecretKeyError, match="well-known development key"):
        load_keyring(f"{generate_key()},{DEV_SECRET_KEY}", development=False)
    own = generate_key()
    assert keyring_from_settings(Settings(environment="production", secret_keys=own)).ids == (
        key_id(base64.urlsafe_b64decode(own)),
    )


def test_settings_never_show_the_keys() -> None:
    key = generate_key()
    assert key not in repr(Settings(secret_keys=key))
