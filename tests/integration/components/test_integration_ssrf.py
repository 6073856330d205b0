"""The SSRF guard, through http.request and through the guarded transport, against a loopback server."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

import httpx
import pytest

from apg_workflow.components import ConfigurationError
from apg_workflow.components.builtins.integration.http import HttpRequestComponent
from apg_workflow.components.builtins.integration.ssrf import (
    AddressGuard,
    AddressNotAllowed,
    AllowList,
    GuardedTransport,
    blocked_reason,
)

from .conftest import LoopbackHttp, RunComponent


@pytest.mark.parametrize(
    ("host", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("10.0.0.7", "private"),
        ("172.16.4.2", "private"),
        ("172.31.255.255", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "cloud metadata"),
        ("169.254.10.1", "link-local"),
        ("[::1]", "loopback"),
        ("[fc00::1]", "unique-local"),
        ("[fd00:ec2::254]", "cloud metadata"),
        ("[fe80::1]", "link-local"),
        ("0.0.0.0", "unspecified"),
        ("[::ffff:127.0.0.1]", "loopback"),
        ("100.64.0.1", "non-public"),
    ],
)
@pytest.mark.asyncio
async def test_private_and_special_addresses_are_refused(
    run_component: RunComponent, host: str, reason: str
) -> None:
    with pytest.raises(AddressNotAllowed, match=f"it is an? {reason} address.*allowed_hosts"):
        await run_component(HttpRequestComponent, {"url": f"http://{host}:8080/admin", "retries": 0})


@pytest.mark.asyncio
async def test_a_name_resolving_to_loopback_is_refused(
    http_server: LoopbackHttp, run_component: RunComponent
) -> None:
    with pytest.raises(AddressNotAllowed, match=r"'localhost' \(resolves to .*\): it is a loopback address"):
        await run_component(HttpRequestComponent, {"url": http_server.url("/", host="localhost")})
    assert http_server.received == []


@pytest.mark.asyncio
async def test_allowed_hosts_let_a_name_or_a_network_through(
    http_server: LoopbackHttp, run_component: RunComponent
) -> None:
    for allowed, host in (
        (["localhost"], "localhost"),
        (["127.0.0.0/8"], "127.0.0.1"),
        (["127.0.0.1"], "127.0.0.1"),
    ):
        connections = {"svc": {"type": "http", "allowed_hosts": allowed}}
        out = await run_component(
            HttpRequestComponent,
            {"connection": "svc", "url": http_server.url("/ok", host=host)},
            connections=connections,
        )
        assert out["status"] == 200
    assert len(http_server.received) == 3


@pytest.mark.asyncio
async def test_a_redirect_to_a_private_address_is_refused(
    http_server: LoopbackHttp, run_component: RunComponent
) -> None:
    http_server.route("/jump", lambda r: (302, {"Location": http_server.url("/internal")}, ""))
    connections = {"svc": {"type": "http", "allowed_hosts": ["localhost"]}}
    with pytest.raises(AddressNotAllowed, match=r"refused to connect to 127\.0\.0\.1"):
        await run_component(
            HttpRequestComponent,
            {"connection": "svc", "url": http_server.url("/jump", host="localhost")},
            connections=connections,
        )
    assert [r.path for r in http_server.received] == ["/jump"]


def resolver(table: dict[str, Sequence[str]], calls: list[str]):  # type: ignore[no-untyped-def]
    async def resolve(host: str, port: int) -> Sequence[str]:
        calls.append(host)
        return table[host]

    return resolve


@pytest.mark.asyncio
async def test_every_resolved_address_is_checked() -> None:
    calls: list[str] = []
    guard = AddressGuard(resolver=resolver({"mixed.test": ["93.184.216.34", "127.0.0.1"]}, calls))
    async with httpx.AsyncClient(transport=GuardedTransport(guard)) as client:
        with pytest.raises(AddressNotAllowed, match=r"'mixed.test' \(resolves to 127.0.0.1\)"):
            await client.get("http://mixed.test/")
    assert calls == ["mixed.test"]


@pytest.mark.asyncio
async def test_the_connection_goes_to_the_checked_address_keeping_the_host_header(
    http_server: LoopbackHttp,
) -> None:
    """A rebinding DNS answers differently on every lookup; the transport looks up once and connects
    to the address it checked, never asking the system resolver again."""
    calls: list[str] = []
    guard = AddressGuard(
        AllowList.parse(["127.0.0.1/32"]), resolver=resolver({"app.test": ["127.0.0.1"]}, calls)
    )
    async with httpx.AsyncClient(transport=GuardedTransport(guard)) as client:
        response = await client.get(f"http://app.test:{http_server.port}/where")
    assert response.status_code == 200
    assert calls == ["app.test"]
    assert http_server.received[-1].headers["host"] == f"app.test:{http_server.port}"


def test_blocked_reason_passes_public_addresses() -> None:
    for public in ("93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946", "8.8.8.8"):
        assert blocked_reason(ipaddress.ip_address(public)) is None
    assert blocked_reason(ipaddress.ip_address("2002:7f00:1::1")) == "a loopback address"  # 6to4 of 127.0.0.1
    assert blocked_reason(ipaddress.ip_address("64:ff9b::a00:1")) == "a private address"  # NAT64 of 10.0.0.1


@pytest.mark.asyncio
async def test_a_malformed_allow_list_is_a_configuration_error(run_component: RunComponent) -> None:
    with pytest.raises(ConfigurationError, match="neither a host name nor a CIDR"):
        await run_component(
            HttpRequestComponent,
            {"connection": "svc", "url": "http://example.com"},
            connections={"svc": {"type": "http", "allowed_hosts": ["10.0.0.0/33"]}},
        )
