"""Waiting on a condition with a bounded deadline, never a blind sleep.

Deliveries happen in the server's worker, so a test asks the API (or the receiver)
again until the answer is what it expects, and fails with the last answer when the
deadline passes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(
    probe: Callable[[], T], done: Callable[[T], bool], *, timeout: float = 15.0, what: str = "condition"
) -> T:
    """Call `probe` until `done(result)` holds; return that result, or fail with the last one."""
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if done(result):
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g}s waiting for {what}; last: {result!r}")
        time.sleep(0.05)
