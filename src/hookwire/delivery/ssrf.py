"""The SSRF guard: webhooks go only to public addresses unless configuration says otherwise.

Customers choose the URLs we POST to; unguarded, hookwire could be aimed at its own database
or the cloud metadata service. As in svix-server and smokescreen (reference §4.1): resolve
once, check every address, connect only to those addresses, so DNS cannot change between
check and connect (rebinding). Three layers, so one aiohttp change cannot silently open a
hole: `GuardedResolver` checks every answer; the `make_connector` connector also sends IP
literals to it (aiohttp skips the resolver for them) and caches nothing; its socket factory
checks the exact address of every socket before it connects.

A refusal reaches the caller as `aiohttp.ClientConnectorDNSError`, an ordinary connection
failure: aiohttp would let a non-OSError escape every `except aiohttp.ClientError`, so the
connector re-raises `BlockedAddress` as a chained `OSError(EACCES)`; `blocked_reason(exc)`
finds the `BlockedAddress` again.
"""

from __future__ import annotations

import asyncio
import errno
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Sequence
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import yarl
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.tracing import Trace

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
AddrInfo = tuple[Any, Any, int, str, tuple[Any, ...]]
Lookup = Callable[[str, int, int], Awaitable[list[AddrInfo]]]

ALLOW_SETTING = "HOOKWIRE_ALLOW_PRIVATE_TARGETS"
_PRIVATE_HINT = f"set {ALLOW_SETTING}=true to allow private targets"
_METADATA_HINT = f"metadata stays refused with {ALLOW_SETTING}=true unless its network is explicitly allowed"
_METADATA = "cloud metadata address"
_NUMERIC = socket.AI_NUMERICHOST | socket.AI_NUMERICSERV

# Instance metadata services hand out credentials: AWS/GCP/Azure/OpenStack/DigitalOcean,
# AWS ECS task metadata, AWS IMDS over IPv6, Alibaba Cloud.
_METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a) for a in ("169.254.169.254", "169.254.170.2", "fd00:ec2::254", "100.100.100.200")
)
# Resolve to 169.254.169.254 on their cloud; refused by name so the error is the same everywhere.
_METADATA_HOSTNAMES = frozenset({"metadata.google.internal", "metadata.goog"})


def _table(*rows: tuple[str, str]) -> tuple[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, str], ...]:
    return tuple((ipaddress.ip_network(net), reason) for net, reason in rows)


# Explicit tables (svix-server's list) rather than `ip.is_private`: those flags changed
# between Python patch releases, and a guard must not change with the interpreter.
_V4_BLOCKS = _table(
    ("0.0.0.0/8", "unspecified address"),  # connecting to 0.0.0.0 reaches this host on Linux
    ("10.0.0.0/8", "private address"),
    ("100.64.0.0/10", "carrier-grade NAT address"),
    ("127.0.0.0/8", "loopback address"),
    ("169.254.0.0/16", "link-local address"),
    ("172.16.0.0/12", "private address"),
    ("192.0.0.0/24", "IETF protocol assignment address"),
    ("192.0.2.0/24", "documentation address"),
    ("192.88.99.0/24", "6to4 relay anycast address"),
    ("192.168.0.0/16", "private address"),
    ("198.18.0.0/15", "benchmarking address"),
    ("198.51.100.0/24", "documentation address"),
    ("203.0.113.0/24", "documentation address"),
    ("224.0.0.0/4", "multicast address"),
    ("240.0.0.0/4", "reserved address"),  # includes 255.255.255.255
)
_V6_BLOCKS = _table(
    ("::/128", "unspecified address"),
    ("::1/128", "loopback address"),
    ("::/8", "reserved address"),  # includes the deprecated IPv4-compatible ::a.b.c.d
    ("64:ff9b:1::/48", "local-use NAT64 address"),
    ("100::/64", "discard-only address"),
    ("2001::/32", "Teredo address"),  # embeds an obfuscated IPv4 address
    ("2001::/23", "IETF protocol assignment address"),
    ("2001:db8::/32", "documentation address"),
    ("fc00::/7", "unique local address"),
    ("fe80::/10", "link-local address"),
    ("fec0::/10", "site-local address"),
    ("ff00::/8", "multicast address"),
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def _embedded_ipv4(ip: IPAddress) -> tuple[str, ipaddress.IPv4Address] | None:
    """The IPv4 address an IPv6 form routes to: these forms bypass IPv4-only checks."""
    if isinstance(ip, ipaddress.IPv4Address):
        return None
    if ip.ipv4_mapped is not None:
        return "IPv4-mapped", ip.ipv4_mapped
    if ip in _NAT64:
        return "NAT64", ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.sixtofour is not None:
        return "6to4", ip.sixtofour
    return None


def classify_address(ip: IPAddress) -> str | None:
    """None if public; else the reason ('loopback address', 'private address', 'link-local address', ...)."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.scope_id:
        ip = ipaddress.IPv6Address(int(ip))  # drop the %zone: it does not change the range
    embedded = _embedded_ipv4(ip)
    if embedded is not None:
        form, v4 = embedded
        inner = classify_address(v4)
        return None if inner is None else f"{inner} {v4} in {form} form"
    if ip in _METADATA_ADDRESSES:
        return _METADATA
    for net, reason in _V4_BLOCKS if ip.version == 4 else _V6_BLOCKS:
        if ip in net:
            return reason
    return None if ip.is_global else "non-public address"


class BlockedAddress(Exception):
    """A delivery target resolved to an address the configuration does not allow."""

    def __init__(self, host: str, address: str, reason: str, hint: str = _PRIVATE_HINT) -> None:
        super().__init__(host, address, reason, hint)  # all args, so the error pickles
        self.host, self.address, self.reason, self.hint = host, address, reason, hint

    def __str__(self) -> str:
        return f"refusing to connect to {self.address} ({self.reason}) for host {self.host!r}; {self.hint}"


def blocked_reason(exc: BaseException) -> BlockedAddress | None:
    """The BlockedAddress behind `exc`, following `os_error`, `__cause__` and `__context__`."""
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        cur = todo.pop()
        if cur is None or id(cur) in seen:
            continue
        if isinstance(cur, BlockedAddress):
            return cur
        seen.add(id(cur))
        todo += [getattr(cur, "os_error", None), cur.__cause__, cur.__context__]
    return None


def check_url_syntax(url: str) -> str | None:
    """None if `url` is an acceptable target (http/https, a host, no userinfo); else why not.

    Pure, for the API's 422. Addresses are checked on every attempt: DNS changes after creation.
    """
    if any(c.isspace() or ord(c) < 0x20 or c == "\x7f" for c in url):
        return "URL must not contain whitespace or control characters"
    try:
        parsed = yarl.URL(url)
    except (ValueError, TypeError) as exc:
        return f"not a valid URL: {exc}"
    if parsed.scheme not in ("http", "https"):
        return "URL scheme must be http or https"
    if not parsed.raw_host:
        return "URL must include a host"
    # yarl drops an empty userinfo (`http://@host`); look at the raw text as well.
    if parsed.raw_user is not None or parsed.raw_password is not None or "@" in urlsplit(url).netloc:
        return "URL must not contain a username or password"
    if parsed.explicit_port == 0:
        return "URL port must be between 1 and 65535"
    return None


class GuardedResolver(AbstractResolver):
    """Resolves via the loop's getaddrinfo (or `lookup`, the tests' fake DNS) and refuses the
    whole answer if any address is refused."""

    def __init__(
        self, *, allow_private: bool, allowed_networks: Sequence[str] = (), lookup: Lookup | None = None
    ) -> None:
        self._allow_private = allow_private
        self._allowed = tuple(ipaddress.ip_network(n, strict=False) for n in allowed_networks)
        self._lookup = lookup or self._getaddrinfo

    @staticmethod
    async def _getaddrinfo(host: str, port: int, family: int) -> list[AddrInfo]:
        loop = asyncio.get_running_loop()  # runs in the loop's executor: never blocks the loop
        return await loop.getaddrinfo(host, port, family=family, type=socket.SOCK_STREAM)

    def check(self, host: str, ip: IPAddress) -> None:
        """Raise BlockedAddress unless `ip` is public, explicitly allowed, or private and allowed."""
        reason = classify_address(ip)
        if reason is None:
            return
        mapped = ip.ipv4_mapped if isinstance(ip, ipaddress.IPv6Address) else None
        if any(a in net for a in (ip, mapped) if a is not None for net in self._allowed):
            return
        metadata = reason.startswith(_METADATA)
        if self._allow_private and not metadata:
            return
        raise BlockedAddress(host, str(ip), reason, _METADATA_HINT if metadata else _PRIVATE_HINT)

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_UNSPEC
    ) -> list[ResolveResult]:
        name = host.rstrip(".").lower()
        if name in _METADATA_HOSTNAMES:
            raise BlockedAddress(host, name, "cloud metadata hostname", _METADATA_HINT)
        infos = await self._lookup(host, port, family)
        for *_, sockaddr in infos:  # any refused address refuses the whole answer
            self.check(host, ipaddress.ip_address(str(sockaddr[0])))
        return [
            ResolveResult(hostname=host, host=str(a[0]), port=int(a[1]), family=f, proto=p, flags=_NUMERIC)
            for f, _, p, _, a in infos
        ]

    def guarded_socket(self, addr_info: AddrInfo) -> socket.socket:
        """aiohttp socket factory: the last check, on the exact address about to be connected."""
        family, type_, proto, _, sockaddr = addr_info
        address = str(sockaddr[0])
        try:
            self.check(address, ipaddress.ip_address(address))
        except BlockedAddress as exc:  # aiohappyeyeballs only handles an OSError from a factory
            raise OSError(errno.EACCES, str(exc)) from exc
        return socket.socket(family, type_, proto)

    async def close(self) -> None:
        """Nothing to release: lookups run on the loop's executor."""


class _GuardedConnector(aiohttp.TCPConnector):
    """aiohttp answers IP literals itself (`127.0.0.1`, `[::1]`) and refuses legacy numeric
    forms (`2130706433`) with its own error; route every host through the guarded resolver
    so all get the same check and the same clear error, with no cache in between."""

    async def _resolve_host(
        self, host: str, port: int, traces: Sequence[Trace] | None = None
    ) -> list[ResolveResult]:
        try:
            return await self._resolver.resolve(host, port, family=self._family)
        except BlockedAddress as exc:  # aiohttp wraps this in ClientConnectorDNSError
            raise OSError(errno.EACCES, str(exc)) from exc


def make_connector(
    *,
    allow_private: bool,
    limit: int = 0,
    limit_per_host: int = 0,
    allowed_networks: Sequence[str] = (),
    lookup: Lookup | None = None,
) -> aiohttp.TCPConnector:
    """A TCPConnector that connects only to addresses just checked (call it inside a running loop).

    No DNS cache: each new connection resolves and checks afresh, so a changed answer is caught
    on the next attempt; a pooled keep-alive connection stays on the address it was checked for.
    """
    resolver = GuardedResolver(allow_private=allow_private, allowed_networks=allowed_networks, lookup=lookup)
    return _GuardedConnector(
        resolver=resolver,
        use_dns_cache=False,
        limit=limit,
        limit_per_host=limit_per_host,
        socket_factory=resolver.guarded_socket,
    )
