"""When the retries and hand-backs a worker scheduled itself fall due, so it wakes for each.

A worker that schedules a retry, or hands a delivery back for later, knows when it falls due,
and its claim loop sleeps until then. It used to keep only the earliest of those times and
forget it once a claim had taken what was due: of five retries scheduled 100 ms apart, the four
later ones went out up to a poll (HOOKWIRE_POLL_INTERVAL) late, unless something else woke the
worker. Every time is kept now, in order. The list is bounded: past `MAX_KEPT` the latest times
are dropped, and those deliveries are found by the poll, as before.
"""

from __future__ import annotations

import bisect
import math

MAX_KEPT = 10_000


class DueTimes:
    def __init__(self) -> None:
        self._times: list[int] = []  # ms, ascending

    @property
    def earliest(self) -> float:
        """The first time still ahead (ms), or infinity."""
        return self._times[0] if self._times else math.inf

    def add(self, due: int) -> None:
        bisect.insort(self._times, due)
        if len(self._times) > MAX_KEPT:
            self._times.pop()

    def passed(self, now: int) -> None:
        """Forget the times up to `now`: a claim took everything that was due by then."""
        del self._times[: bisect.bisect_right(self._times, now)]
