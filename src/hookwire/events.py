"""The event channel: one place where "something happened" is announced to whoever listens.

Topics (the only ones; each event's `data` is a small JSON-able dict of ids and statuses,
never a payload, a secret or a signature):

- `attempt.recorded`, by the delivery worker after the commit:
  attemptId, msgId, endpointId, appId, status, responseStatusCode.
- `inbound.received`, by the ingest receive path after the commit:
  requestId, sourceId, status (accepted, duplicate, rejected or challenge).
- `delivery.due`, by writers that queued deliveries: {}.
- `listener.connected`, by the `hookwire listen` server side: sourceIds or appId.
- `message.created`, by the API after a message is stored: msgId (wakes `hookwire listen --app`).

Readers are the dashboard's SSE streams, `hookwire listen` sessions and worker wake-ups.
Every subscription is bounded: a reader that falls `maxsize` events behind is dropped (its
iteration ends with `SubscriptionOverflow`), never buffered without limit, so one slow
browser cannot grow the server's memory.

This module is the in-process channel. A cross-process transport (`hookwire.event_links`:
PostgreSQL LISTEN/NOTIFY, or the supervisor's socket on SQLite) feeds remote events into
`deliver()` of the local channel, so readers never care where an event came from.

A transport sends an event only to processes that have a reader for its topic: the channel
counts its subscriptions per topic (`remote_topics`) and tells the transport when that set
changes, and the transport announces it to the others (`event_links/interest.py`). A reader
that only cares about this process's own events (`subscribe(..., remote=False)`) is not
counted, so a message and its attempts cross no process boundary while nobody watches.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import AsyncIterator, Callable, Collection
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger("hookwire.events")

ATTEMPT_RECORDED = "attempt.recorded"
INBOUND_RECEIVED = "inbound.received"
DELIVERY_DUE = "delivery.due"
LISTENER_CONNECTED = "listener.connected"
MESSAGE_CREATED = "message.created"
TOPICS = frozenset({ATTEMPT_RECORDED, INBOUND_RECEIVED, DELIVERY_DUE, LISTENER_CONNECTED, MESSAGE_CREATED})


@dataclass(frozen=True)
class Event:
    topic: str
    data: dict[str, Any]


class SubscriptionOverflow(Exception):
    """The reader fell too far behind and was dropped; it should reload its state and resubscribe."""


_CLOSED = object()


@dataclass(eq=False)
class Subscription:
    """A bounded queue of events for one reader. Iterate it; close it when done."""

    topics: frozenset[str]
    maxsize: int
    remote: bool = True  # also wants the events other processes publish
    _queue: asyncio.Queue[object] = field(init=False)
    _on_close: Callable[[Subscription], None] | None = None
    overflowed: bool = False
    closed: bool = False

    def __post_init__(self) -> None:
        self._queue = asyncio.Queue(self.maxsize + 1)  # one spare slot for the close marker

    def _offer(self, event: Event) -> None:
        if self.closed:
            return
        if self._queue.qsize() >= self.maxsize:
            self.overflowed = True
            self.close()
            return
        self._queue.put_nowait(event)

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        if self._on_close is not None:
            self._on_close(self)
        self._queue.put_nowait(_CLOSED)

    async def get(self, timeout: float | None = None) -> Event | None:
        """The next event; None on timeout. Raises SubscriptionOverflow when dropped, StopAsyncIteration
        when closed."""
        try:
            item = await asyncio.wait_for(self._queue.get(), timeout)
        except TimeoutError:
            return None
        if item is _CLOSED:
            self._queue.put_nowait(_CLOSED)  # later get() calls see it too
            if self.overflowed:
                raise SubscriptionOverflow(f"reader fell {self.maxsize} events behind")
            raise StopAsyncIteration
        assert isinstance(item, Event)
        return item

    def __aiter__(self) -> AsyncIterator[Event]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[Event]:
        while True:
            try:
                event = await self.get()
            except StopAsyncIteration:
                return
            if event is not None:
                yield event


class EventChannel:
    """In-process publish/subscribe. `publish` never blocks and never raises."""

    def __init__(self) -> None:
        self._subscriptions: set[Subscription] = set()
        self._forwarders: list[Callable[[Event], None]] = []
        self._remote_readers: Counter[str] = Counter()  # topic -> subscriptions with remote=True
        self._interest_listeners: list[Callable[[], None]] = []

    def subscribe(self, topics: Collection[str], *, maxsize: int = 1000, remote: bool = True) -> Subscription:
        """A reader of `topics`; with `remote=False`, of this process's own events only."""
        unknown = set(topics) - TOPICS
        if unknown:
            raise ValueError(f"unknown event topics: {sorted(unknown)}")
        sub = Subscription(frozenset(topics), maxsize, remote, _on_close=self._unsubscribe)
        self._subscriptions.add(sub)
        if remote:
            self._count_readers(sub.topics, 1)
        return sub

    def _unsubscribe(self, sub: Subscription) -> None:
        self._subscriptions.discard(sub)
        if sub.remote:
            self._count_readers(sub.topics, -1)

    def _count_readers(self, topics: frozenset[str], delta: int) -> None:
        before = self.remote_topics
        self._remote_readers.update({topic: delta for topic in topics})
        if self.remote_topics != before:
            for listener in self._interest_listeners:
                listener()

    @property
    def remote_topics(self) -> frozenset[str]:
        """The topics this process has readers for that want other processes' events too."""
        return frozenset(topic for topic, count in self._remote_readers.items() if count > 0)

    def on_interest_change(self, listener: Callable[[], None]) -> None:
        """Call `listener()` whenever `remote_topics` changes (a transport tells the others)."""
        self._interest_listeners.append(listener)

    def add_forwarder(self, forward: Callable[[Event], None]) -> None:
        """Also hand every locally published event to `forward` (a cross-process transport)."""
        self._forwarders.append(forward)

    def publish(self, topic: str, data: dict[str, Any]) -> None:
        """Announce an event to local readers and to every forwarder."""
        event = Event(topic, data)
        for sub in list(self._subscriptions):
            if topic in sub.topics:
                sub._offer(event)
        for forward in self._forwarders:
            try:
                forward(event)
            except Exception:  # a broken transport must not break the publisher's own work
                log.exception("forwarding event %s failed", topic)

    def deliver(self, event: Event) -> None:
        """Hand another process's event to the local readers that want those (what a transport
        calls for a remote event)."""
        for sub in list(self._subscriptions):
            if sub.remote and event.topic in sub.topics:
                sub._offer(event)

    @property
    def subscriber_count(self) -> int:
        return len(self._subscriptions)
