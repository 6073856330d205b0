"""An ``http`` connection's credentials as request headers: bearer token, basic, API key, or an OAuth2
client-credentials token fetched from the token endpoint and cached until shortly before it expires.

The token request sends ``client_id`` and ``client_secret`` in the form body (``client_secret_post``),
which Azure AD, Auth0, Okta, Keycloak and Google accept.
"""

from __future__ import annotations

import base64
import hashlib
import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from apg_workflow.components.builtins.integration.ssrf import check_scheme
from apg_workflow.components.errors import ConfigurationError, RetryableError

KINDS = ("bearer", "basic", "api_key", "oauth2_client_credentials")
_MARGIN = 30.0
# (token_url, client_id, scope, secret digest) -> (access token, monotonic expiry); one per process
_TOKENS: dict[tuple[str, str, str, str], tuple[str, float]] = {}


class Credentials:
    """The ``auth`` part of an ``http`` connection."""

    def __init__(self, auth: Mapping[str, Any] | None) -> None:
        self._auth: Mapping[str, Any] = auth or {}
        kind = self._auth.get("kind")
        if self._auth and kind not in KINDS:
            raise ConfigurationError(
                f"unknown auth kind {kind!r} in the connection; use one of {', '.join(KINDS)}"
            )

    @property
    def refreshable(self) -> bool:
        """Whether a 401 may be cured by fetching a new token."""
        return self._auth.get("kind") == "oauth2_client_credentials"

    def header_names(self) -> set[str]:
        """Headers carrying these credentials (dropped when a redirect leaves the origin)."""
        if self._auth.get("kind") == "api_key":
            return {self._require("header").lower(), "authorization"}
        return {"authorization"}

    async def headers(self, client: httpx.AsyncClient, where: Callable[[str], str]) -> dict[str, str]:
        kind = self._auth.get("kind")
        if kind == "bearer":
            return {"authorization": f"Bearer {self._require('token')}"}
        if kind == "basic":
            pair = f"{self._require('username')}:{self._require('password')}".encode()
            return {"authorization": "Basic " + base64.b64encode(pair).decode("ascii")}
        if kind == "api_key":
            return {self._require("header"): self._require("value")}
        if kind == "oauth2_client_credentials":
            return {"authorization": f"Bearer {await self._token(client, where)}"}
        return {}

    def forget_token(self) -> None:
        _TOKENS.pop(self._token_key(), None)

    def _require(self, key: str) -> str:
        value = self._auth.get(key)
        if not value:
            raise ConfigurationError(f"the connection's {self._auth.get('kind')} auth lacks '{key}'")
        return str(value)

    def _token_key(self) -> tuple[str, str, str, str]:
        secret = hashlib.sha256(self._require("client_secret").encode()).hexdigest()
        scope = str(self._auth.get("scope") or "")
        return self._require("token_url"), self._require("client_id"), scope, secret

    async def _token(self, client: httpx.AsyncClient, where: Callable[[str], str]) -> str:
        key = self._token_key()
        cached = _TOKENS.get(key)
        if cached is not None and cached[1] > time.monotonic():
            return cached[0]
        token_url, client_id, scope, _ = key
        check_scheme(httpx.URL(token_url))
        shown = where(token_url)
        form = {
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": self._require("client_secret"),
        }
        if scope:
            form["scope"] = scope
        try:
            response = await client.post(token_url, data=form, headers={"accept": "application/json"})
        except httpx.TransportError as exc:
            raise RetryableError(f"the OAuth2 token request to {shown} failed: {exc}") from None
        if response.status_code >= 500:
            raise RetryableError(f"the OAuth2 token endpoint {shown} answered HTTP {response.status_code}")
        try:
            payload = response.json()
            token = str(payload["access_token"])
            lifetime = float(payload.get("expires_in") or 3600)
        except (ValueError, KeyError, TypeError):
            raise ConfigurationError(
                f"the OAuth2 token endpoint {shown} answered HTTP {response.status_code} without an "
                "access_token: check the connection's client_id, client_secret and scope"
            ) from None
        _TOKENS[key] = (token, time.monotonic() + max(0.0, lifetime - _MARGIN))
        return token


__all__ = ["KINDS", "Credentials"]
