"""Leases: which rows a worker holds, and the fenced writes that end or extend its hold."""

from __future__ import annotations

import logging
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from enum import IntEnum
from typing import Any, Generic, TypeVar

from hookwire.store import Database

K = TypeVar("K", bound=Hashable)

LOST = -1  # the lease value of a row another worker took over: it matches no row


@dataclass(frozen=True)
class QueueTable:
    """One queue table's lease-fenced statements, by their names in queries*.sql.

    Each takes `:id`, `:lease` (the fencing token) and `:now`; `finish` also `:status` and
    `:next_attempt_at`, `defer` `:due`. `extend` takes `:ids`, `:lease` and `:lease_until` and
    returns the ids still held. `failed` is the status `fail()` writes."""

    name: str  # for log lines: "deliveries", "automation runs"
    extend: str
    finish: str
    defer: str
    release: str
    failed: IntEnum


class LeaseBook(Generic[K]):
    """The rows one worker has claimed and not yet finished, each with the lease expiry (ms)
    it holds it until. That value is the fencing token of every write that ends the claim.

    A row stays in the book until its end is committed, so the heartbeat keeps its lease alive
    while an attempt is being recorded (or waits for a database that is away)."""

    def __init__(self, db: Database, table: QueueTable, lease_ms: int, log: logging.Logger) -> None:
        self._db = db
        self._table = table
        self._lease_ms = max(1, lease_ms)
        self._log = log
        self._held: dict[K, int] = {}

    def __len__(self) -> int:
        return len(self._held)

    def __contains__(self, key: object) -> bool:
        return key in self._held

    def lease_until(self, now: int) -> int:
        """The lease expiry a claim made at `now` asks for."""
        return now + self._lease_ms

    @property
    def beat_every(self) -> float:
        """Seconds between heartbeats: three per lease, so one missed beat loses nothing."""
        return self._lease_ms / 3000

    def claimed(self, keys: Iterable[K], lease_until: int) -> list[K]:
        """Record a claim's rows; return the fresh ones. A row already held had its lease run out
        while it was still being worked on and was claimed again by this worker: it keeps the
        new lease and must not be started a second time."""
        fresh = []
        for key in keys:
            if key not in self._held:
                fresh.append(key)
            self._held[key] = lease_until
        return fresh

    def fence(self, key: K) -> int:
        """The lease a write ending this row's claim must match (LOST if it was taken over)."""
        return self._held.get(key, LOST)

    def finish(self, key: K, status: IntEnum, next_attempt_at: int, now: int) -> dict[str, Any]:
        """Parameters of the table's `finish` statement: the row's new status, fenced."""
        return {
            "id": key,
            "lease": self.fence(key),
            "status": status,
            "next_attempt_at": next_attempt_at,
            "now": now,
        }

    def fail(self, key: K, now: int) -> dict[str, Any]:
        """`finish` parameters that end the row as failed, for good (a reason of its own)."""
        return self.finish(key, self._table.failed, now, now)

    def defer(self, key: K, due: int, now: int) -> dict[str, Any]:
        """Parameters of the table's `defer` statement: pending again, due at `due`, no attempt counted."""
        return {"id": key, "lease": self.fence(key), "due": due, "now": now}

    def drop(self, keys: Iterable[K]) -> None:
        """Forget rows whose end is committed (or that were never started and will run out)."""
        for key in keys:
            self._held.pop(key, None)

    async def heartbeat(self, now: int) -> int:
        """Push every held lease forward; rows another worker took over meanwhile are marked
        LOST (their late writes will match nothing). Returns how many were lost."""
        groups: dict[int, list[K]] = {}
        for key, lease in self._held.items():
            if lease != LOST:
                groups.setdefault(lease, []).append(key)
        if not groups:
            return 0
        lease_until = now + self._lease_ms
        kept: dict[int, set[K]] = {}
        async with self._db.transaction() as tx:
            for lease, keys in groups.items():
                rows = await tx.fetch(
                    self._table.extend, ids=keys, lease=lease, lease_until=lease_until, now=now
                )
                kept[lease] = {r["id"] for r in rows}
        lost = 0
        for lease, keys in groups.items():
            for key in keys:
                if self._held.get(key) != lease:
                    continue  # finished or claimed again meanwhile
                if key in kept[lease]:
                    self._held[key] = lease_until
                else:
                    self._held[key] = LOST
                    lost += 1
        if lost:
            self._log.warning(
                "%d %s were taken over by another worker after their lease ran out", lost, self._table.name
            )
        return lost

    async def release_all(self, now: int) -> None:
        """Hand every held row back, due now (a clean stop), and empty the book."""
        rows = [
            {"id": k, "lease": lease, "now": now} for k, lease in sorted(self._held.items()) if lease != LOST
        ]
        self._held.clear()
        if rows:
            await self._db.write([(self._table.release, rows)], notify=True)
