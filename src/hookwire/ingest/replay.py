"""Replay a captured request to another URL (the request bin's "replay to …").

The request goes out as it came in: same method, path-independent target, headers (less
the hop-by-hop ones) and body. The target passes the same SSRF guard as deliveries, so
a replay cannot reach a private address unless HOOKWIRE_ALLOW_PRIVATE_TARGETS allows it.
"""

from __future__ import annotations

import base64
import time

import aiohttp

from hookwire.delivery.ssrf import blocked_reason, check_url_syntax, make_connector
from hookwire.errors import ValidationFailed
from hookwire.ingest.requests import get_request
from hookwire.outbound.models import Model
from hookwire.runtime import Runtime

_NOT_FORWARDED = {
    "host",
    "content-length",
    "connection",
    "transfer-encoding",
    "accept-encoding",
    "keep-alive",
}
_KEPT_BYTES = 4096


class ReplayIn(Model):
    url: str


class ReplayOut(Model):
    url: str
    status_code: int
    response: str
    duration_ms: int
    error: str | None = None


async def replay_request(rt: Runtime, source_key: str, request_id: str, data: ReplayIn) -> ReplayOut:
    """Send the captured request to `data.url` once; answer with what came back (first 4 KiB)."""
    problem = check_url_syntax(data.url)
    if problem is not None:
        raise ValidationFailed.field(["url"], problem)
    captured = await get_request(rt, source_key, request_id)
    body = base64.b64decode(captured.body_base64) if captured.body_base64 else captured.body.encode()
    headers = {k: v for k, v in captured.headers.items() if k.lower() not in _NOT_FORWARDED}
    connector = make_connector(allow_private=rt.settings.allow_private_targets)
    timeout = aiohttp.ClientTimeout(total=rt.settings.request_timeout)
    started = time.monotonic()
    async with aiohttp.ClientSession(
        connector=connector, timeout=timeout, cookie_jar=aiohttp.DummyCookieJar()
    ) as s:
        try:
            async with s.request(
                captured.method, data.url, headers=headers, data=body, allow_redirects=False
            ) as r:
                text = (await r.content.read(_KEPT_BYTES)).decode(errors="replace")
                status = r.status
            error = None
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            blocked = blocked_reason(exc)
            if blocked is not None:
                raise ValidationFailed.field(["url"], str(blocked)) from None
            status, text, error = 0, "", f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return ReplayOut(
        url=data.url,
        status_code=status,
        response=text,
        duration_ms=int((time.monotonic() - started) * 1000),
        error=error,
    )
