"""The server-side request forgery guard shared by every outbound HTTP call of the integration family.

A URL taken from workflow data must not let a process reach the platform's own network: loopback,
private (RFC 1918), carrier-grade NAT, link-local (the cloud metadata endpoint 169.254.169.254),
unique-local, multicast and unspecified addresses are refused. A host name is resolved and EVERY
address it resolves to is checked; the connection is then opened to a checked address (never by name
again), so a DNS answer that changes between the check and the connect (DNS rebinding) cannot slip
through. TLS still verifies the certificate against the host name, and the Host header is unchanged.

A connection's ``allowed_hosts`` (host names, ``*.suffix`` wildcards, IP addresses or CIDR networks)
exempts the hosts and networks it names, e.g. an internal service on 10.0.0.0/8.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass

import anyio
import httpcore
import httpx

from apg_workflow.components.errors import ConfigurationError, RetryableError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], Awaitable[Sequence[str]]]

_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_METADATA = {ipaddress.IPv4Address("169.254.169.254"), ipaddress.IPv6Address("fd00:ec2::254")}


class AddressNotAllowed(ConfigurationError):
    """An outbound request would reach an address the SSRF guard blocks."""


async def system_resolver(host: str, port: int) -> Sequence[str]:
    """Every address the system resolver gives for ``host`` (a literal IP resolves to itself)."""
    try:
        infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise RetryableError(f"cannot resolve host '{host}': {exc.strerror}") from None
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _embedded_ipv4(address: IPAddress) -> IPAddress:
    """The IPv4 address an IPv6 address carries (mapped, 6to4, Teredo, NAT64), else the address."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        if address.sixtofour is not None:
            return address.sixtofour
        if address.teredo is not None:
            return address.teredo[1]
        if address in _NAT64:
            return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address


def blocked_reason(address: IPAddress) -> str | None:
    """Why an address is refused (None when it is a public unicast address)."""
    target = _embedded_ipv4(address)
    if target in _METADATA or address in _METADATA:
        return "a cloud metadata address"
    checks = (
        (target.is_unspecified, "an unspecified address"),
        (target.is_loopback, "a loopback address"),
        (target.is_link_local, "a link-local address"),
        (target.is_multicast, "a multicast address"),
        (
            isinstance(target, ipaddress.IPv6Address) and target in ipaddress.IPv6Network("fc00::/7"),
            "a unique-local address",
        ),
        (target.is_private, "a private address"),
        (not target.is_global, "a non-public address"),
    )
    return next((reason for hit, reason in checks if hit), None)


@dataclass(frozen=True, slots=True)
class AllowList:
    """Hosts and networks a connection exempts from the guard."""

    names: frozenset[str] = frozenset()
    suffixes: tuple[str, ...] = ()
    networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def parse(cls, entries: Iterable[object]) -> AllowList:
        names: set[str] = set()
        suffixes: list[str] = []
        networks: list[IPNetwork] = []
        for entry in entries:
            if not isinstance(entry, str) or not entry.strip():
                raise ConfigurationError(f"allowed_hosts entries must be host names or CIDRs, not {entry!r}")
            text = entry.strip().lower().rstrip(".")
            try:
                networks.append(ipaddress.ip_network(text.strip("[]"), strict=False))
                continue
            except ValueError:
                pass
            if text.startswith("*."):
                suffixes.append(text[1:])
            elif "/" in text or ":" in text or " " in text:
                raise ConfigurationError(f"allowed_hosts entry '{entry}' is neither a host name nor a CIDR")
            else:
                names.add(text)
        return cls(frozenset(names), tuple(suffixes), tuple(networks))

    def allows_host(self, host: str) -> bool:
        name = host.lower().rstrip(".")
        return name in self.names or any(name.endswith(suffix) for suffix in self.suffixes)

    def allows_address(self, address: IPAddress) -> bool:
        return any(address in network for network in self.networks if address.version == network.version)


@dataclass(frozen=True, slots=True)
class AddressGuard:
    """Resolves a host and returns the addresses it may connect to, or refuses with a clear error."""

    allow: AllowList = AllowList()
    resolver: Resolver = system_resolver

    async def checked_addresses(self, host: str, port: int) -> list[str]:
        host = host.strip("[]")
        addresses = await self.resolver(host, port)
        if not addresses:
            raise RetryableError(f"host '{host}' resolved to no address")
        if self.allow.allows_host(host):
            return list(addresses)
        for text in addresses:
            address = ipaddress.ip_address(text.split("%", 1)[0])
            reason = blocked_reason(address)
            if reason is not None and not self.allow.allows_address(address):
                shown = host if host == text else f"'{host}' (resolves to {text})"
                raise AddressNotAllowed(
                    f"refused to connect to {shown}: it is {reason}, blocked to prevent server-side "
                    "request forgery; list the host or its network in the connection's allowed_hosts "
                    "to permit it"
                )
        return list(addresses)


def check_scheme(url: httpx.URL) -> None:
    if url.scheme not in ("http", "https") or not url.host:
        raise ConfigurationError(f"only absolute http:// and https:// URLs can be requested, not '{url}'")


class _GuardedBackend(httpcore.AsyncNetworkBackend):
    """Opens TCP connections only to addresses the guard checked, by address rather than by name."""

    def __init__(self, guard: AddressGuard) -> None:
        self._guard = guard
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await self._guard.checked_addresses(host, port)
        failure: Exception | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(address, port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        assert failure is not None
        raise failure

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise AddressNotAllowed("connections to Unix sockets are not allowed")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's transport with every connection opened through the guard. Proxies from the environment
    are ignored: a proxy would connect by name, out of the guard's sight."""

    def __init__(self, guard: AddressGuard, ssl_context: ssl.SSLContext | None = None) -> None:
        super().__init__(trust_env=False)
        # httpx does not expose httpcore's network_backend, so its pool is rebuilt with the guarded one.
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context or httpx.create_ssl_context(trust_env=False),
            max_connections=20,
            max_keepalive_connections=5,
            keepalive_expiry=5.0,
            network_backend=_GuardedBackend(guard),
        )


__all__ = [
    "AddressGuard",
    "AddressNotAllowed",
    "AllowList",
    "GuardedTransport",
    "blocked_reason",
    "check_scheme",
]
