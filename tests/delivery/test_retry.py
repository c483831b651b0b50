"""The retry policy, table-driven: schedule with jitter, exhaustion, Retry-After, status verdicts."""

from __future__ import annotations

import random
from email.utils import formatdate

import pytest

from hookwire.delivery.retry import (
    JITTER,
    MAX_RETRY_AFTER,
    Verdict,
    judge_attempt,
    parse_retry_after,
    retry_delay,
)
from hookwire.settings import DEFAULT_RETRY_SCHEDULE, parse_retry_schedule

SCHEDULE = parse_retry_schedule(DEFAULT_RETRY_SCHEDULE)  # 5s,5m,30m,2h,5h,10h,10h
NOW = 1_700_000_000.0


@pytest.mark.parametrize(("attempts_made", "base"), list(enumerate(SCHEDULE, start=1)))
def test_delay_follows_the_schedule_within_jitter(attempts_made: int, base: float) -> None:
    rand = random.Random(attempts_made)
    delays = [retry_delay(attempts_made, SCHEDULE, rand=rand) for _ in range(500)]
    assert all(d is not None and base * (1 - JITTER) <= d <= base * (1 + JITTER) for d in delays)
    spread = [d for d in delays if d is not None]
    # jitter really spreads retries: both halves of the window are used
    assert min(spread) < base * 0.95 and max(spread) > base * 1.05


@pytest.mark.parametrize("attempts_made", [len(SCHEDULE) + 1, len(SCHEDULE) + 5, 0, -1])
def test_exhausted_schedule_returns_none(attempts_made: int) -> None:
    assert retry_delay(attempts_made, SCHEDULE) is None


def test_empty_schedule_means_a_single_attempt() -> None:
    assert retry_delay(1, ()) is None


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("1", 1.0),
        (" 120 ", 120.0),
        ("0", 0.0),
        (formatdate(NOW + 30, usegmt=True), 30.0),  # HTTP-date, IMF-fixdate
        (formatdate(NOW + 90), 90.0),  # HTTP-date with "-0000" (no stated zone: UTC)
        (formatdate(NOW - 60, usegmt=True), 0.0),  # a date in the past: retry now
        ("999999999", MAX_RETRY_AFTER),  # capped
        (None, None),
        ("", None),
        ("soon", None),
        ("-5", None),
        ("1.5", None),  # delta-seconds is an integer
        ("²", None),  # a Unicode digit, not an ASCII one
        ("Wed, 99 Foo 2015 07:28:00 GMT", None),
    ],
)
def test_retry_after_header_parsing(header: str | None, expected: float | None) -> None:
    assert parse_retry_after(header, NOW) == expected


@pytest.mark.parametrize(
    ("base", "retry_after", "low", "high"),
    [
        (0.1, 1.0, 1.0, 1.0),  # later than the schedule: Retry-After wins
        (0.1, 2.0, 2.0, 2.0),
        (5.0, 0.5, 4.0, 6.0),  # earlier than the schedule: the schedule wins
        (5.0, 0.0, 4.0, 6.0),
        (300.0, 3600.0, 3600.0, 3600.0),
    ],
)
def test_retry_after_pushes_later_never_earlier(
    base: float, retry_after: float, low: float, high: float
) -> None:
    for seed in range(50):
        delay = retry_delay(1, (base,), retry_after=retry_after, rand=random.Random(seed))
        assert delay is not None and low <= delay <= high


class NoJitter(random.Random):
    def uniform(self, a: float, b: float) -> float:
        return 0.0


@pytest.mark.parametrize(
    ("status", "retry_after", "attempts_made", "expected"),
    [
        (200, None, 1, Verdict(success=True, retry_in=None)),
        (204, None, 3, Verdict(success=True, retry_in=None)),
        (299, None, 1, Verdict(success=True, retry_in=None)),
        (410, None, 1, Verdict(success=False, retry_in=None, disable_endpoint=True)),
        (503, "7", 1, Verdict(success=False, retry_in=7.0)),
        (429, "7", 1, Verdict(success=False, retry_in=7.0)),
        (500, "7", 1, Verdict(success=False, retry_in=1.0)),  # Retry-After only counts on 429/503
        (503, "7", 2, Verdict(success=False, retry_in=None)),  # exhausted even with Retry-After
        (500, None, 2, Verdict(success=False, retry_in=None)),
    ],
)
def test_verdict_on_an_attempt(
    status: int, retry_after: str | None, attempts_made: int, expected: Verdict
) -> None:
    verdict = judge_attempt(status, retry_after, attempts_made, (1.0,), now=NOW, rand=NoJitter())
    assert verdict == expected


@pytest.mark.parametrize(
    ("status", "delivery_header", "expected"),
    [
        (500, "abort-message", Verdict(success=False, retry_in=None)),
        (400, " Abort-Message ", Verdict(success=False, retry_in=None)),  # case and spaces do not matter
        (503, "abort-message", Verdict(success=False, retry_in=None)),  # even where Retry-After counts
        (410, "abort-message", Verdict(success=False, retry_in=None, disable_endpoint=True)),
        (200, "abort-message", Verdict(success=True, retry_in=None)),  # a success stays a success
        (500, "something-else", Verdict(success=False, retry_in=1.0)),
        (500, None, Verdict(success=False, retry_in=1.0)),
    ],
)
def test_webhook_delivery_abort_message_stops_retries(
    status: int, delivery_header: str | None, expected: Verdict
) -> None:
    verdict = judge_attempt(
        status, None, 1, (1.0,), now=NOW, rand=NoJitter(), delivery_header=delivery_header
    )
    assert verdict == expected


@pytest.mark.parametrize("status", [0, 100, 199, 300, 301, 302, 304, 307, 308, 400, 401, 404, 500, 502])
def test_anything_but_2xx_is_a_failure_that_retries(status: int) -> None:
    verdict = judge_attempt(status, None, 1, (1.0,), now=NOW)
    assert not verdict.success and verdict.retry_in is not None and not verdict.disable_endpoint


def test_http_date_retry_after_is_relative_to_when_the_response_arrived() -> None:
    when = NOW + 10
    verdict = judge_attempt(503, formatdate(when, usegmt=True), 1, (0.1,), now=NOW)
    assert verdict.retry_in is not None and NOW + verdict.retry_in >= when
