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

from hookwire.delivery.local_errors import local_cause
from hookwire.delivery.ssrf import blocked_reason

MAX_RESPONSE_BYTES = 64 * 1024
# Responses are kept as they came; asking for gzip would store compressed bytes.
_SKIP_AUTO_HEADERS = frozenset({"Accept-Encoding"})


@dataclass(frozen=True)
class SendResult:
    status_code: int  # 0 when no HTTP response arrived
    duration_ms: int
    body: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    error: str | None = None
    local: bool = False  # failed on this machine before reaching the network: not an attempt
    canceled: bool = False  # nothing was sent: the endpoint's transformation cancelled it


async def _read_limited(response: aiohttp.ClientResponse) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while size < MAX_RESPONSE_BYTES:
        chunk = await response.content.read(MAX_RESPONSE_BYTES - size)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
        if response.content.at_eof():  # the usual small answer: no second read
            break
    return b"".join(chunks)


def _text(raw: bytes) -> str:
    """Body bytes as storable text: invalid UTF-8 and NUL (PostgreSQL TEXT refuses it) replaced."""
    return raw.decode("utf-8", errors="replace").replace("\x00", "\ufffd")


def describe_error(exc: BaseException, url: str, timeout: float) -> str:
    """A one-line reason for an attempt that got no (complete) response."""
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


_FAILURES = (aiohttp.ClientError, TimeoutError, OSError, ValueError)


class Sender:
    """Sends webhook requests through one session (one connection pool per origin)."""

    def __init__(self, session: aiohttp.ClientSession, timeout: float) -> None:
        self._session = session
        self._timeout = timeout
        self._client_timeout = aiohttp.ClientTimeout(total=timeout)

    async def send(self, url: str, body: bytes, headers: dict[str, str], method: str = "POST") -> SendResult:
        started = time.monotonic()

        def elapsed() -> int:
            return int((time.monotonic() - started) * 1000)

        try:
            response = await self._session.request(
                method,
                url,
                data=body,
                headers=headers,
                allow_redirects=False,
                timeout=self._client_timeout,
                skip_auto_headers=_SKIP_AUTO_HEADERS,
            )
            try:
                status = response.status
                kept = {k.decode("latin-1").lower(): _text(v) for k, v in response.raw_headers}
                try:
                    raw = await _read_limited(response)
                except _FAILURES as exc:  # the status arrived; the body did not
                    error = "reading the response body failed: " + describe_error(exc, url, self._timeout)
                    return SendResult(status, elapsed(), headers=kept, error=error)
                return SendResult(status, elapsed(), body=_text(raw), headers=kept)
            finally:
                response.release()
        except _FAILURES as exc:
            local = local_cause(exc)
            if local is not None:  # not the receiver's fault: no attempt is counted (local_errors.py)
                return SendResult(0, elapsed(), error=local, local=True)
            return SendResult(0, elapsed(), error=describe_error(exc, url, self._timeout))
