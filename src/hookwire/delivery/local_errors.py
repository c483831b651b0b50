"""Failures that happen on this machine before a byte reaches the network.

Running out of file descriptors (`EMFILE`), memory or buffers, or a local resolver that
cannot be asked (`EAI_AGAIN`, the SSRF guard's own lookup timing out) say nothing about
the receiver. Counting them as attempts burned three retries in three seconds against a
healthy endpoint during a descriptor exhaustion, and opened its circuit. The worker
therefore records no attempt for them, leaves the endpoint's breaker alone, hands the
delivery back due after a short local backoff, and logs the cause once per interval.

A name that does not exist (`EAI_NONAME`) or a refused connection are the receiver's
configuration and stay ordinary failed attempts.
"""

from __future__ import annotations

import errno
import logging
import socket
import time

import aiohttp

LOCAL_BACKOFF = 1.0  # seconds before a delivery that hit a local error is due again

_LOCAL_ERRNOS = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM, errno.EADDRNOTAVAIL})
_LOCAL_GAI = frozenset(
    code
    for code in (
        getattr(socket, "EAI_AGAIN", None),
        getattr(socket, "EAI_MEMORY", None),
        getattr(socket, "EAI_SYSTEM", None),
    )
    if code is not None
)


def local_cause(exc: BaseException) -> str | None:
    """Why `exc` is this machine's fault and not the receiver's, or None when it is not."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, socket.gaierror) and current.errno in _LOCAL_GAI:
            return f"local resolver failure: {current.strerror or current}"
        if isinstance(current, OSError) and current.errno in _LOCAL_ERRNOS:
            return f"local resource exhausted: {current.strerror or errno.errorcode.get(current.errno or 0)}"
        if isinstance(current, aiohttp.ClientConnectorError):
            current = current.os_error
            continue
        current = current.__cause__ or current.__context__
    return None


class LocalErrorLog:
    """Logs local errors once per `interval` seconds with a count, not once per delivery."""

    def __init__(self, log: logging.Logger, interval: float = 10.0) -> None:
        self._log = log
        self._interval = interval
        self._logged_at = -interval
        self._count = 0

    def note(self, cause: str | None) -> None:
        self._count += 1
        now = time.monotonic()
        if now - self._logged_at >= self._interval:
            self._log.warning(
                "%d deliveries failed on this machine (%s); not counted as attempts, retried in %gs",
                self._count,
                cause,
                LOCAL_BACKOFF,
            )
            self._logged_at, self._count = now, 0
