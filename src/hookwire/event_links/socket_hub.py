"""The SQLite event link: a Unix socket in the supervisor that fans events out to every child.

Each child of one `hookwire serve` connects to the hub once. Events are newline-terminated
JSON lines; the hub copies whatever one child writes to every other child. The hub never
parses: it forwards whole lines, so its cost per event is one memory copy per reader.

An event goes out only when another child has a reader for its topic (`interest.py`; the
announcements are lines too), except `delivery.due`, the workers' wake-up.

Bounded: a child whose socket has `_MAX_BACKLOG` bytes queued in the hub misses events until it
catches up (its readers are bounded too, and worker wake-ups have the safety-net poll).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable

import orjson

from hookwire.event_links.codec import decode, encode
from hookwire.event_links.interest import Interest, is_announcement
from hookwire.events import DELIVERY_DUE, Event, EventChannel
from hookwire.store.sqlite import SqliteDatabase

log = logging.getLogger("hookwire.events")

_MAX_BACKLOG = 4 * 1024 * 1024
_READ_SIZE = 64 * 1024
_MAX_LINE = 1024 * 1024  # a child sending a longer line is cut off (events are small)


async def _lines(reader: asyncio.StreamReader, on_chunk: Callable[[bytes], None]) -> None:
    """Call `on_chunk` with runs of whole lines as they arrive, until EOF."""
    pending = b""
    while True:
        data = await reader.read(_READ_SIZE)
        if not data:
            return
        pending += data
        cut = pending.rfind(b"\n") + 1
        if cut:
            chunk, pending = pending[:cut], pending[cut:]
            on_chunk(chunk)
        elif len(pending) > _MAX_LINE:
            raise ValueError("event line too long")


class EventHub:
    """Runs in the supervisor: accepts the children and copies each one's lines to the others."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._writers: set[asyncio.StreamWriter] = set()
        self._server: asyncio.AbstractServer | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_unix_server(self._serve, path=self.path)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)

        def fan_out(chunk: bytes) -> None:
            for other in self._writers:
                if other is not writer and other.transport.get_write_buffer_size() < _MAX_BACKLOG:
                    other.write(chunk)

        try:
            await _lines(reader, fan_out)
        except (ConnectionError, ValueError) as exc:
            log.warning("event hub: dropping a child connection: %s", exc)
        finally:
            self._writers.discard(writer)
            writer.close()

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for writer in list(self._writers):
            writer.close()
        if self._server is not None:
            await self._server.wait_closed()


class SocketEventLink:
    """Runs in each child: sends local events to the hub and delivers the others' locally."""

    def __init__(
        self,
        channel: EventChannel,
        db: SqliteDatabase,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> None:
        self._channel = channel
        self._db = db
        self._writer = writer
        self._closed = False
        self._outbox: list[bytes] = []
        self._loop = asyncio.get_running_loop()
        self._origin = secrets.token_hex(6)
        self._interest = Interest(channel, self._origin, self._queue_line)
        channel.add_forwarder(self._send)
        db.relay_wakeups(self._announce_due)
        self._task = asyncio.create_task(self._receive(reader))
        self._interest.start()

    @classmethod
    async def open(cls, channel: EventChannel, db: SqliteDatabase, path: str) -> SocketEventLink:
        reader, writer = await asyncio.open_unix_connection(path)
        return cls(channel, db, reader, writer)

    def _announce_due(self) -> None:
        # a local commit queued deliveries: local listeners are awake, tell the other processes
        self._channel.publish(DELIVERY_DUE, {})

    def sends(self, topic: str) -> bool:
        return topic == DELIVERY_DUE or self._interest.wants(topic)

    def _send(self, event: Event) -> None:
        """Queue the event; what one turn of the loop publishes goes to the hub in one write.

        A write per event was a send() system call per event in the sender and a read per
        event in the hub and in every other child: at 1,000 messages/s that is one event per
        message from the API and one per attempt from the worker. The flush is the next turn
        of the loop, so a wake-up still crosses processes in well under a millisecond."""
        if self._closed or not self.sends(event.topic):
            return
        self._queue_line(encode(event))

    def _queue_line(self, line: bytes) -> None:
        if self._closed:
            return
        self._outbox.append(line)
        if len(self._outbox) == 1:
            self._loop.call_soon(self._flush)

    def _flush(self) -> None:
        lines, self._outbox = self._outbox, []
        if lines and not self._closed:
            lines.append(b"")
            self._writer.write(b"\n".join(lines))

    def _deliver(self, chunk: bytes) -> None:
        due = False
        for line in chunk.splitlines():
            try:
                doc = orjson.loads(line)
            except orjson.JSONDecodeError:
                continue
            if isinstance(doc, dict) and is_announcement(doc):
                self._interest.heard(doc)
                continue
            event = decode(doc) if isinstance(doc, dict) else None
            if event is None:
                continue
            if event.topic == DELIVERY_DUE:
                due = True
            self._channel.deliver(event)
        if due:
            self._db.wake_listeners()  # not _wake: that would announce it back

    async def _receive(self, reader: asyncio.StreamReader) -> None:
        try:
            await _lines(reader, self._deliver)
        except (ConnectionError, ValueError) as exc:
            log.warning("event link to the supervisor failed: %s", exc)
        if not self._closed:
            log.warning("event link to the supervisor closed; other processes' events no longer arrive")

    async def close(self) -> None:
        await self._interest.close()
        self._flush()
        self._closed = True
        self._writer.close()
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
