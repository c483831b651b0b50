"""What `hookwire listen` does with one event: build the local request, send it, keep the answer.

Inbound requests go out as they came in: the original method, the path suffix after the
ingest URL, the query string, the headers (the provider's signature among them) and the body
byte for byte, so the local app verifies them exactly as in production. Only hop-by-hop
headers (host, content-length, ...) are left to the HTTP client. Messages of an application go
out as the delivery worker sends them: a POST of the payload with fresh Standard Webhooks headers
signed with the listen secret.
"""

from __future__ import annotations

import base64
import fnmatch
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from hookwire import __version__
from hookwire.delivery.signing import secret_key_bytes, sign

HOP_BY_HOP = frozenset(
    {
        "host",
        "content-length",
        "transfer-encoding",
        "connection",
        "keep-alive",
        "upgrade",
        "te",
        "trailer",
        "proxy-authorization",
        "proxy-connection",
    }
)
BODY_KEPT = 1024


@dataclass(frozen=True)
class ForwardRules:
    """Where and how events go: the --forward-to URL, --path-map rules, and -H headers."""

    forward_to: str
    path_map: Sequence[tuple[str, str]] = ()  # (event type pattern, local path), first match wins
    headers: Sequence[tuple[str, str]] = ()
    secret: str | None = None  # set for --app: the listen secret to sign with

    def url_for(self, event_type: str | None, suffix: str = "", query: str = "") -> str:
        parts = urlsplit(self.forward_to)
        path = parts.path
        for pattern, mapped in self.path_map:
            if event_type is not None and fnmatch.fnmatchcase(event_type, pattern):
                path = mapped
                break
        if suffix:
            path = path.rstrip("/") + "/" + suffix.lstrip("/")
        joined_query = "&".join(q for q in (parts.query, query) if q)
        return urlunsplit((parts.scheme, parts.netloc, path or "/", joined_query, ""))


def parse_path_map(values: Sequence[str]) -> list[tuple[str, str]]:
    """`invoice.*=/billing` -> ("invoice.*", "/billing"); ValueError says what is wrong."""
    rules = []
    for value in values:
        pattern, sep, path = value.partition("=")
        if not sep or not pattern.strip() or not path.strip().startswith("/"):
            raise ValueError(f"--path-map {value!r}: use EVENT_TYPE_PATTERN=/path, e.g. 'invoice.*=/billing'")
        rules.append((pattern.strip(), path.strip()))
    return rules


def parse_header(value: str) -> tuple[str, str]:
    """`'K: V'` (or `K=V`) -> ("K", "V")."""
    name, sep, rest = value.partition(":")
    if not sep:
        name, sep, rest = value.partition("=")
    if not sep or not name.strip():
        raise ValueError(f"header {value!r}: use 'Name: value'")
    return name.strip(), rest.strip()


@dataclass
class ForwardResult:
    url: str
    status: int | None
    duration_ms: int
    body: str
    error: str | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def frame(self, event_id: str) -> dict[str, Any]:
        return {
            "type": "result",
            "id": event_id,
            "url": self.url,
            "status": self.status,
            "durationMs": self.duration_ms,
            "body": self.body,
            "error": self.error,
        }


def build_request(
    frame: dict[str, Any], rules: ForwardRules, now: float
) -> tuple[str, str, list[tuple[str, str]], bytes]:
    """(method, url, headers, body) for one event frame from the server."""
    body = base64.b64decode(frame.get("body") or "")
    event_type = frame.get("eventType")
    if frame.get("kind") == "app":
        url = rules.url_for(event_type)
        assert rules.secret is not None, "the server sends the listen secret with an app listener"
        msg_id, timestamp = str(frame["id"]), int(now)
        signature = sign(msg_id, timestamp, body, [secret_key_bytes(rules.secret)])
        headers = [
            ("content-type", "application/json"),
            ("user-agent", f"hookwire-listen/{__version__}"),
        ]
        for prefix in ("webhook", "svix"):
            headers += [
                (f"{prefix}-id", msg_id),
                (f"{prefix}-timestamp", str(timestamp)),
                (f"{prefix}-signature", signature),
            ]
        method = "POST"
    else:
        url = rules.url_for(event_type, str(frame.get("path") or ""), str(frame.get("query") or ""))
        headers = [
            (str(k), str(v)) for k, v in frame.get("headers") or [] if str(k).lower() not in HOP_BY_HOP
        ]
        method = str(frame.get("method") or "POST")
    extra = {name.lower() for name, _ in rules.headers}
    headers = [h for h in headers if h[0].lower() not in extra] + list(rules.headers)
    return method, url, headers, body


async def forward(client: httpx.AsyncClient, frame: dict[str, Any], rules: ForwardRules) -> ForwardResult:
    """Send one event to the local receiver; never raises for what the receiver does."""
    method, url, headers, body = build_request(frame, rules, time.time())
    started = time.monotonic()
    try:
        response = await client.request(method, url, headers=headers, content=body)
    except httpx.HTTPError as exc:
        elapsed = int((time.monotonic() - started) * 1000)
        reason = str(exc) or type(exc).__name__
        return ForwardResult(url, None, elapsed, "", f"{type(exc).__name__}: {reason}")
    elapsed = int((time.monotonic() - started) * 1000)
    text = response.content[:BODY_KEPT].decode("utf-8", errors="replace")
    return ForwardResult(url, response.status_code, elapsed, text)
