"""The HTTP server's front door: the limits every listening socket holds, and its uvicorn config.

uvicorn with the httptools parser enforces no limit on the request head (its
`h11_max_incomplete_event_size` applies to the h11 parser only), never closes a client
that has not finished its first request head, and `limit_concurrency` counts idle
connections and answers them only once a request head is complete. So the protocol
below adds, per connection and before any ASGI code runs:

- **Head size.** Bytes of a request head are counted as they arrive and fed to the
  parser only up to `max_header_bytes`; one byte more and the client gets
  `431 Request Header Fields Too Large` and the connection is closed. Memory and CPU
  stay O(limit) whatever the client sends (the parser keeps no more than it was fed).
- **Head time.** A connection that has not delivered a complete request head within
  `header_timeout` seconds of opening (or of starting its next request) is answered 408
  and closed. Idle keep-alive connections close after `keep_alive_timeout`.
- **Connections.** Past `max_connections` open connections, a new one gets an
  immediate 503 and is closed; the connections already open are untouched.

Past those, the process raises its soft open-file limit to the hard limit at start, so
the connection cap, not `EMFILE`, is what a flood meets first.
"""

from __future__ import annotations

import asyncio
import logging
import resource
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from hookwire.settings import Settings

log = logging.getLogger("hookwire.http")

# Descriptors kept free for everything that is not an inbound connection: the database,
# the delivery worker's outbound connections, log files, automation subprocesses.
_RESERVED_FILES = 1024


def _plain_response(status: bytes, text: bytes) -> bytes:
    return (
        b"HTTP/1.1 " + status + b"\r\ncontent-type: application/json\r\nconnection: close\r\n"
        b"content-length: " + str(len(text)).encode() + b"\r\n\r\n" + text
    )


_TOO_LARGE = _plain_response(
    b"431 Request Header Fields Too Large",
    b'{"code":"headers_too_large","detail":"the request line and headers are over the limit"}',
)
_TIMED_OUT = _plain_response(
    b"408 Request Timeout", b'{"code":"request_timeout","detail":"no complete request head in time"}'
)
_BUSY = _plain_response(
    b"503 Service Unavailable", b'{"code":"too_many_connections","detail":"too many open connections"}'
)


class GuardedHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a bounded request head, a head deadline and a
    connection cap (the class attributes are set per server by `guarded_protocol`)."""

    max_header_bytes = 64 * 1024
    header_timeout = 10.0
    max_connections = 4096

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._in_head = True  # reading a request line and headers, not a body
        self._head_bytes = 0
        self._head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self.max_connections:
            transport.write(_BUSY)
            transport.close()
            return
        self._arm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_head_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if not self._in_head:
            super().data_received(data)
            return
        room = self.max_header_bytes - self._head_bytes
        if len(data) <= room:
            self._head_bytes += len(data)
            super().data_received(data)
            return
        # Feed what fits; the head may end inside it, and the rest is then a body.
        self._head_bytes += room
        super().data_received(data[:room])
        if self.transport.is_closing():
            return
        if self._in_head:
            self._refuse(_TOO_LARGE)
            return
        super().data_received(data[room:])

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm_head_timer()

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._disarm_head_timer()
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._in_head = True
        self._head_bytes = 0
        super().on_message_complete()

    def _arm_head_timer(self) -> None:
        if self._head_timer is None:
            self._head_timer = self.loop.call_later(self.header_timeout, self._head_timed_out)

    def _disarm_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self._in_head and self._head_bytes and not self.transport.is_closing():
            self._refuse(_TIMED_OUT)
        elif self._in_head and not self.transport.is_closing():
            self.transport.close()  # nothing sent at all: nothing to answer

    def _refuse(self, response: bytes) -> None:
        self._disarm_head_timer()
        self.transport.write(response)
        self.transport.close()


def guarded_protocol(settings: Settings) -> type[GuardedHttpProtocol]:
    """The protocol class with this server's limits (uvicorn instantiates it per connection)."""
    return type(
        "GuardedHttpProtocol",
        (GuardedHttpProtocol,),
        {
            "max_header_bytes": settings.max_header_bytes,
            "header_timeout": settings.header_timeout,
            "max_connections": settings.max_connections,
        },
    )


def raise_open_file_limit() -> tuple[int, int]:
    """Raise the soft RLIMIT_NOFILE to the hard limit and log both; returns (soft, hard).

    The common soft default of 1,024 is what a thousand idle clients exhaust; the hard limit
    is what an unprivileged process may take without asking anyone."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        except (OSError, ValueError) as exc:
            log.warning("open-file limit: soft %d, hard %d; cannot raise the soft limit: %s", soft, hard, exc)
            return soft, hard
    log.info("open-file limit: soft %d -> %d (hard %d)", soft, hard, hard)
    return hard, hard


def connection_cap(settings: Settings, open_files: int) -> int:
    """`max_connections`, lowered to what the open-file limit leaves after the reserve."""
    room = max(64, open_files - _RESERVED_FILES)
    if settings.max_connections > room:
        log.warning(
            "HOOKWIRE_MAX_CONNECTIONS=%d is over what the open-file limit (%d) allows; using %d",
            settings.max_connections,
            open_files,
            room,
        )
        return room
    return settings.max_connections


def server_config(app: Any, settings: Settings, **overrides: Any) -> uvicorn.Config:
    """The uvicorn config of `serve`: the guarded protocol on `settings.host:port`."""
    soft, _ = raise_open_file_limit()
    limited = settings.with_overrides(max_connections=connection_cap(settings, soft))
    return uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        http=guarded_protocol(limited),
        timeout_keep_alive=max(1, round(settings.keep_alive_timeout)),
        log_level="warning",
        lifespan="off",
        loop="none",
        timeout_graceful_shutdown=int(settings.request_timeout) + 1,
        **overrides,
    )
