"""The queue core: the mechanics every hookwire queue shares, written once.

Three loops take work from a table: the delivery worker (`deliveries`), the automation
runner (`automation_runs`) and the ingest router (`inbound_requests`). What they share lives
here, and each of them only says what is particular to its work:

    LeaseBook(db, table, lease_ms)     leases.py   the rows a worker holds: claim, heartbeat,
                                                   finish / fail / defer / release, each
                                                   fenced by the lease the row was claimed with
    claim_until_stopped(step, ...)     loop.py     wake-ups, idle waits, backoff while the
                                                   database is away, burst runs
    isolating(work, fail, batch)       batches.py  a transactional batch that one bad row
                                                   cannot wedge (it is failed with its reason)

A leased row is one whose status says "taken" (`MessageStatus.SENDING`, `RunStatus.RUNNING`)
and whose `next_attempt_at` holds the lease expiry. A worker that dies loses nothing: its
leases run out and the rows are due again. A worker that lost a row (its lease ran out and
another worker claimed it) changes nothing with its late writes: every write that ends a
claim carries the lease value as a fencing token, and a row whose value moved on matches
no row.
"""

from __future__ import annotations

from hookwire.queue.batches import RowFailed, isolating
from hookwire.queue.leases import LOST, LeaseBook, QueueTable
from hookwire.queue.loop import claim_until_stopped, log_failure

__all__ = ["LOST", "LeaseBook", "QueueTable", "RowFailed", "claim_until_stopped", "isolating", "log_failure"]
