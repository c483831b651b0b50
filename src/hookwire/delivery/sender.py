"""The sender: one signed POST with aiohttp, its outcome turned into data.

Redirects are not followed, the whole attempt is bounded by one timeout, and only
the first 64 KiB of the response body is read and kept. Every failure (timeout,
refused connection, TLS error, SSRF refusal) becomes a `SendResult` with a reason;
nothing here raises.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from dataclasses import dataclass, field

import aiohttp

from hookwire.delivery.ssrf import blocked_reason

MAX_RESPONSE_BYTES = 64 * 1024


@dataclass(frozen=True)
class SendResult:
    status_code: int  # 0 when no HTTP response arrived
    duration_ms: int
    body: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    error: str | None = None


async def _read_limited(response: aiohttp.ClientResponse) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while size < MAX_RESPONSE_BYTES:
        chunk = await response.content.read(MAX_RESPONSE_BYTES - size)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def describe_error(exc: BaseException, url: str, timeout: float) -> str:
    """A one-line reason for an attempt that got no response."""
    blocked = blocked_reason(exc)
    if blocked is not None:
        return str(blocked)
    if isinstance(exc, asyncio.TimeoutError | TimeoutError):
        return f"timed out after {timeout:g}s"
    if isinstance(exc, aiohttp.ClientSSLError | ssl.SSLError):
        return f"TLS error: {exc}"
    if isinstance(exc, aiohttp.ClientConnectorError):
        return f"connection failed: {exc.os_error or exc}"
    if isinstance(exc, aiohttp.InvalidURL):
        return f"invalid URL: {url}"
    return f"{type(exc).__name__}: {exc}"


class Sender:
    """Sends webhook requests through one session (one connection pool per origin)."""

    def __init__(self, session: aiohttp.ClientSession, timeout: float) -> None:
        self._session = session
        self._timeout = timeout
        self._client_timeout = aiohttp.ClientTimeout(total=timeout)

    async def send(self, url: str, body: bytes, headers: dict[str, str]) -> SendResult:
        started = time.monotonic()
        try:
            async with self._session.post(
                url, data=body, headers=headers, allow_redirects=False, timeout=self._client_timeout
            ) as response:
                raw = await _read_limited(response)
                return SendResult(
                    status_code=response.status,
                    duration_ms=int((time.monotonic() - started) * 1000),
                    body=raw.decode("utf-8", errors="replace"),
                    headers={k.lower(): v for k, v in response.headers.items()},
                )
        except (aiohttp.ClientError, TimeoutError, OSError, ValueError) as exc:
            return SendResult(
                status_code=0,
                duration_ms=int((time.monotonic() - started) * 1000),
                error=describe_error(exc, url, self._timeout),
            )
