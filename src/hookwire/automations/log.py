"""The automation log: runs, newest first, and each run's attempts (exit code, output, error);
and running a failed run again."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
from pydantic import Field

from hookwire.clock import now_ms, to_datetime
from hookwire.errors import Conflict, NotFound
from hookwire.outbound.models import ListResponse, Model
from hookwire.outbound.pagination import HIGHEST_KEY, check_limit, page
from hookwire.runtime import Runtime
from hookwire.store import Row
from hookwire.store.statuses import RunStatus


class AutomationAttemptOut(Model):
    id: str
    run_id: str
    exit_code: int | None = Field(description="None: the command never ran; negative: the signal")
    stdout: str = Field(description="the first 64 KiB")
    stderr: str = Field(description="the first 64 KiB")
    duration_ms: int
    error: str | None = Field(description="why the attempt failed besides its exit code (timeout, ...)")
    created_at: datetime


class AutomationRunOut(Model):
    id: str
    automation: str
    request_id: str
    source_id: str
    event_type: str
    event_id: str | None
    serial_key: str | None
    status: RunStatus = Field(description="0 success, 1 pending, 2 fail, 3 running")
    status_text: str
    attempts: int
    next_attempt_at: datetime | None = Field(description="when a pending run is due")
    created_at: datetime
    updated_at: datetime


class AutomationRunDetailOut(AutomationRunOut):
    event: Any = Field(description="the JSON the command gets on stdin")
    attempt_log: list[AutomationAttemptOut]


def run_out(row: Row) -> AutomationRunOut:
    status = RunStatus(row["status"])
    return AutomationRunOut(
        id=row["id"],
        automation=row["automation"],
        request_id=row["request_id"],
        source_id=row["source_id"],
        event_type=row["event_type"],
        event_id=row["event_id"],
        serial_key=row["serial_key"],
        status=status,
        status_text=status.name.lower(),
        attempts=row["attempts"],
        next_attempt_at=to_datetime(row["next_attempt_at"]) if status == RunStatus.PENDING else None,
        created_at=to_datetime(row["created_at"]),
        updated_at=to_datetime(row["updated_at"]),
    )


def attempt_out(row: Row) -> AutomationAttemptOut:
    return AutomationAttemptOut(
        id=row["id"],
        run_id=row["run_id"],
        exit_code=row["exit_code"],
        stdout=row["stdout"],
        stderr=row["stderr"],
        duration_ms=row["duration_ms"],
        error=row["error"],
        created_at=to_datetime(row["created_at"]),
    )


async def list_runs(
    rt: Runtime,
    *,
    limit: int | None,
    iterator: str | None,
    automation: str | None = None,
    status: RunStatus | None = None,
) -> ListResponse:
    limit = check_limit(limit)
    rows = await rt.db.fetch(
        "list_automation_runs",
        before=iterator or HIGHEST_KEY,
        automation=automation or "",
        status=-1 if status is None else int(status),
        limit=limit + 1,
    )
    return page(rows, limit, "id", run_out)


async def get_run(rt: Runtime, run_id: str) -> AutomationRunDetailOut:
    row = await rt.db.fetchrow("get_automation_run", id=run_id)
    if row is None:
        raise NotFound(f"automation run {run_id!r} not found")
    attempts = await rt.db.fetch("list_automation_attempts", run_id=run_id)
    return AutomationRunDetailOut(
        **run_out(row).model_dump(),
        event=orjson.loads(row["event"]),
        attempt_log=[attempt_out(a) for a in attempts],
    )


async def rerun(rt: Runtime, run_id: str) -> AutomationRunDetailOut:
    """Run a failed automation run again from the start (its attempts so far stay in the log)."""
    current = await get_run(rt, run_id)
    if current.status != RunStatus.FAIL:
        raise Conflict(f"run {run_id!r} is {current.status_text}; only a failed run can be run again")
    await rt.db.execute("rerun_failed_automation_run", id=run_id, now=now_ms())
    return await get_run(rt, run_id)
