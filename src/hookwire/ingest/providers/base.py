"""The shape every provider shares, and the few parsing steps they all need.

A verifier reads attacker-controlled bytes, so the helpers here return `None` instead of
raising: a provider turns `None` into `reject(...)` and the caller never sees an exception
from a bad header or body. Comparison is always `hmac.compare_digest` on bytes.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

TEXT_PLAIN = "text/plain; charset=utf-8"
APPLICATION_JSON = "application/json"


@dataclass(frozen=True)
class InboundRequest:
    """A received HTTP request, exactly as the provider sent it.

    `url` is the full URL the provider called (scheme://host[:port]/path?query): Twilio,
    HubSpot and Microsoft Graph sign or carry data in it. Header names are lower-cased
    on construction so every lookup is case-insensitive.
    """

    method: str
    url: str
    headers: Mapping[str, str]
    body: bytes = b""

    def __post_init__(self) -> None:
        lowered = MappingProxyType({name.lower(): value for name, value in self.headers.items()})
        object.__setattr__(self, "headers", lowered)

    def header(self, name: str) -> str | None:
        """The header's value stripped of surrounding blanks; `None` when absent or empty."""
        value = self.headers.get(name.lower())
        if value is None or not value.strip():
            return None
        return value.strip()


@dataclass(frozen=True)
class Challenge:
    """The exact response to send back for a handshake (Slack, Zoom, Meta, Twitch, Graph)."""

    status: int
    content_type: str
    body: bytes

    @classmethod
    def text(cls, text: str) -> Challenge:
        return cls(status=200, content_type=TEXT_PLAIN, body=utf8(text))

    @classmethod
    def json(cls, document: Mapping[str, str]) -> Challenge:
        """Compact JSON, so the bytes are predictable and testable."""
        body = json.dumps(dict(document), separators=(",", ":")).encode("utf-8")
        return cls(status=200, content_type=APPLICATION_JSON, body=body)


@dataclass(frozen=True)
class Verdict:
    """The outcome of verifying one request; `reason` never contains a secret."""

    ok: bool
    reason: str = ""
    event_id: str | None = None
    event_type: str | None = None
    challenge: Challenge | None = None


class Provider(Protocol):
    """What the HTTP layer calls; `name` is the source type (read-only, so frozen types fit)."""

    @property
    def name(self) -> str: ...

    def verify(self, request: InboundRequest, config: Mapping[str, Any], now: float) -> Verdict: ...


def reject(reason: str) -> Verdict:
    return Verdict(ok=False, reason=reason)


def config_secret(config: Mapping[str, Any]) -> str | None:
    """`config["secret"]` when it is a non-empty string: every provider's signing key."""
    secret = config.get("secret")
    return secret if isinstance(secret, str) and secret else None


def utf8(text: str) -> bytes:
    """UTF-8 bytes of text from the request; lone surrogates pass through so this never raises."""
    return text.encode("utf-8", "surrogatepass")


def hmac_digest(key: str | bytes, message: bytes, algorithm: str = "sha256") -> bytes:
    raw_key = utf8(key) if isinstance(key, str) else key
    return hmac.new(raw_key, message, algorithm).digest()


def matches_any(expected: str, candidates: Iterable[str]) -> bool:
    """True when one candidate equals `expected` (ASCII hex or base64), in constant time each.

    Every candidate is tried, so a header listing an old and a new signature (rotation)
    verifies with either. A non-ASCII candidate can never match and is skipped.
    """
    wanted = expected.encode("ascii")
    found = False
    for candidate in candidates:
        if candidate.isascii() and hmac.compare_digest(wanted, candidate.encode("ascii")):
            found = True
    return found


def parse_digits(text: str | None, max_digits: int = 15) -> int | None:
    """A non-negative integer written with ASCII digits only, else `None`.

    `int()` alone would also accept `" 12"`, `"+12"`, `"1_2"` and non-ASCII digits.
    """
    if text is None or not (text.isascii() and text.isdigit()) or len(text) > max_digits:
        return None
    return int(text)


def timestamp_problem(
    timestamp: float, now: float, tolerance: float, *, past_only: bool = False
) -> str | None:
    """Why `timestamp` falls outside `now ± tolerance` (or only `now - tolerance`), else `None`."""
    if timestamp < now - tolerance:
        return f"timestamp is more than {tolerance:g} s old"
    if not past_only and timestamp > now + tolerance:
        return f"timestamp is more than {tolerance:g} s in the future"
    return None


def parse_json(body: bytes) -> Any:
    """The decoded JSON document, or `None` when the body is not JSON (or is `null`)."""
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        return None


def json_object(body: bytes) -> dict[str, Any] | None:
    document = parse_json(body)
    return document if isinstance(document, dict) else None


def string_at(document: Any, *path: str) -> str | None:
    """The string (or integer, as text) found by walking `path` through nested objects."""
    for key in path:
        if not isinstance(document, dict):
            return None
        document = document.get(key)
    if isinstance(document, bool):
        return None
    if isinstance(document, str | int):
        return str(document)
    return None


def query_params(url: str) -> dict[str, list[str]] | None:
    """The URL's query string, decoded; `None` when the URL cannot be parsed."""
    try:
        return parse_qs(urlsplit(url).query, keep_blank_values=True)
    except ValueError:
        return None
