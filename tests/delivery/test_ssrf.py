"""The SSRF guard, table-driven where pure and end to end against a canary listener.

The canary listens on 127.0.0.1 and, when the host has IPv6 loopback, on ::1 with the
same port; a refused target must never open a connection to it. Traffic only ever goes
to 127.0.0.1/::1: other addresses are refused before any connect, or never resolved.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import ipaddress
import pickle
import socket
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import aiohttp
import pytest
import yarl

from hookwire.delivery.ssrf import (
    AddrInfo,
    BlockedAddress,
    GuardedResolver,
    Lookup,
    blocked_reason,
    check_url_syntax,
    classify_address,
    make_connector,
)

HINT = "HOOKWIRE_ALLOW_PRIVATE_TARGETS"


def parse_host(spelling: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """An address from any spelling a URL host may use, legacy numeric IPv4 forms included."""
    host = spelling.strip("[]")
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return ipaddress.IPv4Address(socket.inet_aton(host))


# §6 item 12 of the reference, then the remaining ranges the guard names.
@pytest.mark.parametrize(
    ("spelling", "reason"),
    [
        ("127.0.0.1", "loopback address"),
        ("0.0.0.0", "unspecified address"),
        ("[::]", "unspecified address"),
        ("[::1]", "loopback address"),
        ("[::ffff:127.0.0.1]", "loopback address 127.0.0.1 in IPv4-mapped form"),
        ("10.0.0.1", "private address"),
        ("172.16.0.1", "private address"),
        ("192.168.1.1", "private address"),
        ("169.254.169.254", "cloud metadata address"),
        ("100.64.0.1", "carrier-grade NAT address"),
        ("198.18.0.1", "benchmarking address"),
        ("240.0.0.1", "reserved address"),
        ("[fe80::1]", "link-local address"),
        ("[fd00::1]", "unique local address"),
        ("[64:ff9b::7f00:1]", "loopback address 127.0.0.1 in NAT64 form"),
        ("[2002:7f00:1::]", "loopback address 127.0.0.1 in 6to4 form"),
        ("2130706433", "loopback address"),
        ("0x7f.1", "loopback address"),
        ("017700000001", "loopback address"),
        ("169.254.1.1", "link-local address"),
        ("169.254.170.2", "cloud metadata address"),
        ("[fd00:ec2::254]", "cloud metadata address"),
        ("100.100.100.200", "cloud metadata address"),
        ("[::ffff:169.254.169.254]", "cloud metadata address 169.254.169.254 in IPv4-mapped form"),
        ("[64:ff9b::a00:1]", "private address 10.0.0.1 in NAT64 form"),
        ("[2002:c0a8:101::]", "private address 192.168.1.1 in 6to4 form"),
        ("[::7f00:1]", "reserved address"),
        ("[2001:0:4136:e378:8000:63bf:3fff:fdd2]", "Teredo address"),
        ("[fe80::1%eth0]", "link-local address"),
        ("224.0.0.1", "multicast address"),
        ("[ff02::1]", "multicast address"),
        ("255.255.255.255", "reserved address"),
        ("192.0.0.8", "IETF protocol assignment address"),
        ("192.0.2.1", "documentation address"),
        ("[2001:db8::1]", "documentation address"),
        ("[fec0::1]", "site-local address"),
        ("[100::1]", "discard-only address"),
        ("8.8.8.8", None),
        ("1.1.1.1", None),
        ("[2606:4700:4700::1111]", None),
        ("[::ffff:8.8.8.8]", None),
        ("[64:ff9b::808:808]", None),
        ("[2002:808:808::]", None),
    ],
)
def test_classify_address(spelling: str, reason: str | None) -> None:
    assert classify_address(parse_host(spelling)) == reason


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/hook",
        "HTTPS://Example.com:443/a?b=c#d",
        "http://127.0.0.1:8080/x",
        "http://[::1]:9000/",
    ],
)
def test_check_url_syntax_accepts(url: str) -> None:
    assert check_url_syntax(url) is None


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("file:///etc/passwd", "scheme must be http or https"),
        ("gopher://127.0.0.1:70/_x", "scheme must be http or https"),
        ("ftp://example.com/", "scheme must be http or https"),
        ("javascript:alert(1)", "scheme must be http or https"),
        ("example.com/hook", "scheme must be http or https"),
        ("", "scheme must be http or https"),
        ("http:///path", "must include a host"),
        ("http://user@127.0.0.1/", "username or password"),
        ("http://user:pw@example.com/", "username or password"),
        ("http://:pw@example.com/", "username or password"),
        ("http://@example.com/", "username or password"),
        ("http://evil.com\\@127.0.0.1/", "not a valid URL"),
        ("http://example.com:99999/", "not a valid URL"),
        ("http://[::1/", "not a valid URL"),
        ("http://example.com:0/", "port must be between 1 and 65535"),
        ("http://exa mple.com/", "whitespace or control characters"),
        ("http://example.com/\r\nX-Injected: 1", "whitespace or control characters"),
    ],
)
def test_check_url_syntax_rejects(url: str, problem: str) -> None:
    message = check_url_syntax(url)
    assert message is not None
    assert problem in message


def test_blocked_address_names_address_host_and_setting() -> None:
    exc = BlockedAddress("0x7f.1", "127.0.0.1", "loopback address")
    assert str(exc) == (
        "refusing to connect to 127.0.0.1 (loopback address) for host '0x7f.1'; "
        "set HOOKWIRE_ALLOW_PRIVATE_TARGETS=true to allow private targets"
    )
    assert (exc.host, exc.address, exc.reason) == ("0x7f.1", "127.0.0.1", "loopback address")
    assert str(pickle.loads(pickle.dumps(exc))) == str(exc)


def test_blocked_reason_walks_cause_context_and_os_error() -> None:
    blocked = BlockedAddress("h", "10.0.0.1", "private address")
    assert blocked_reason(blocked) is blocked
    try:
        raise aiohttp.ClientConnectionError("connect failed") from blocked
    except aiohttp.ClientConnectionError as exc:
        assert blocked_reason(exc) is blocked
    try:
        try:
            raise blocked
        except BlockedAddress:
            raise RuntimeError("while handling") from None
    except RuntimeError as exc:
        assert exc.__cause__ is None
        assert blocked_reason(exc) is blocked  # found through __context__
    wrapper = OSError("wrapped")
    wrapper.os_error = blocked  # type: ignore[attr-defined]  # aiohttp's ClientOSError attribute
    assert blocked_reason(wrapper) is blocked
    first, second = ValueError("a"), ValueError("b")
    first.__context__, second.__context__ = second, first
    assert blocked_reason(first) is None


def test_metadata_needs_an_explicit_network_even_when_private_targets_are_allowed() -> None:
    metadata = ipaddress.ip_address("169.254.169.254")
    with pytest.raises(BlockedAddress, match="stays refused with HOOKWIRE_ALLOW_PRIVATE_TARGETS=true"):
        GuardedResolver(allow_private=True).check("x", metadata)
    GuardedResolver(allow_private=False, allowed_networks=["169.254.169.254/32"]).check("x", metadata)
    GuardedResolver(allow_private=True).check("x", ipaddress.ip_address("10.0.0.1"))


def test_allowed_networks_cover_the_ipv4_mapped_form() -> None:
    resolver = GuardedResolver(allow_private=False, allowed_networks=["127.0.0.0/8"])
    resolver.check("x", ipaddress.ip_address("::ffff:127.0.0.1"))
    with pytest.raises(BlockedAddress):
        resolver.check("x", ipaddress.ip_address("::1"))


def test_socket_factory_refuses_the_exact_address() -> None:
    addr_info = (socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", ("127.0.0.1", 80))
    with pytest.raises(OSError, match=r"127\.0\.0\.1 \(loopback address\)") as info:
        GuardedResolver(allow_private=False).guarded_socket(addr_info)
    assert info.value.errno == errno.EACCES
    assert isinstance(info.value.__cause__, BlockedAddress)
    GuardedResolver(allow_private=True).guarded_socket(addr_info).close()


def fake_dns(*answers: list[str], calls: list[str] | None = None) -> Lookup:
    """A lookup that gives the next answer on each call: a DNS server the test controls."""
    queue = list(answers)

    async def lookup(host: str, port: int, family: int) -> list[AddrInfo]:
        if calls is not None:
            calls.append(host)
        addresses = queue.pop(0) if len(queue) > 1 else queue[0]
        return [
            (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
            for a in addresses
        ]

    return lookup


@pytest.mark.parametrize(
    "answer", [["10.1.2.3"], ["93.184.215.14", "10.0.0.1"], ["10.0.0.1", "93.184.215.14"]]
)
async def test_a_name_with_any_private_address_is_refused_entirely(answer: list[str]) -> None:
    resolver = GuardedResolver(allow_private=False, lookup=fake_dns(answer))
    with pytest.raises(BlockedAddress) as info:
        await resolver.resolve("mixed.example", 443)
    assert info.value.address.startswith("10.")
    assert info.value.host == "mixed.example"


async def test_resolver_refuses_metadata_hostnames_without_a_lookup() -> None:
    calls: list[str] = []
    resolver = GuardedResolver(allow_private=True, lookup=fake_dns(["169.254.169.254"], calls=calls))
    with pytest.raises(BlockedAddress, match="cloud metadata hostname"):
        await resolver.resolve("Metadata.Google.Internal.", 80)
    assert calls == []


@dataclass
class Canary:
    """Counts every TCP connection it accepts and answers each request 200."""

    port: int = 0
    has_ipv6: bool = False
    connections: int = 0
    servers: list[asyncio.Server] = field(default_factory=list)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            await reader.readexactly(length)
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
            await writer.drain()
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


@pytest.fixture
async def canary() -> AsyncIterator[Canary]:
    canary = Canary()
    for _ in range(20):
        v4 = await asyncio.start_server(canary.handle, "127.0.0.1", 0)
        canary.port, canary.servers = v4.sockets[0].getsockname()[1], [v4]
        try:
            canary.servers.append(await asyncio.start_server(canary.handle, "::1", canary.port))
            canary.has_ipv6 = True
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:  # the v6 port is taken: try another pair
                v4.close()
                await v4.wait_closed()
                continue
        break
    yield canary
    for server in canary.servers:
        server.close()
        await server.wait_closed()


async def post(url: str, **guard: object) -> int:
    async with (
        aiohttp.ClientSession(connector=make_connector(**guard)) as session,  # type: ignore[arg-type]
        session.post(url, data=b"{}", allow_redirects=False) as response,
    ):
        return response.status


async def refused(url: str, **guard: object) -> BlockedAddress:
    """The BlockedAddress behind a refused POST, which aiohttp reports as a connection error."""
    with pytest.raises(aiohttp.ClientConnectorError) as info:
        await post(url, **guard)
    blocked = blocked_reason(info.value)
    assert blocked is not None, info.value
    return blocked


async def test_aiohttp_reports_a_refusal_as_a_connection_error_chained_to_it(canary: Canary) -> None:
    with pytest.raises(aiohttp.ClientConnectorDNSError) as info:
        await post(f"http://0x7f.1:{canary.port}/", allow_private=False)
    exc = info.value
    assert isinstance(exc, aiohttp.ClientError)  # caught by a sender's usual `except`
    assert exc.os_error.errno == errno.EACCES
    assert isinstance(exc.os_error.__cause__, BlockedAddress)
    assert exc.__cause__ is exc.os_error
    assert blocked_reason(exc) is exc.os_error.__cause__
    assert str(exc.os_error.__cause__) in str(exc)
    assert canary.connections == 0


@pytest.mark.parametrize(
    ("host", "addresses", "needs_ipv6"),
    [
        ("127.0.0.1", {"127.0.0.1"}, False),
        ("[::1]", {"::1"}, True),
        ("[::ffff:127.0.0.1]", {"::ffff:7f00:1"}, False),
        ("0x7f.1", {"127.0.0.1"}, False),
        ("2130706433", {"127.0.0.1"}, False),
        ("017700000001", {"127.0.0.1"}, False),
        ("localhost", {"127.0.0.1", "::1"}, False),
        ("0.0.0.0", {"0.0.0.0"}, False),
        ("[::]", {"::"}, True),
    ],
)
async def test_loopback_spellings_never_reach_the_canary(
    canary: Canary, host: str, addresses: set[str], needs_ipv6: bool
) -> None:
    if needs_ipv6 and not canary.has_ipv6:
        pytest.skip("IPv6 loopback (::1) is not available on this host")
    url = f"http://{host}:{canary.port}/hook"
    blocked = await refused(url, allow_private=False)
    assert blocked.address in addresses
    assert f"refusing to connect to {blocked.address} (" in str(blocked)
    assert HINT in str(blocked)
    assert blocked.host == yarl.URL(url).raw_host  # as aiohttp saw it: [::ffff:127.0.0.1] -> ::ffff:7f00:1
    # Control: a permitted request is counted, so a stray connection above would have been too.
    assert await post(f"http://127.0.0.1:{canary.port}/", allow_private=True) == 200
    assert canary.connections == 1


async def test_error_for_a_hex_host_is_exact(canary: Canary) -> None:
    blocked = await refused(f"http://0x7f.1:{canary.port}/", allow_private=False)
    assert str(blocked) == (
        "refusing to connect to 127.0.0.1 (loopback address) for host '0x7f.1'; "
        "set HOOKWIRE_ALLOW_PRIVATE_TARGETS=true to allow private targets"
    )


@pytest.mark.parametrize(
    ("host", "reason"),
    [
        ("10.0.0.1", "private address"),
        ("169.254.169.254", "cloud metadata address"),
        ("metadata.google.internal", "cloud metadata hostname"),
    ],
)
async def test_private_and_metadata_targets_are_refused_before_any_connect(
    canary: Canary, host: str, reason: str
) -> None:
    # Preconditions on what is safe to try, so a broken guard fails here and the request
    # below never sends traffic: the resolver refuses the host, and the connector refuses
    # an IP literal (the path these addresses take) on loopback, where the canary listens.
    with pytest.raises(BlockedAddress):
        await GuardedResolver(allow_private=False).resolve(host, 80)
    await refused(f"http://127.0.0.1:{canary.port}/", allow_private=False)
    assert canary.connections == 0
    started = time.monotonic()
    blocked = await refused(f"http://{host}/hook", allow_private=False)
    assert time.monotonic() - started < 1.0
    assert blocked.reason == reason
    assert host in str(blocked)


async def test_allow_private_reaches_loopback(canary: Canary) -> None:
    assert await post(f"http://127.0.0.1:{canary.port}/", allow_private=True) == 200
    assert canary.connections == 1


async def test_allowed_networks_permit_only_the_listed_cidrs(canary: Canary) -> None:
    allowed = {"allow_private": False, "allowed_networks": ["127.0.0.0/8"]}
    assert await post(f"http://127.0.0.1:{canary.port}/", **allowed) == 200
    blocked = await refused(f"http://[::1]:{canary.port}/", **allowed)
    assert blocked.address == "::1"
    assert canary.connections == 1
    resolver = GuardedResolver(allow_private=False, allowed_networks=["127.0.0.0/8"])
    with pytest.raises(BlockedAddress, match="cloud metadata address"):
        await resolver.resolve("169.254.169.254", 80)


async def test_ip_literals_go_through_the_resolver(canary: Canary) -> None:
    calls: list[str] = []
    guard = {"allow_private": True, "lookup": fake_dns(["127.0.0.1"], calls=calls)}
    assert await post(f"http://127.0.0.1:{canary.port}/", **guard) == 200
    assert calls == ["127.0.0.1"]


async def test_mixed_answer_is_refused_before_connecting_to_the_allowed_address(canary: Canary) -> None:
    guard = {
        "allow_private": False,
        "allowed_networks": ["127.0.0.1/32"],
        "lookup": fake_dns(["127.0.0.1", "::1"]),
    }
    blocked = await refused(f"http://mixed.test:{canary.port}/", **guard)
    assert "to ::1 (loopback address) for host 'mixed.test'" in str(blocked)
    assert canary.connections == 0


async def test_each_connection_resolves_once_and_rebinding_is_caught(canary: Canary) -> None:
    calls: list[str] = []
    connector = make_connector(
        allow_private=False,
        allowed_networks=["127.0.0.1/32"],
        lookup=fake_dns(["127.0.0.1"], ["::1"], calls=calls),
    )
    url = f"http://rebind.test:{canary.port}/"
    async with aiohttp.ClientSession(connector=connector) as session:
        async with session.post(url, data=b"{}") as response:
            assert response.status == 200
        assert calls == ["rebind.test"]  # one lookup, checked, then connected to that answer
        # The canary closes each connection, so the next request resolves and checks again.
        with pytest.raises(aiohttp.ClientConnectorError) as info:
            await session.post(url, data=b"{}")
        assert getattr(blocked_reason(info.value), "address", None) == "::1"
    assert calls == ["rebind.test", "rebind.test"]
    assert canary.connections == 1


async def test_redirect_to_a_refused_address_never_connects(canary: Canary) -> None:
    if not canary.has_ipv6:
        pytest.skip("IPv6 loopback (::1) is not available on this host")

    async def redirect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        target = f"http://[::1]:{canary.port}/".encode()
        writer.write(b"HTTP/1.1 302 Found\r\nLocation: " + target + b"\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()

    redirector = await asyncio.start_server(redirect, "127.0.0.1", 0)
    port = redirector.sockets[0].getsockname()[1]
    try:
        connector = make_connector(allow_private=False, allowed_networks=["127.0.0.1/32"])
        async with aiohttp.ClientSession(connector=connector) as session:
            with pytest.raises(aiohttp.ClientConnectorError) as info:
                await session.post(f"http://127.0.0.1:{port}/", data=b"{}", allow_redirects=True)
        assert getattr(blocked_reason(info.value), "address", None) == "::1"
    finally:
        redirector.close()
        await redirector.wait_closed()
    assert canary.connections == 0
