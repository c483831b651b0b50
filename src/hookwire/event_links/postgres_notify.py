"""The PostgreSQL event link: NOTIFY/LISTEN on `hookwire_events`.

It listens through the database's own LISTEN connection (`store/pg_listener.py`), which
comes back by itself after a restart, and notifies through the pool. Local events are
batched: everything published while a NOTIFY is in flight goes out in the next one, as a
JSON document `{"o": origin, "e": [event, ...]}` kept under PostgreSQL's 8000-byte payload
limit. A process ignores its own notifications (it delivered those locally when it
published them).

An event goes out only when another process has a reader for its topic (`interest.py`); the
announcements travel on the same channel.

While PostgreSQL is away, events are dropped (readers are told nothing they could not
reload; worker wake-ups have their own channel and the safety-net poll).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets

import orjson

from hookwire.event_links.codec import decode
from hookwire.event_links.interest import Interest, is_announcement
from hookwire.events import Event, EventChannel
from hookwire.store import Database

log = logging.getLogger("hookwire.events")

CHANNEL = "hookwire_events"
_MAX_PAYLOAD = 7800  # PostgreSQL refuses payloads of 8000 bytes or more
_MAX_PENDING = 10_000


class PostgresEventLink:
    def __init__(self, channel: EventChannel, db: Database) -> None:
        self._channel = channel
        self._db = db
        self._origin = secrets.token_hex(6)
        self._pending: list[bytes] = []
        self._flusher: asyncio.Task[None] | None = None
        self._closed = False
        self._failing = False  # one log line per outage, not one per NOTIFY
        self._interest = Interest(channel, self._origin, self._announce)
        self._announcing: set[asyncio.Task[None]] = set()

    @classmethod
    async def open(cls, channel: EventChannel, db: Database) -> PostgresEventLink:
        link = cls(channel, db)
        await db.listen(CHANNEL, link._on_notify)
        channel.add_forwarder(link._send)
        link._interest.start()
        return link

    def _announce(self, doc: bytes) -> None:
        if self._closed:
            return
        task = asyncio.get_running_loop().create_task(self._notify_quietly(doc.decode()))
        self._announcing.add(task)
        task.add_done_callback(self._announcing.discard)

    async def _notify_quietly(self, payload: str) -> None:
        with contextlib.suppress(Exception):  # the database is away: the next refresh repeats it
            await self._db.notify(CHANNEL, payload)

    def sends(self, topic: str) -> bool:
        return self._interest.wants(topic)

    def _send(self, event: Event) -> None:
        if self._closed or len(self._pending) >= _MAX_PENDING or not self.sends(event.topic):
            return
        self._pending.append(orjson.dumps({"t": event.topic, "d": event.data}))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.get_running_loop().create_task(self._flush())

    async def _flush(self) -> None:
        while self._pending and not self._closed:
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
            try:
                await self._db.notify(CHANNEL, (head + b",".join(batch) + b"]}").decode())
            except Exception as exc:  # the database is away: drop, say so once
                if not self._failing:
                    log.warning("event link: NOTIFY failed, events are dropped until it works: %s", exc)
                self._failing = True
            else:
                if self._failing:
                    log.info("event link: NOTIFY works again")
                self._failing = False

    def _on_notify(self, payload: str) -> None:
        if self._closed:
            return
        try:
            doc = orjson.loads(payload)
            if doc["o"] == self._origin:
                return
            if is_announcement(doc):
                self._interest.heard(doc)
                return
            items = doc["e"]
        except (orjson.JSONDecodeError, KeyError, TypeError):
            return  # an empty wake-up after a reconnect, or not ours
        for item in items:
            event = decode(item) if isinstance(item, dict) else None
            if event is not None:
                self._channel.deliver(event)

    async def close(self) -> None:
        self._closed = True
        await self._interest.close()
        if self._flusher is not None and not self._flusher.done():
            self._flusher.cancel()
            await asyncio.gather(self._flusher, return_exceptions=True)
