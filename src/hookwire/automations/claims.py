"""The automation queue's rules: claiming due runs, and what an attempt leads to. Leases,
heartbeats and the fenced writes that end a claim are the queue core's (`hookwire.queue`).

Claims are serialised across processes (an advisory lock on PostgreSQL; on SQLite the single
writer's `BEGIN IMMEDIATE` already is one), so an automation's count of live leases and the
serial-key check in the claim query see every claim committed before them: the concurrency
limit and one-run-per-key hold however many runners share the database.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from hookwire.automations.claimed import ClaimedRun
from hookwire.automations.config import Automation
from hookwire.automations.hook import ATTEMPT_PREFIX
from hookwire.automations.process import CommandResult
from hookwire.delivery.retry import retry_delay
from hookwire.ids import new_id
from hookwire.queue import QueueTable
from hookwire.store import Database, typed
from hookwire.store.statuses import RunStatus

AUTOMATION_RUNS = QueueTable(
    "automation runs",
    extend="extend_automation_leases",
    finish="finish_automation_run",
    defer="defer_automation_run",
    release="release_automation_run",
    failed=RunStatus.FAIL,
)


async def claim_due_runs(
    db: Database, automations: Mapping[str, Automation], *, now: int, lease_until: int
) -> list[ClaimedRun]:
    """Claim what is due and allowed to start now (within each automation's concurrency, one run
    per serial key), marking it running until `lease_until`."""
    due = await db.fetch("due_automation_runs", names=sorted(automations), now=now)
    if not due:
        return []  # nothing due: no claim transaction, no lock
    claimed: list[ClaimedRun] = []
    async with db.transaction() as tx:
        await tx.fetchrow("lock_automation_claims")
        for name in sorted(row["automation"] for row in due):
            running = await tx.fetchrow("count_running_automation_runs", automation=name, now=now)
            free = automations[name].concurrency - (running["n"] if running else 0)
            if free > 0:
                rows = await tx.fetch(
                    "claim_automation_runs", automation=name, now=now, lease_until=lease_until, limit=free
                )
                claimed += typed(ClaimedRun, rows)
    return claimed


def next_state(
    result: CommandResult, attempts_made: int, schedule: Sequence[float], now: int
) -> tuple[RunStatus, int]:
    """The run's status and next_attempt_at after its `attempts_made`-th attempt ended `now`.

    Exit 0 is success; an attempt cut short because the runner stopped is run again at once;
    a command that can never start (missing, not executable) fails at once, its reason in the
    attempt; anything else is retried per `schedule` (jittered +-20%) until it is exhausted."""
    if result.success:
        return RunStatus.SUCCESS, now
    if result.unstartable:
        return RunStatus.FAIL, now
    if result.interrupted:
        return RunStatus.PENDING, now
    delay = retry_delay(attempts_made, schedule)
    if delay is None:
        return RunStatus.FAIL, now
    return RunStatus.PENDING, now + math.ceil(delay * 1000)


def attempt_row(run_id: str, result: CommandResult, now: int) -> dict[str, Any]:
    return {
        "id": new_id(ATTEMPT_PREFIX, now),
        "run_id": run_id,
        "exit_code": result.exit_code,
        "stdout": result.stdout,
        "stderr": result.stderr,
        "duration_ms": result.duration_ms,
        "error": result.error,
        "now": now,
    }
