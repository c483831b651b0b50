"""The claim loop every queue worker runs: look, work, wait for a wake-up or a timeout."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable

from hookwire.errors import DatabaseUnavailable

MAX_BACKOFF = 30.0  # seconds between tries while claiming keeps failing


async def claim_until_stopped(
    step: Callable[[], Awaitable[float | None]],
    *,
    wake: asyncio.Event,
    stopping: Callable[[], bool],
    log: logging.Logger,
    what: str,
    burst: bool = False,
    min_interval: float = 0.0,
) -> None:
    """Run `step` until `stopping()`: it claims and starts what it can, and returns how long to
    wait for a wake-up (0: go again at once; None: a burst run is finished).

    The wake-up is cleared before each look, so one that arrives during the claim is not lost.
    A failing step is logged (a database that is away in one line, anything else with its
    traceback) and tried again with a backoff doubling up to 30 s; a burst run raises instead.
    `min_interval` bounds how often the loop looks, however often it is woken."""
    backoff = 0.0
    while not stopping():
        looked_at = time.monotonic()
        wake.clear()
        try:
            timeout = await step()
        except Exception as exc:
            if burst:
                raise
            backoff = min(max(backoff * 2, 0.1), MAX_BACKOFF)
            log_failure(log, exc, f"{what} failed; retrying in {backoff:.1f}s")
            await _wait(wake, backoff)
            continue
        backoff = 0.0
        if timeout is None:
            return
        if timeout > 0:
            await _wait(wake, timeout)
        if min_interval:
            await asyncio.sleep(max(0.0, looked_at + min_interval - time.monotonic()))


async def _wait(wake: asyncio.Event, timeout: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(wake.wait(), timeout)


def log_failure(log: logging.Logger, exc: BaseException, what: str) -> None:
    """A database that is away is one line (it is expected, and retried); anything else is a
    bug and gets its traceback."""
    if isinstance(exc, DatabaseUnavailable):
        log.warning("%s: %s", what, exc)
    else:
        log.error("%s", what, exc_info=exc)
