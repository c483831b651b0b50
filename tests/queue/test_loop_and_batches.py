"""The queue core's claim loop and poison-pill isolation, driven directly: what every queue
worker (delivery, automations, routing) gets from them."""

from __future__ import annotations

import asyncio
import itertools
import logging
import time

import pytest

from hookwire.errors import DatabaseUnavailable
from hookwire.queue import RowFailed, claim_until_stopped, isolating

log = logging.getLogger("hookwire.test")


def _never() -> bool:
    return False


async def test_a_failing_claim_backs_off_logs_one_line_per_try_and_recovers(
    caplog: pytest.LogCaptureFixture,
) -> None:
    calls: list[float] = []
    wake = asyncio.Event()

    async def step() -> float | None:
        calls.append(time.monotonic())
        if len(calls) <= 3:
            raise DatabaseUnavailable("connection refused")
        return None  # then done

    with caplog.at_level(logging.WARNING, logger="hookwire.test"):
        await asyncio.wait_for(
            claim_until_stopped(step, wake=wake, stopping=lambda: False, log=log, what="claiming"), 5
        )
    assert len(calls) == 4
    gaps = [b - a for a, b in itertools.pairwise(calls)]
    assert gaps[0] >= 0.09 and gaps[1] >= 0.19 and gaps[2] >= 0.39  # doubling from 0.1 s
    lines = [r for r in caplog.records if r.name == "hookwire.test"]
    assert len(lines) == 3 and all(r.exc_info is None for r in lines)  # expected: no traceback
    assert "claiming failed; retrying in 0.1s: connection refused" in lines[0].getMessage()


async def test_a_bug_in_a_claim_is_logged_with_its_traceback_and_a_burst_run_raises(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def broken() -> float | None:
        raise KeyError("due")

    with pytest.raises(KeyError):
        await claim_until_stopped(
            broken, wake=asyncio.Event(), stopping=lambda: False, log=log, what="x", burst=True
        )

    tries = 0

    async def broken_twice() -> float | None:
        nonlocal tries
        tries += 1
        if tries < 2:
            raise KeyError("due")
        return None

    with caplog.at_level(logging.ERROR, logger="hookwire.test"):
        await claim_until_stopped(
            broken_twice, wake=asyncio.Event(), stopping=lambda: False, log=log, what="x"
        )
    assert [r.exc_info is not None for r in caplog.records if r.name == "hookwire.test"] == [True]


async def test_a_wake_up_that_arrives_during_a_claim_is_not_lost() -> None:
    wake = asyncio.Event()
    looks = 0

    async def step() -> float | None:
        nonlocal looks
        looks += 1
        if looks == 1:
            wake.set()  # new work committed while this claim was looking
            return 30.0  # idle: would sleep 30 s if the wake-up were lost
        return None

    started = time.monotonic()
    await asyncio.wait_for(claim_until_stopped(step, wake=wake, stopping=lambda: False, log=log, what="x"), 5)
    assert looks == 2 and time.monotonic() - started < 1


async def test_stopping_ends_the_loop_at_the_next_look() -> None:
    wake, stop = asyncio.Event(), False

    async def step() -> float | None:
        return 30.0

    loop = asyncio.create_task(claim_until_stopped(step, wake=wake, stopping=lambda: stop, log=log, what="x"))
    await asyncio.sleep(0.05)
    stop = True
    wake.set()
    await asyncio.wait_for(loop, 1)


async def test_one_poison_row_is_failed_with_its_reason_and_the_rest_of_the_batch_goes_on() -> None:
    queue = ["a", "b", "poison", "c", "d"]
    done: list[str] = []
    failed: list[tuple[str, str]] = []

    async def work(limit: int) -> int:
        """A transaction over the first `limit` rows: all or nothing."""
        batch = queue[:limit]
        for row in batch:
            if row == "poison":
                raise RowFailed(row, "abs() of a string")
        done.extend(batch)
        del queue[: len(batch)]
        return len(batch)

    async def fail(row: RowFailed) -> None:
        failed.append((row.row_id, row.reason))
        queue.remove(row.row_id)

    handled = await isolating(work, fail, 50, log, "routing")
    assert handled == 5 and done == ["a", "b", "c", "d"] and failed == [("poison", "abs() of a string")]
    assert queue == []


async def test_an_outage_is_not_a_poison_row_the_batch_is_retried_whole() -> None:
    async def work(limit: int) -> int:
        raise DatabaseUnavailable("gone")

    async def fail(row: RowFailed) -> None:
        raise AssertionError("nothing may be failed for an outage")

    with pytest.raises(DatabaseUnavailable):
        await isolating(work, fail, 50, log, "routing")
