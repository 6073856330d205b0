"""Who is calling: password hashes (scrypt), access tokens (JWT, HS256) and API keys (shown once,
kept as a SHA-256 hash). Pure functions over settings; the users live in the store."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import jwt

from apg_workflow.settings import Settings

log = logging.getLogger(__name__)

DEV_JWT_SECRET = "apg-workflow-development-token-key-do-not-use-in-production"
API_KEY_PREFIX = "apg_"
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}
_ALGORITHM = "HS256"
_ISSUER = "apg-workflow"


class AuthenticationError(Exception):
    """The credentials are missing, wrong, expired or revoked; the message says which."""


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller."""

    user_id: str
    username: str
    tenant_id: str
    roles: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, dklen=32, **_SCRYPT)
    return "scrypt$" + base64.b64encode(salt).decode() + "$" + base64.b64encode(digest).decode()


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    actual = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt), dklen=32, **_SCRYPT)
    return hmac.compare_digest(actual, base64.b64decode(digest))


def token_secret(settings: Settings) -> str:
    secret = settings.jwt_secret.get_secret_value()
    if secret:
        return secret
    if settings.environment != "development":
        raise AuthenticationError("APG_JWT_SECRET is not set: production needs a token key of its own")
    return DEV_JWT_SECRET


def issue_token(settings: Settings, principal: Principal, now: datetime) -> tuple[str, int]:
    """A signed access token for ``principal`` and how many seconds it lasts."""
    lifetime = timedelta(minutes=settings.access_token_minutes)
    claims = {
        "iss": _ISSUER,
        "sub": principal.user_id,
        "name": principal.username,
        "tid": principal.tenant_id,
        "roles": list(principal.roles),
        "groups": list(principal.groups),
        "iat": int(now.timestamp()),
        "exp": int((now + lifetime).timestamp()),
    }
    return jwt.encode(claims, token_secret(settings), algorithm=_ALGORITHM), int(lifetime.total_seconds())


def verify_token(settings: Settings, token: str) -> Principal:
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            token_secret(settings),
            algorithms=[_ALGORITHM],
            issuer=_ISSUER,
            options={"require": ["exp", "sub", "tid"]},
        )
    except jwt.ExpiredSignatureError:
        raise AuthenticationError("the access token has expired; log in again") from None
    except jwt.InvalidTokenError as exc:
        raise AuthenticationError(f"the access token is not valid ({exc})") from None
    return Principal(
        user_id=str(claims["sub"]),
        username=str(claims.get("name", "")),
        tenant_id=str(claims["tid"]),
        roles=tuple(claims.get("roles", ())),
        groups=tuple(claims.get("groups", ())),
    )


@dataclass(frozen=True, slots=True)
class NewApiKey:
    """A fresh key: ``key`` is shown to its owner once; ``prefix`` and ``hash`` are stored."""

    key: str
    prefix: str
    hash: str


def new_api_key() -> NewApiKey:
    prefix = API_KEY_PREFIX + secrets.token_hex(6)
    key = prefix + "_" + secrets.token_urlsafe(32)
    return NewApiKey(key=key, prefix=prefix, hash=hash_api_key(key))


def hash_api_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def api_key_prefix(key: str) -> str | None:
    """The lookup prefix (``apg_`` and 12 hex digits) of something that looks like one of our keys."""
    size = len(API_KEY_PREFIX) + 12
    if len(key) <= size + 1 or not key.startswith(API_KEY_PREFIX) or key[size] != "_":
        return None
    return key[:size]


__all__ = [
    "API_KEY_PREFIX",
    "AuthenticationError",
    "NewApiKey",
    "Principal",
    "api_key_prefix",
    "hash_api_key",
    "hash_password",
    "issue_token",
    "new_api_key",
    "token_secret",
    "verify_password",
    "verify_token",
]
