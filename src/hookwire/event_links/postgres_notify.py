"""The PostgreSQL event link: NOTIFY/LISTEN on `hookwire_events`, reconnecting by itself.

One dedicated connection per process both listens and notifies. Local events are batched:
everything published while a NOTIFY is in flight goes out in the next one, as a JSON document
`{"o": origin, "e": [event, ...]}` kept under PostgreSQL's 8000-byte payload limit. A process
ignores its own notifications (it delivered those locally when it published them).

While the connection is down, events are dropped (readers are told nothing they could not
reload; worker wake-ups have their own channel and the safety-net poll), and the link
reconnects with backoff.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from typing import Any

import asyncpg
import orjson

from hookwire.event_links.codec import decode
from hookwire.events import Event, EventChannel

log = logging.getLogger("hookwire.events")

CHANNEL = "hookwire_events"
_MAX_PAYLOAD = 7800  # PostgreSQL refuses payloads of 8000 bytes or more
_MAX_PENDING = 10_000
_BACKOFF = (0.1, 0.2, 0.5, 1.0, 2.0, 5.0)


class PostgresEventLink:
    def __init__(self, channel: EventChannel, dsn: str) -> None:
        self._channel = channel
        self._dsn = dsn
        self._origin = secrets.token_hex(6)
        self._conn: asyncpg.Connection | None = None
        self._pending: list[bytes] = []
        self._flusher: asyncio.Task[None] | None = None
        self._reconnecting: asyncio.Task[None] | None = None
        self._closed = False

    @classmethod
    async def open(cls, channel: EventChannel, dsn: str) -> PostgresEventLink:
        link = cls(channel, dsn)
        await link._connect()
        channel.add_forwarder(link._send)
        return link

    async def _connect(self) -> None:
        conn = await asyncpg.connect(self._dsn)
        await conn.add_listener(CHANNEL, self._on_notify)
        conn.add_termination_listener(self._on_lost)
        self._conn = conn

    def _on_lost(self, _conn: Any) -> None:
        self._conn = None
        if not self._closed and (self._reconnecting is None or self._reconnecting.done()):
            log.warning("event link: PostgreSQL connection lost; reconnecting")
            self._reconnecting = asyncio.get_running_loop().create_task(self._reconnect())

    async def _reconnect(self) -> None:
        attempt = 0
        while not self._closed and self._conn is None:
            await asyncio.sleep(_BACKOFF[min(attempt, len(_BACKOFF) - 1)])
            attempt += 1
            try:
                await self._connect()
            except (OSError, asyncpg.PostgresError) as exc:
                log.warning("event link: reconnect attempt %d failed: %s", attempt, exc)
        if self._conn is not None:
            log.info("event link: reconnected after %d attempts", attempt)

    def _send(self, event: Event) -> None:
        if self._closed or self._conn is None or len(self._pending) >= _MAX_PENDING:
            return
        self._pending.append(orjson.dumps({"t": event.topic, "d": event.data}))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.get_running_loop().create_task(self._flush())

    async def _flush(self) -> None:
        while self._pending and self._conn is not None:
            head = b'{"o":"' + self._origin.encode() + b'","e":['
            size, count = len(head) + 2, 0
            for item in self._pending:
                if count and size + len(item) + 1 > _MAX_PAYLOAD:
                    break
                size += len(item) + 1
                count += 1
            batch, self._pending = self._pending[:count], self._pending[count:]
            if size > _MAX_PAYLOAD:
                log.warning("event link: dropping an event too large for NOTIFY (%d bytes)", size)
                continue
            payload = (head + b",".join(batch) + b"]}").decode()
            try:
                await self._conn.execute("SELECT pg_notify($1, $2)", CHANNEL, payload)
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.warning("event link: NOTIFY failed, %d events dropped: %s", count, exc)

    def _on_notify(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        try:
            doc = orjson.loads(payload)
            if doc["o"] == self._origin:
                return
            items = doc["e"]
        except (orjson.JSONDecodeError, KeyError, TypeError):
            return
        for item in items:
            event = decode(item) if isinstance(item, dict) else None
            if event is not None:
                self._channel.deliver(event)

    async def close(self) -> None:
        self._closed = True
        for task in (self._flusher, self._reconnecting):
            if task is not None and not task.done():
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        if self._conn is not None:
            conn, self._conn = self._conn, None
            await conn.close(timeout=5)
