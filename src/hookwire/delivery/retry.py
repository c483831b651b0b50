"""Retry policy: what an attempt's outcome means and when the next one happens, as pure functions.

The schedule (HOOKWIRE_RETRY_SCHEDULE) lists the delays after the immediate first
attempt; each delay is jittered by +-20% so a burst of failures does not retry in
lockstep. Only 2xx is success. A `Retry-After` from a 429 or 503 pushes the retry
later, never earlier. `410 Gone` ends the delivery and disables the endpoint. A failed
response with the header `webhook-delivery: abort-message` ends the delivery without further
retries (Svix's convention for a receiver that will never accept this message).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC
from email.utils import parsedate_to_datetime

JITTER = 0.2
MAX_RETRY_AFTER = 24 * 3600.0
RETRY_AFTER_STATUSES = frozenset({429, 503})
GONE = 410
ABORT_MESSAGE = "abort-message"  # the value of a `webhook-delivery` response header


def is_success(status_code: int) -> bool:
    return 200 <= status_code < 300


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait after `now` from a Retry-After header (delta-seconds or HTTP-date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        return min(float(value), MAX_RETRY_AFTER)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:  # `-0000` means UTC with no stated zone (RFC 5322)
        when = when.replace(tzinfo=UTC)
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


@dataclass(frozen=True)
class Verdict:
    """What one attempt's outcome means for its delivery and endpoint."""

    success: bool
    retry_in: float | None  # seconds until the next attempt; None: no further attempt
    disable_endpoint: bool = False


def judge_attempt(
    status_code: int,
    retry_after_header: str | None,
    attempts_made: int,
    schedule: Sequence[float],
    *,
    now: float,
    rand: random.Random | None = None,
    delivery_header: str | None = None,
) -> Verdict:
    """The verdict on an attempt that got `status_code` (0: no response), the n-th one made.

    `now` is when the response arrived (an HTTP-date Retry-After is relative to it);
    `delivery_header` is the response's `webhook-delivery` header.
    """
    if is_success(status_code):
        return Verdict(success=True, retry_in=None)
    if status_code == GONE:
        return Verdict(success=False, retry_in=None, disable_endpoint=True)
    if delivery_header is not None and delivery_header.strip().lower() == ABORT_MESSAGE:
        return Verdict(success=False, retry_in=None)
    retry_after = None
    if status_code in RETRY_AFTER_STATUSES:
        retry_after = parse_retry_after(retry_after_header, now)
    return Verdict(
        success=False, retry_in=retry_delay(attempts_made, schedule, retry_after=retry_after, rand=rand)
    )
