"""Retry policy: when the next attempt happens, as pure functions of the outcome.

The schedule (HOOKWIRE_RETRY_SCHEDULE) lists the delays after the immediate first
attempt; each delay is jittered by +-20% so a burst of failures does not retry in
lockstep. A `Retry-After` from a 429 or 503 pushes the retry later, never earlier.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from email.utils import parsedate_to_datetime

JITTER = 0.2
MAX_RETRY_AFTER = 24 * 3600.0
RETRY_AFTER_STATUSES = frozenset({429, 503})


def is_success(status_code: int) -> bool:
    return 200 <= status_code < 300


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), MAX_RETRY_AFTER)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    return min(max(when.timestamp() - now, 0.0), MAX_RETRY_AFTER)


def retry_delay(
    attempts_made: int,
    schedule: Sequence[float],
    *,
    retry_after: float | None = None,
    rand: random.Random | None = None,
) -> float | None:
    """Seconds until the next attempt after `attempts_made` failed ones; None when exhausted."""
    if attempts_made < 1 or attempts_made > len(schedule):
        return None
    base = schedule[attempts_made - 1]
    jitter = (rand or random).uniform(-JITTER, JITTER)
    delay = base * (1 + jitter)
    if retry_after is not None:
        delay = max(delay, retry_after)
    return delay
