"""Retention: message payloads, attempt bodies and inbound request bodies are purged once they
are older than HOOKWIRE_RETENTION (HOOKWIRE_INGEST_RETENTION for inbound requests), or when a
message's own retention (`payloadRetentionPeriod` days / `payloadRetentionHours`) ends.

The rows stay (ids, times, statuses, response codes remain listable); only their contents go.
A background job walks old rows in id order (ids sort by creation time) from a watermark kept
in the meta table, in small batches with a pause between them: each batch is one short write,
so on SQLite it joins the writer's group commit without holding it, and delivery never waits
behind a long purge. A purge that dies halfway resumes from its watermark.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from hookwire.clock import now_ms
from hookwire.ids import lowest_id
from hookwire.runtime import Runtime

log = logging.getLogger("hookwire.retention")

BATCH = 500
PAUSE = 0.02  # seconds between batches: room for delivery writes
EVERY = 60.0  # seconds between passes
_MESSAGES_MARK = "retention.messages"
_INBOUND_MARK = "retention.inbound"

Purge = Callable[[list[str]], Awaitable[int]]  # purges a batch of ids, returns how many had content


@dataclass
class Purged:
    messages: int = 0
    inbound: int = 0


async def _mark(rt: Runtime, key: str) -> str:
    row = await rt.db.fetchrow("get_meta", key=key)
    return str(row["value"]) if row else ""


async def purge_messages(rt: Runtime, ids: list[str]) -> int:
    """Drop the payloads of these messages and the bodies of their attempts; returns how many
    messages still had content."""
    if not ids:
        return 0
    counts = await rt.db.write(
        [("purge_message_payloads", {"ids": ids}), ("purge_attempt_bodies", {"ids": ids})]
    )
    return counts[0]


class RetentionJob:
    """Purges in the background until stopped; `purge_once()` does one full pass (tests)."""

    def __init__(
        self, rt: Runtime, *, batch: int = BATCH, pause: float = PAUSE, every: float = EVERY
    ) -> None:
        self._rt = rt
        self._batch = batch
        self._pause = pause
        self._every = every
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        while not self._stopping.is_set():
            try:
                purged = await self.purge_once()
                if purged.messages or purged.inbound:
                    log.info(
                        "retention purged %d messages and %d inbound requests",
                        purged.messages,
                        purged.inbound,
                    )
            except Exception:
                log.exception("retention pass failed; trying again in %.0fs", self._every)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self._every)

    async def purge_once(self, now: int | None = None) -> Purged:
        now = now_ms() if now is None else now
        purged = Purged()
        settings = self._rt.settings
        if settings.retention_seconds > 0:
            cutoff = lowest_id("msg", now - int(settings.retention_seconds * 1000))
            purged.messages += await self._walk(
                _MESSAGES_MARK, "messages_in_id_range", cutoff, self._messages
            )
        purged.messages += await self._expired_by_message(now)
        if settings.ingest_retention_seconds > 0:
            cutoff = lowest_id("req", now - int(settings.ingest_retention_seconds * 1000))
            purged.inbound += await self._walk(
                _INBOUND_MARK, "inbound_in_id_range", cutoff, self._inbound(now)
            )
        return purged

    async def _messages(self, ids: list[str]) -> int:
        return await purge_messages(self._rt, ids)

    def _inbound(self, now: int) -> Purge:
        async def purge(ids: list[str]) -> int:
            counts = await self._rt.db.write(
                [("purge_inbound_bodies", {"ids": ids, "empty": b"", "now": now})]
            )
            return counts[0]

        return purge

    async def _walk(self, mark_key: str, query: str, before: str, purge: Purge) -> int:
        """Purge rows with ids between the watermark and `before`, batch by batch."""
        after = await _mark(self._rt, mark_key)
        total = 0
        while not self._stopping.is_set():
            rows = await self._rt.db.fetch(query, after=after, before=before, limit=self._batch)
            if not rows:
                break
            ids = [r["id"] for r in rows]
            total += await purge(ids)
            after = ids[-1]
            await self._rt.db.execute("set_meta", key=mark_key, value=after)
            if len(rows) < self._batch:
                break
            await asyncio.sleep(self._pause)
        return total

    async def _expired_by_message(self, now: int) -> int:
        total = 0
        while not self._stopping.is_set():
            rows = await self._rt.db.fetch("messages_expunge_due", now=now, limit=self._batch)
            if not rows:
                break
            total += await purge_messages(self._rt, [r["id"] for r in rows])
            if len(rows) < self._batch:
                break
            await asyncio.sleep(self._pause)
        return total
