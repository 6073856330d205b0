"""Encryption of secrets at rest: AES-256-GCM under a ring of keys.

``APG_SECRET_KEYS`` lists keys (32 random bytes each, URL-safe base64), comma-separated, the
current one first. A sealed value records the id of the key that sealed it (a fingerprint, not the
key), so values sealed with an older key still open while that key is listed, until a rotation
re-seals them with the current one. Each value is bound to a context (its tenant and name): moved
to another row, it no longer opens.

Unset, the keys default to a well-known development key, in development only; production refuses
both the unset setting and that key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from apg_workflow.settings import Settings

KEY_BYTES = 32
NONCE_BYTES = 12
DEV_SECRET_KEY = "yHIBe7ISQkHa3_QjwNvpQQ5afpUaAL47MhvtRKHTA_4="
"""Published in the source: anyone can decrypt what it sealed. Development only."""

log = logging.getLogger(__name__)


class SecretKeyError(Exception):
    """The keys are missing, malformed or refused, or a sealed value cannot be opened with them."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True, slots=True)
class Sealed:
    """An encrypted value: the id of its key and ``base64(nonce + ciphertext + tag)``."""

    key_id: str
    token: str


def key_id(key: bytes) -> str:
    """A key's public fingerprint."""
    return hashlib.sha256(b"apg-workflow key id\0" + key).hexdigest()[:12]


def generate_key() -> str:
    """A new random key in the format of ``APG_SECRET_KEYS``."""
    return base64.urlsafe_b64encode(os.urandom(KEY_BYTES)).decode()


def decode_key(text: str, position: int) -> bytes:
    try:
        key = base64.urlsafe_b64decode(text.strip().encode())
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != KEY_BYTES:
        raise SecretKeyError(
            f"APG_SECRET_KEYS: key {position} is not {KEY_BYTES} bytes in URL-safe base64 "
            "(make one with `apg-workflow connections generate-key`)"
        )
    return key


class KeyRing:
    """The keys secrets are sealed with (the first) and opened with (any of them)."""

    def __init__(self, keys: Sequence[bytes]) -> None:
        if not keys:
            raise SecretKeyError("APG_SECRET_KEYS lists no key")
        self._ciphers: dict[str, AESGCM] = {}
        for key in keys:
            kid = key_id(key)
            if kid in self._ciphers:
                raise SecretKeyError(f"APG_SECRET_KEYS lists key {kid} twice")
            self._ciphers[kid] = AESGCM(key)
        self.current = key_id(keys[0])

    @classmethod
    def parse(cls, text: str) -> KeyRing:
        """Keys from the ``APG_SECRET_KEYS`` format: comma-separated, the current one first."""
        parts = [part for part in text.split(",") if part.strip()]
        return cls([decode_key(part, position) for position, part in enumerate(parts, 1)])

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(self._ciphers)

    def seal(self, plaintext: bytes, context: bytes) -> Sealed:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._ciphers[self.current].encrypt(nonce, plaintext, context)
        return Sealed(self.current, base64.urlsafe_b64encode(nonce + sealed).decode())

    def open(self, sealed: Sealed, context: bytes) -> bytes:
        cipher = self._ciphers.get(sealed.key_id)
        if cipher is None:
            raise SecretKeyError(
                f"sealed with key {sealed.key_id}, which is not in APG_SECRET_KEYS "
                f"(it lists {', '.join(self.ids)}): add that key back, or store the secret again"
            )
        try:
            raw = base64.urlsafe_b64decode(sealed.token.encode())
            return cipher.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], context)
        except (InvalidTag, binascii.Error, ValueError):
            raise SecretKeyError(
                f"cannot decrypt a value sealed with key {sealed.key_id}: it was altered, or it "
                "belongs to another record"
            ) from None


def keyring_from_settings(settings: Settings) -> KeyRing:
    """The ring of ``APG_SECRET_KEYS``, refusing the development key outside development."""
    return load_keyring(
        settings.secret_keys.get_secret_value(), development=settings.environment == "development"
    )


def load_keyring(text: str, *, development: bool) -> KeyRing:
    """The ring of keys in the ``APG_SECRET_KEYS`` format; an empty ``text`` means the development
    key, which only ``development`` accepts."""
    text = text.strip()
    if not text:
        if not development:
            raise SecretKeyError(
                "APG_SECRET_KEYS is not set: production needs a key of its own "
                "(make one with `apg-workflow connections generate-key`)"
            )
        log.warning(
            "APG_SECRET_KEYS is not set: secrets are sealed with the well-known development key; "
            "set a key of your own before storing real credentials"
        )
        text = DEV_SECRET_KEY
    ring = KeyRing.parse(text)
    dev_id = key_id(decode_key(DEV_SECRET_KEY, 0))
    if not development and dev_id in ring.ids:
        raise SecretKeyError(
            "APG_SECRET_KEYS lists the well-known development key, which production refuses: "
            "rotate to a key of your own (see docs/connections.md)"
        )
    return ring


__all__ = [
    "DEV_SECRET_KEY",
    "KeyRing",
    "Sealed",
    "SecretKeyError",
    "generate_key",
    "key_id",
    "keyring_from_settings",
    "load_keyring",
]
