"""Delivery wake-ups from PostgreSQL, paced: at most one per `EVERY` seconds per process, and
the workers of one `hookwire serve` take their turns.

Every API process sends `pg_notify('hookwire_deliveries')` with each batched insert it
commits, and PostgreSQL hands each NOTIFY to every listening process. With two API and two
worker processes under load, that was a wake-up, and so a claim, every millisecond or two in
each worker: claims of about five deliveries, a good share of them empty because the other
worker had just taken the rows. Taken at most every 5 ms, a claim finds more rows: measured
end to end (2 API + 2 workers, 15,000 messages), worker CPU per message -10% and PostgreSQL's
-9%.

Turns: two workers paced alone each look every 5 ms, so together they claim every 2.5 ms on
average, each finding half as much. `hookwire serve` gives each of its W workers a turn
(`WakeupTurn`): with two or more, a worker takes a held wake-up only at its own times, every
10 ms (2 x `EVERY`), offset by slot x 10 / W ms on the machine's monotonic clock, which every
process shares. Between them the queue is looked at every 10 / W ms. Measured (2 + 2, 15,000
messages, with pg_stat_statements): 1,553 claims of 9.7 deliveries instead of 1,743 of 8.6. A
worker started on its own (`hookwire worker`) keeps the plain 5 ms.

The first wake-up after a quiet spell passes at once; one that arrives sooner is held until
the process's next time (alone: 5 ms after its last; taking turns: its first turn at least
5 ms after its last), and any more meanwhile join it. A commit therefore reaches a worker
within 5 ms alone; taking turns, within 10 / W ms while the next worker in turn has room and
within 10 ms while any has. One worker holds a wake-up 15 ms at the most, right after one that
passed at once, off its times. A
claim that fills its batch looks again at once, without waiting for a wake-up (queue/loop.py),
so a backlog is never paced by this.
"""

from __future__ import annotations

import asyncio
import math

from hookwire.store.database import ALONE, WakeupCallback, WakeupTurn

EVERY = 0.005  # seconds; each of the workers taking turns: twice that


class PacedWakeups:
    """Calls `callback` for the wake-ups it is given: at most once per `every` seconds alone,
    or once per 2 x `every` at this turn's times."""

    def __init__(self, callback: WakeupCallback, every: float = EVERY, *, turn: WakeupTurn = ALONE) -> None:
        self._callback = callback
        self._alone = turn.workers <= 1
        self._period = every if self._alone else 2 * every
        self._offset = self._period * turn.slot / max(1, turn.workers)
        self._last = -math.inf
        self._held: asyncio.TimerHandle | None = None

    def __call__(self) -> None:
        if self._held is not None:
            return  # joins the wake-up already held
        loop = asyncio.get_running_loop()
        now = loop.time()
        if now >= self._last + self._period:
            self._fire(now)  # after a quiet spell: at once
        else:
            due = self._next_time()
            self._held = loop.call_at(due, self._fire, due)

    def _next_time(self) -> float:
        """Alone: one period after the last wake-up. Taking turns: the first of this turn's
        times at least half a period after it, so two looks are never closer than that, even
        after one that came at once, off the turn's times."""
        if self._alone:
            return self._last + self._period
        earliest = self._last + self._period / 2
        return self._offset + math.ceil((earliest - self._offset) / self._period) * self._period

    def _fire(self, due: float) -> None:
        self._held = None
        # uvloop keeps time in milliseconds and may run a timer a little before its float time:
        # the wake-up counts at the time it was due, so the turns keep to their times
        self._last = max(asyncio.get_running_loop().time(), due)
        self._callback()

    def close(self) -> None:
        if self._held is not None:
            self._held.cancel()
            self._held = None
