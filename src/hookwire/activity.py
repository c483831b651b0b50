"""What `serve` and `worker` print at `info`: one line per API request, delivery attempt and
inbound request, and a running sum instead once there are too many to read.

Attempts and inbound requests come from the event channel (`attempt.recorded`,
`inbound.received`, as published in this process), handed to a background task with one
`put_nowait`, so logging adds no formatting to the worker's or the receive path's hot path;
API requests from a small ASGI middleware. Above `log_summary_above` lines in one second, lines
stop and a sum is printed every 5 s ("1,204 deliveries, 3 failed in the last 5 s"), so a busy
server spends no time formatting lines nobody can read.

Never logged: tokens (an ingest URL's token is cut out of its path), query strings, headers,
bodies, secrets and signatures. The events carry ids and statuses only.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from dataclasses import dataclass, field
from typing import Any

from hookwire.events import ATTEMPT_RECORDED, INBOUND_RECEIVED, Event, EventChannel

log = logging.getLogger("hookwire.activity")
SUMMARY_EVERY = 5.0
_INGEST_TOKEN = re.compile(r"^/in/[^/]+")


def redact_path(path: str) -> str:
    """The path without what grants access: `/in/<token>/x` -> `/in/***/x`."""
    return _INGEST_TOKEN.sub("/in/***", path)


@dataclass
class _Window:
    deliveries: int = 0
    failed: int = 0
    inbound: int = 0
    rejected: int = 0
    requests: int = 0
    server_errors: int = 0
    started: float = field(default_factory=time.monotonic)

    def text(self, seconds: float) -> str:
        parts = [f"{self.deliveries:,} deliveries, {self.failed:,} failed"]
        if self.inbound:
            parts.append(f"{self.inbound:,} inbound ({self.rejected:,} rejected)")
        if self.requests:
            parts.append(f"{self.requests:,} API requests ({self.server_errors:,} 5xx)")
        return ", ".join(parts) + f" in the last {seconds:.0f} s"


class Activity:
    """Counts every line; prints it while there are few, sums them up while there are many."""

    def __init__(self, summary_above: int = 50) -> None:
        self.summary_above = summary_above
        self._second = 0
        self._in_second = 0
        self._summarising = False
        self._window = _Window()
        self.dropped = 0  # events the logger could not keep up with (counted, never queued)

    def _admit(self) -> bool:
        """Whether this line is printed (False: it only counts toward the next sum)."""
        now = int(time.monotonic())
        if now != self._second:
            self._second, self._in_second = now, 0
        self._in_second += 1
        if self._in_second > self.summary_above:
            self._summarising = True
        return not self._summarising and log.isEnabledFor(logging.INFO)

    def request(self, method: str, path: str, status: int, duration_ms: float) -> None:
        self._window.requests += 1
        self._window.server_errors += status >= 500
        if self._admit():
            log.info(
                "%s %s -> %d (%.0f ms)",
                method,
                redact_path(path),
                status,
                duration_ms,
                extra={
                    "kind": "api",
                    "method": method,
                    "path": redact_path(path),
                    "status": status,
                    "durationMs": round(duration_ms, 1),
                },
            )

    def attempt(self, data: dict[str, Any]) -> None:
        failed = data.get("status") != 0
        self._window.deliveries += 1
        self._window.failed += failed
        if self._admit():
            code = data.get("responseStatusCode") or "no answer"
            (log.warning if failed else log.info)(
                "delivery %s %s -> %s [%s]",
                data.get("msgId"),
                data.get("endpointId"),
                "failed" if failed else "ok",
                code,
                extra={
                    "kind": "attempt",
                    **{
                        k: data.get(k)
                        for k in ("msgId", "endpointId", "appId", "attemptId", "responseStatusCode")
                    },
                    "failed": failed,
                },
            )

    def inbound(self, data: dict[str, Any]) -> None:
        rejected = data.get("status") == "rejected"
        self._window.inbound += 1
        self._window.rejected += rejected
        if self._admit():
            (log.warning if rejected else log.info)(
                "inbound %s on %s: %s",
                data.get("requestId"),
                data.get("sourceId"),
                data.get("status"),
                extra={
                    "kind": "inbound",
                    "requestId": data.get("requestId"),
                    "sourceId": data.get("sourceId"),
                    "result": data.get("status"),
                },
            )

    def note_dropped(self) -> None:
        """An event the logger could not take: counted, and the next sum says so."""
        self.dropped += 1
        self._summarising = True

    def flush(self) -> str | None:
        """Print the sum of a busy period (called every 5 s); back to lines once it is quiet."""
        window, self._window = self._window, _Window()
        if not self._summarising:
            return None
        text = window.text(time.monotonic() - window.started)
        if self.dropped:
            text += f" ({self.dropped:,} more not counted: the log fell behind)"
            self.dropped = 0
        log.info("%s", text, extra={"kind": "summary"})
        still_busy = int(time.monotonic()) - self._second <= 1 and self._in_second > self.summary_above
        self._summarising = still_busy
        return text

    async def follow(self, queue: asyncio.Queue[Event]) -> None:
        """Log the events handed over, and the sums, until cancelled.

        An event already queued is taken without a timed wait (a task and a timer each, 2% of
        a busy worker's CPU when it was done for every event): a recorded batch of attempts
        queues its events together."""
        next_flush = time.monotonic() + SUMMARY_EVERY
        taken = 0
        while True:
            event: Event | None = None
            try:
                event = queue.get_nowait()
                taken += 1
                if taken % 256 == 0:  # a long backlog does not hold the event loop
                    await asyncio.sleep(0)
            except asyncio.QueueEmpty:
                with contextlib.suppress(TimeoutError):
                    event = await asyncio.wait_for(queue.get(), max(0.0, next_flush - time.monotonic()))
            if event is not None:
                (self.attempt if event.topic == ATTEMPT_RECORDED else self.inbound)(event.data)
            if time.monotonic() >= next_flush:
                self.flush()
                next_flush = time.monotonic() + SUMMARY_EVERY


def start_activity_log(activity: Activity, events: EventChannel) -> asyncio.Task[None]:
    """Log the attempts and inbound requests of this process in the background (cancel to stop).

    It hears what this process publishes (a forwarder of the channel), not what other processes
    announce over a cross-process link, so each line is printed once, by the process that did the
    work. Handing over is one `put_nowait`, the same cost as a subscription; when the logger falls
    behind, events are only counted as dropped."""
    queue: asyncio.Queue[Event] = asyncio.Queue(maxsize=100_000)
    topics = {ATTEMPT_RECORDED, INBOUND_RECEIVED}

    def hand_over(event: Event) -> None:
        if event.topic in topics and not task.done():
            if queue.full():
                activity.note_dropped()
            else:
                queue.put_nowait(event)

    task = asyncio.create_task(activity.follow(queue))
    events.add_forwarder(hand_over)
    return task


async def stop_activity_log(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
