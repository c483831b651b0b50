"""The automation runner: claim due runs, run their commands, record attempts, schedule retries.

The `automation_runs` table is the queue, worked like the deliveries table: a runner
claims due runs (status 3 with next_attempt_at holding the lease expiry) and keeps the
leases of running commands alive with a heartbeat, so a runner that dies loses
nothing: its leases run out and the runs become due again. The claim does the
limiting, so it holds across processes: claims are serialised (an advisory lock on
PostgreSQL, the single writer on SQLite), an automation never has more than
`concurrency` runs under a live lease, and a run whose serial key another run holds
waits.

Every end of a claim is fenced by the lease the runner holds and wakes every runner
(NOTIFY), so a run waiting for its serial key or a free slot starts at once; a slow
poll is the safety net. Stopping lets running commands finish for `stop_grace`
seconds, then kills them; their attempts are recorded and the runs queued again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Mapping
from typing import Any

from hookwire.automations.claims import attempt_row, claim_due_runs, extend_leases, next_state
from hookwire.automations.config import Automation
from hookwire.automations.process import (
    KILL_GRACE,
    OUTPUT_GRACE,
    CommandResult,
    command_env,
    run_command,
)
from hookwire.clock import now_ms
from hookwire.operations.automation_events import automation_attempt_failed
from hookwire.runtime import Runtime
from hookwire.store import Row
from hookwire.store.statuses import RunStatus

log = logging.getLogger("hookwire.automations")

_LOST = -1  # lease value of a run another runner took over: matches no row
_MAX_BACKOFF = 30.0
_MIN_WAIT = 0.005
# Every commit that queues deliveries wakes the runner too; under heavy delivery traffic this
# bounds how often it looks for runs.
_MIN_INTERVAL = 0.02


class AutomationRunner:
    """Runs until stopped; `run(burst=True)` runs everything due and returns (tests, CLI).

    `environ` is the environment commands inherit (the CLI passes the server's); HOOKWIRE_*
    variables are never passed on."""

    def __init__(
        self,
        rt: Runtime,
        automations: tuple[Automation, ...],
        *,
        environ: Mapping[str, str] | None = None,
        stop_grace: float = 10.0,
    ) -> None:
        self._rt = rt
        self._automations = {a.name: a for a in automations}
        self._names = sorted(self._automations)
        self._environ = dict(environ or {})
        self._stop_grace = stop_grace
        self._lease_ms = max(1, int(rt.settings.lease_seconds * 1000))
        self._leases: dict[str, int] = {}  # run id -> lease expiry (ms), until its attempt is recorded
        self._running: set[asyncio.Task[None]] = set()
        self._wake = asyncio.Event()
        self._interrupt = asyncio.Event()  # set when stopping: kill what still runs
        self._stopping = False
        self.finished = 0

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        """Stop claiming; running commands get `stop_grace` seconds, then are killed; run() returns."""
        self._stopping = True
        self._wake.set()

    async def run(self, *, burst: bool = False, burst_horizon: float | None = None) -> None:
        """Run automations until stop(). With burst, return once nothing runs and nothing is due
        within `burst_horizon` seconds (None: wait for every scheduled retry and lease)."""
        if not self._automations:
            while not (burst or self._stopping):  # nothing to run: wait to be stopped
                self._wake.clear()
                await self._wake.wait()
            return
        await self._rt.db.listen_deliveries(self.wake)
        await self._warn_unknown_sources()
        heartbeat = asyncio.create_task(self._heartbeat())
        try:
            await self._claim_loop(burst, burst_horizon)
        finally:
            await self._drain()
            heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await heartbeat

    async def _warn_unknown_sources(self) -> None:
        """A source may be created after the server starts, so an unknown one is only a warning."""
        for source in sorted({a.source for a in self._automations.values()}):
            if await self._rt.db.fetchrow("get_source", key=source) is None:
                users = ", ".join(sorted(a.name for a in self._automations.values() if a.source == source))
                log.warning("automations %s: source %r does not exist (yet)", users, source)

    # ------------------------------------------------------------------ claiming

    async def _claim_loop(self, burst: bool, horizon: float | None) -> None:
        backoff = 0.0
        while not self._stopping:
            looked_at = time.monotonic()
            self._wake.clear()  # before looking, so a wake-up during the claim is not lost
            try:
                await self._claim_and_start()
                timeout = await self._idle_timeout(burst, horizon)
            except Exception:
                if burst:
                    raise
                backoff = min(max(backoff * 2, 0.1), _MAX_BACKOFF)
                log.exception("claiming automation runs failed; retrying in %.1fs", backoff)
                await self._sleep(backoff)
                continue
            backoff = 0.0
            if timeout is None:
                return
            await self._sleep(timeout)
            await asyncio.sleep(max(0.0, looked_at + _MIN_INTERVAL - time.monotonic()))

    async def _idle_timeout(self, burst: bool, horizon: float | None) -> float | None:
        """How long to wait for a wake-up; None when a burst run is finished. Runs that are due
        but wait for a slot or a serial key are started by the wake-up that frees them."""
        now = now_ms()
        row = await self._rt.db.fetchrow("next_automation_run_due", names=self._names)
        due = row["due"] if row else None
        finished = due is None or (horizon is not None and (due - now) / 1000 > horizon)
        if burst and not self._running and finished:
            return None
        timeout = self._rt.settings.poll_interval
        if due is not None and due > now:
            timeout = min(timeout, (due - now) / 1000)
        return max(timeout, _MIN_WAIT)

    async def _sleep(self, timeout: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout)

    async def _claim_and_start(self) -> None:
        now = now_ms()
        lease_until = now + self._lease_ms
        claimed = await claim_due_runs(self._rt.db, self._automations, now=now, lease_until=lease_until)
        for run in claimed:
            # A run of ours whose lease ran out while its command still ran: keep the new lease,
            # do not start it a second time.
            fresh = run["id"] not in self._leases
            self._leases[run["id"]] = lease_until
            if fresh:
                task = asyncio.create_task(self._execute(run))
                self._running.add(task)
                task.add_done_callback(self._running.discard)

    # ------------------------------------------------------------------ running

    async def _execute(self, run: Row) -> None:
        automation = self._automations[run["automation"]]
        try:
            result = await run_command(
                automation.command,
                stdin=run["event"].encode(),
                env=command_env(self._environ, automation, run),
                cwd=automation.working_dir,
                timeout=automation.timeout,
                interrupt=self._interrupt,
            )
        except Exception as exc:  # a bug here must still end the claim with a recorded attempt
            log.exception("automation %s: running run %s failed unexpectedly", automation.name, run["id"])
            result = CommandResult(None, "", "", 0, error=f"internal error: {exc!r}")
        await self._record(automation, run, result)

    async def _record(self, automation: Automation, run: Row, result: CommandResult) -> None:
        """Write the attempt and the run's new state in one transaction, retrying while the
        database is away (the heartbeat keeps the lease meanwhile)."""
        now = now_ms()
        schedule = automation.retry_delays
        if schedule is None:
            schedule = self._rt.settings.retry_delays
        status, next_attempt_at = next_state(result, run["attempts"] + 1, schedule, now)
        attempt = attempt_row(run["id"], result, now)
        failures = 0
        while True:
            finish: dict[str, Any] = {
                "id": run["id"],
                "status": status,
                "next_attempt_at": next_attempt_at,
                "lease": self._leases.get(run["id"], _LOST),
                "now": now_ms(),
            }
            try:
                await self._rt.db.write(
                    [("insert_automation_attempt", attempt), ("finish_automation_run", finish)], notify=True
                )
                break
            except Exception:
                failures += 1
                log.exception(
                    "automation %s: recording run %s failed (try %d)", automation.name, run["id"], failures
                )
                if self._stopping and failures >= 3:
                    return  # the lease runs out and the run is retried: at least once, never lost
                await asyncio.sleep(min(0.1 * 2**failures, _MAX_BACKOFF))
        self._leases.pop(run["id"], None)
        self.finished += 1
        if not result.success:
            await automation_attempt_failed(
                self._rt,
                automation=automation.name,
                run=run,
                attempt_number=run["attempts"] + 1,
                exhausted=status == RunStatus.FAIL,
                exit_code=result.exit_code,
                error=result.error,
                at=now,
            )
            log.warning(
                "automation %s: run %s attempt %d failed (exit %s%s)",
                automation.name,
                run["id"],
                run["attempts"] + 1,
                result.exit_code,
                f", {result.error}" if result.error else "",
            )
        self._wake.set()  # a slot or a serial key is free

    # ------------------------------------------------------------------ leases

    async def _heartbeat(self) -> None:
        """Push the leases of running commands forward every third of the lease."""
        while True:
            await asyncio.sleep(self._lease_ms / 3000)
            try:
                await self._extend_leases()
            except Exception:
                log.exception("extending automation leases failed; retrying")

    async def _extend_leases(self) -> None:
        groups: dict[int, list[str]] = {}
        for run_id, lease in self._leases.items():
            if lease != _LOST:
                groups.setdefault(lease, []).append(run_id)
        if not groups:
            return
        now = now_ms()
        lease_until = now + self._lease_ms
        kept = await extend_leases(self._rt.db, groups, lease_until=lease_until, now=now)
        for lease, ids in groups.items():
            for run_id in ids:
                if self._leases.get(run_id) == lease:  # else recorded or re-claimed meanwhile
                    self._leases[run_id] = lease_until if run_id in kept[lease] else _LOST
        lost = sum(len(ids) - len(kept[lease]) for lease, ids in groups.items())
        if lost:
            log.warning(
                "%d automation runs were taken over by another runner after their lease ran out", lost
            )

    # ------------------------------------------------------------------ stopping

    async def _drain(self) -> None:
        """Give running commands `stop_grace` seconds, then kill them; wait for their records."""
        self._stopping = True
        if not self._running:
            return
        _, pending = await asyncio.wait(set(self._running), timeout=self._stop_grace)
        if not pending:
            return
        log.warning("stopping: killing %d running automation commands", len(pending))
        self._interrupt.set()
        _, stuck = await asyncio.wait(pending, timeout=KILL_GRACE + OUTPUT_GRACE + 10)
        for task in stuck:  # the database is away: their leases run out and they run again
            task.cancel()
        await asyncio.gather(*stuck, return_exceptions=True)
