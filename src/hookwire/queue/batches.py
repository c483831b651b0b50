"""Transactional batches that one bad row cannot wedge."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable


class RowFailed(Exception):
    """Working one row failed for a reason of its own (a transformation that raises, a result
    too big to send), not because the database is away. Raised inside a batch's transaction."""

    def __init__(self, row_id: str, reason: str) -> None:
        super().__init__(reason)
        self.row_id = row_id
        self.reason = reason


async def isolating(
    work: Callable[[int], Awaitable[int]],
    fail: Callable[[RowFailed], Awaitable[None]],
    batch: int,
    log: logging.Logger,
    what: str,
) -> int:
    """Work up to `batch` rows in one transaction (`work(limit)` returns how many it did); if
    one row raises `RowFailed`, the transaction is rolled back and the rows are worked one per
    transaction, the failing one ended by `fail` with its reason, so it can neither block the
    others nor come back first forever. Any other error (the database is away) propagates, and
    the batch is tried again as a whole. Returns how many rows were handled."""
    try:
        return await work(batch)
    except RowFailed:
        pass
    handled = 0
    while handled < batch:
        try:
            done = await work(1)
        except RowFailed as failed:
            log.warning("%s %s failed: %s", what, failed.row_id, failed.reason)
            await fail(failed)
            done = 1
        if not done:
            break
        handled += done
    return handled
