"""Which topics the other processes have readers for, so a link sends them nothing else.

Every message and every attempt publishes an event (`message.created`, `attempt.recorded`).
Sent to every process, each one was encoded once and then decoded and dropped by every other
process (and, on PostgreSQL, carried by the server to every listening connection) whether or
not anybody there was watching: a quarter of the whole end-to-end cost on PostgreSQL with two
API and two worker processes. Readers of those topics are people: a dashboard page, `hookwire
tail`, `hookwire listen`.

So each process announces the topics it has readers for (`EventChannel.remote_topics`) on the
link: when that set changes, every `REFRESH` seconds, and in answer to a newcomer's hello. A
link forwards an event only when some other process's latest announcement, younger than
`EXPIRES`, names its topic. A process that dies stops refreshing and is forgotten.

A reader that subscribes in one process starts receiving another process's events once its
announcement has arrived there, a millisecond or so later; readers of live events already
load what happened before from the database (the dashboard's pages, `listen`'s catch-up).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from typing import Any

import orjson

from hookwire.events import EventChannel

REFRESH = 10.0
EXPIRES = 3 * REFRESH


def announcement(origin: str, topics: frozenset[str], *, hello: bool) -> bytes:
    """The wire form: `{"o": origin, "i": [topic, ...], "h": hello}`."""
    return orjson.dumps({"o": origin, "i": sorted(topics), "h": hello})


def is_announcement(doc: dict[str, Any]) -> bool:
    return "i" in doc and "o" in doc


class Interest:
    """This process's side of the announcements, and what it heard from the others."""

    def __init__(self, channel: EventChannel, origin: str, send: Callable[[bytes], None]) -> None:
        self._channel = channel
        self._origin = origin
        self._send = send  # puts an announcement on the link
        self._heard: dict[str, tuple[frozenset[str], float]] = {}  # origin -> (topics, expires)
        self._wanted: frozenset[str] = frozenset()
        self._next_expiry = float("inf")
        self._refresher: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Say hello (the others answer with theirs), then keep announcing."""
        self._channel.on_interest_change(self._announce)
        self._announce(hello=True)
        self._refresher = asyncio.create_task(self._refresh())

    def wants(self, topic: str) -> bool:
        """Whether some other process has a reader for `topic`."""
        if time.monotonic() >= self._next_expiry:
            self._forget_expired()
        return topic in self._wanted

    def heard(self, doc: dict[str, Any]) -> None:
        """Another process's announcement (the caller skips this process's own)."""
        topics = doc.get("i")
        origin = doc.get("o")
        if not isinstance(origin, str) or not isinstance(topics, list):
            return
        self._heard[origin] = (frozenset(t for t in topics if isinstance(t, str)), time.monotonic() + EXPIRES)
        self._recompute()
        if doc.get("h"):
            self._announce()

    def _announce(self, *, hello: bool = False) -> None:
        self._send(announcement(self._origin, self._channel.remote_topics, hello=hello))

    async def _refresh(self) -> None:
        while True:
            await asyncio.sleep(REFRESH)
            self._announce()

    def _forget_expired(self) -> None:
        now = time.monotonic()
        self._heard = {origin: heard for origin, heard in self._heard.items() if heard[1] > now}
        self._recompute()

    def _recompute(self) -> None:
        wanted: set[str] = set()
        for topics, _ in self._heard.values():
            wanted |= topics
        self._wanted = frozenset(wanted)
        self._next_expiry = min((expires for _, expires in self._heard.values()), default=float("inf"))

    async def close(self) -> None:
        if self._refresher is not None:
            self._refresher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._refresher
