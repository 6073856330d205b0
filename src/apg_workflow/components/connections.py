"""Connections: named credentials a component uses, in the shapes ``context.connection(name)``
returns (``http``, ``database``, ``smtp``, ``s3``, ``redis``).

Each shape knows which of its values are secret: :meth:`Shape.settings` is the plain mapping a
component gets, :meth:`Shape.redacted` the view that is safe to show (secrets as ``***``, a URL's
password masked), :meth:`Shape.secret_values` what must never be written anywhere. Their repr is
the redacted view, so a shape in a traceback or a log line shows no secret.
"""

from __future__ import annotations

import ipaddress
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping
from functools import partial
from typing import Annotated, Any, Literal, Protocol
from urllib.parse import unquote, unquote_plus, urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)

from apg_workflow.components.errors import ComponentError, ConfigurationError
from apg_workflow.components.redaction import REDACTED, SecretSet, known_secrets

NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")
_SENSITIVE_NAMES = ("key", "token", "secret", "password", "passwd", "pwd", "auth", "session", "signature")
_SENSITIVE_EXACT = frozenset({"cookie", "set-cookie", "credential", "credentials"})


class InvalidConnection(ComponentError, ValueError):
    """Connection settings (or a connection name) that do not fit their shape. The message never
    quotes a submitted value, which may be a secret."""


def sensitive(name: str) -> bool:
    """Whether a header or query parameter of this name carries a credential (``Authorization``,
    ``X-Api-Key``, ``password=``…): its value is treated as a secret."""
    lowered = name.lower()
    return lowered in _SENSITIVE_EXACT or any(word in lowered for word in _SENSITIVE_NAMES)


class _Marker(ABC):
    """How a field's value is redacted and which secret values it holds."""

    @abstractmethod
    def redact(self, value: Any) -> Any: ...

    @abstractmethod
    def secrets(self, value: Any) -> Iterator[str]: ...


class _SecretText(_Marker):
    def redact(self, value: str) -> str:
        return REDACTED

    def secrets(self, value: str) -> Iterator[str]:
        yield value


class _CredentialURL(_Marker):
    """A URL that may carry a password (``scheme://user:password@host``) or credentials in its query."""

    def redact(self, value: str) -> str:
        parts = urlsplit(value)
        netloc = parts.netloc
        if parts.password is not None:
            userinfo, _, host = netloc.rpartition("@")
            netloc = f"{userinfo.split(':', 1)[0]}:{REDACTED}@{host}"
        keys = [pair.partition("=")[0] for pair in parts.query.split("&")]
        query = "&".join(
            f"{key}={REDACTED}" if sensitive(unquote_plus(key)) else pair
            for key, pair in zip(keys, parts.query.split("&"), strict=True)
        )
        return parts._replace(netloc=netloc, query=query).geturl()

    def secrets(self, value: str) -> Iterator[str]:
        parts = urlsplit(value)
        if parts.password:
            yield from (parts.password, unquote(parts.password))
        for pair in parts.query.split("&"):
            key, _, secret = pair.partition("=")
            if secret and sensitive(unquote_plus(key)):
                yield from (secret, unquote_plus(secret))


class _Headers(_Marker):
    def redact(self, value: Mapping[str, str]) -> dict[str, str]:
        return {k: REDACTED if sensitive(k) else v for k, v in value.items()}

    def secrets(self, value: Mapping[str, str]) -> Iterator[str]:
        return (v for k, v in value.items() if sensitive(k))


def _url(value: str, schemes: tuple[str, ...] | None, example: str) -> str:
    """Checks a URL without quoting it in the error (it may hold a password)."""
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018  (raises on a malformed port)
    except ValueError:
        raise ValueError(f"not a valid URL (expected something like {example})") from None
    scheme = parts.scheme.split("+", 1)[0].lower()
    if not re.fullmatch(r"[a-z][a-z0-9+.-]*", parts.scheme.lower()) or "://" not in value:
        raise ValueError(f"not a URL (expected something like {example})")
    if schemes is not None and scheme not in schemes:
        raise ValueError(f"must start with {' or '.join(s + '://' for s in schemes)}")
    return value


SECRET, CREDENTIAL_URL, HEADERS = _SecretText(), _CredentialURL(), _Headers()
Text = Annotated[str, Field(min_length=1, max_length=2000)]
SecretText = Annotated[str, Field(min_length=1, max_length=20_000)]
HttpURL = Annotated[
    Text, AfterValidator(partial(_url, schemes=("http", "https"), example="https://host/path"))
]
DatabaseURL = Annotated[
    Text, AfterValidator(partial(_url, schemes=None, example="postgresql://user:password@host/database"))
]
RedisURL = Annotated[
    Text,
    AfterValidator(
        partial(_url, schemes=("redis", "rediss", "unix"), example="redis://:password@host:6379/0")
    ),
]


class Shape(BaseModel):
    """Base of the connection shapes: frozen, unknown keys refused, a redacted repr."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    def settings(self) -> dict[str, Any]:
        """The plain settings, secrets included: what ``context.connection(name)`` returns."""
        return self.model_dump(exclude_none=True)

    def redacted(self) -> dict[str, Any]:
        """The settings with every secret masked: safe for logs, the API and the command line."""
        return {name: _redact(value, marker) for name, value, marker in self._fields()}

    def secret_values(self) -> frozenset[str]:
        found: set[str] = set()
        for _, value, marker in self._fields():
            if isinstance(value, Shape):
                found |= value.secret_values()
            elif marker is not None:
                found.update(s for s in marker.secrets(value) if s)
        return frozenset(found)

    def _fields(self) -> Iterator[tuple[str, Any, _Marker | None]]:
        for name, info in type(self).model_fields.items():
            value = getattr(self, name)
            if value is not None:
                yield name, value, next((m for m in info.metadata if isinstance(m, _Marker)), None)

    def __repr_args__(self) -> Any:
        return list(self.redacted().items())


def _redact(value: Any, marker: _Marker | None) -> Any:
    if isinstance(value, Shape):
        return value.redacted()
    if marker is not None:
        return marker.redact(value)
    return list(value) if isinstance(value, tuple) else value


class BearerAuth(Shape):
    kind: Literal["bearer"]
    token: Annotated[SecretText, SECRET]


class BasicAuth(Shape):
    kind: Literal["basic"]
    username: Text
    password: Annotated[SecretText, SECRET]


class ApiKeyAuth(Shape):
    kind: Literal["api_key"]
    header: Annotated[str, Field(pattern=r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$", max_length=200)]
    value: Annotated[SecretText, SECRET]


class OAuth2ClientCredentials(Shape):
    kind: Literal["oauth2_client_credentials"]
    token_url: HttpURL
    client_id: Text
    client_secret: Annotated[SecretText, SECRET]
    scope: str | None = None


Auth = Annotated[BearerAuth | BasicAuth | ApiKeyAuth | OAuth2ClientCredentials, Field(discriminator="kind")]
AUTH_KINDS = ("bearer", "basic", "api_key", "oauth2_client_credentials")


class HttpConnection(Shape):
    type: Literal["http"]
    base_url: Annotated[HttpURL | None, CREDENTIAL_URL] = None
    auth: Auth | None = None
    headers: Annotated[dict[str, str] | None, HEADERS] = None
    allowed_hosts: tuple[Text, ...] | None = None
    webhook_secret: Annotated[SecretText | None, SECRET] = None  # signs http.webhook (Standard Webhooks)

    @field_validator("allowed_hosts")
    @classmethod
    def _hosts_or_networks(cls, hosts: tuple[str, ...] | None) -> tuple[str, ...] | None:
        for host in hosts or ():
            if "/" in host:
                try:
                    ipaddress.ip_network(host, strict=False)
                except ValueError:
                    raise ValueError(f"'{host}' is not a host name or a CIDR network") from None
        return hosts


class DatabaseConnection(Shape):
    type: Literal["database"]
    url: Annotated[DatabaseURL, CREDENTIAL_URL]


class SmtpConnection(Shape):
    type: Literal["smtp"]
    host: Text
    port: Annotated[int, Field(ge=1, le=65535)]
    username: Text | None = None
    password: Annotated[SecretText | None, SECRET] = None
    starttls: bool | None = None
    ssl: bool | None = None
    sender: Text | None = None

    @model_validator(mode="after")
    def _one_tls_mode(self) -> SmtpConnection:
        if self.starttls and self.ssl:
            raise ValueError("starttls and ssl exclude each other: ssl connects with TLS, starttls upgrades")
        return self


class S3Connection(Shape):
    type: Literal["s3"]
    endpoint_url: HttpURL
    access_key_id: Text
    secret_access_key: Annotated[SecretText, SECRET]
    region: Text | None = None
    bucket: Text | None = None


class RedisConnection(Shape):
    type: Literal["redis"]
    url: Annotated[RedisURL, CREDENTIAL_URL]


Connection = HttpConnection | DatabaseConnection | SmtpConnection | S3Connection | RedisConnection
CONNECTION_TYPES = ("http", "database", "smtp", "s3", "redis")
_ADAPTER: TypeAdapter[Connection] = TypeAdapter(Annotated[Connection, Field(discriminator="type")])


def parse_connection(data: Any) -> Connection:
    """The connection shape of ``data``; :class:`InvalidConnection` lists what is wrong."""
    if not isinstance(data, Mapping):
        raise InvalidConnection("a connection must be an object of settings, with a 'type'")
    if data.get("type") not in CONNECTION_TYPES:
        raise InvalidConnection(f"'type' must be one of {', '.join(CONNECTION_TYPES)}")
    try:
        return _ADAPTER.validate_python(dict(data))
    except ValidationError as exc:
        problems = "; ".join(
            f"{_where(err['loc'])}: {err['msg'].removeprefix('Value error, ')}" for err in exc.errors()
        )
        raise InvalidConnection(f"invalid {data['type']} connection: {problems}") from None


def _where(loc: tuple[Any, ...]) -> str:
    """A field path without the tags pydantic adds for a tagged union ('http', 'basic')."""
    parts = list(loc[1:])
    if len(parts) > 1 and parts[0] == "auth" and parts[1] in AUTH_KINDS:
        del parts[1]
    return ".".join(str(p) for p in parts) or "settings"


def check_name(name: str) -> str:
    if not NAME_PATTERN.fullmatch(name):
        raise InvalidConnection(
            f"invalid connection name '{name[:100]}': use 1 to 100 letters, digits, '_', '.' or '-', "
            "starting with a letter or digit"
        )
    return name


ConnectionLookup = Callable[[str], Connection]
"""Resolves a connection name to its shape (secrets decrypted), for one tenant."""


class ConnectionSource(Protocol):
    """Where a worker finds each tenant's connections."""

    async def for_tenant(self, tenant_id: str) -> ConnectionLookup: ...


class JobConnections:
    """The ``connections`` of one job's context: resolves names through ``lookup`` and remembers the
    secret values it handed out, so that what the job writes (its error, its outputs, its log
    lines) can be scrubbed of them. They also join :data:`known_secrets`, for the log filter."""

    def __init__(self, lookup: ConnectionLookup) -> None:
        self.lookup = lookup
        self.secrets = SecretSet()

    def __call__(self, name: str) -> dict[str, Any]:
        connection = self.lookup(name)
        values = connection.secret_values()
        self.secrets.add(values)
        known_secrets.add(values)
        return connection.settings()


class LazyLookup:
    """A lookup made the first time a name is asked for (reading a database only if a component
    uses a connection)."""

    def __init__(self, load: Callable[[], ConnectionLookup]) -> None:
        self._load = load
        self._lookup: ConnectionLookup | None = None

    def __call__(self, name: str) -> Connection:
        if self._lookup is None:
            self._lookup = self._load()
        return self._lookup(name)


def static_lookup(connections: Mapping[str, Connection], *, origin: str) -> ConnectionLookup:
    """A lookup over fixed connections (a ``--connections`` file); ``origin`` names them in errors."""

    def lookup(name: str) -> Connection:
        try:
            return connections[name]
        except KeyError:
            known = ", ".join(sorted(connections)) or "none"
            raise ConfigurationError(f"no connection '{name}' in {origin} (there: {known})") from None

    return lookup


__all__ = [
    "AUTH_KINDS",
    "CONNECTION_TYPES",
    "ApiKeyAuth",
    "BasicAuth",
    "BearerAuth",
    "Connection",
    "ConnectionLookup",
    "ConnectionSource",
    "DatabaseConnection",
    "HttpConnection",
    "InvalidConnection",
    "JobConnections",
    "LazyLookup",
    "OAuth2ClientCredentials",
    "RedisConnection",
    "S3Connection",
    "Shape",
    "SmtpConnection",
    "check_name",
    "parse_connection",
    "sensitive",
    "static_lookup",
]
