"""The automation runner: claim due runs, run their commands, record attempts, schedule retries.

The `automation_runs` table is the queue, worked with the queue core (`hookwire.queue`)
like the deliveries table: a runner claims due runs (`RunStatus.RUNNING`, with
next_attempt_at holding the lease expiry) and keeps the leases of running commands alive
with a heartbeat, so a runner that dies loses
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
from collections.abc import Mapping

from hookwire.automations.claims import AUTOMATION_RUNS, ClaimedRun, attempt_row, claim_due_runs, next_state
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
from hookwire.queue import LeaseBook, claim_until_stopped, log_failure
from hookwire.runtime import Runtime
from hookwire.store.statuses import RunStatus

log = logging.getLogger("hookwire.automations")

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
        self._book: LeaseBook[str] = LeaseBook(
            rt.db, AUTOMATION_RUNS, int(rt.settings.lease_seconds * 1000), log
        )  # held until the attempt is recorded
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
        async def step() -> float | None:
            await self._claim_and_start()
            return await self._idle_timeout(burst, horizon)

        await claim_until_stopped(
            step,
            wake=self._wake,
            stopping=lambda: self._stopping,
            log=log,
            what="claiming automation runs",
            burst=burst,
            min_interval=_MIN_INTERVAL,
        )

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

    async def _claim_and_start(self) -> None:
        now = now_ms()
        lease_until = self._book.lease_until(now)
        claimed = await claim_due_runs(self._rt.db, self._automations, now=now, lease_until=lease_until)
        # A run of ours whose lease ran out while its command still ran keeps the new lease and
        # is not started a second time.
        fresh = set(self._book.claimed((run.id for run in claimed), lease_until))
        for run in claimed:
            if run.id in fresh:
                task = asyncio.create_task(self._execute(run))
                self._running.add(task)
                task.add_done_callback(self._running.discard)

    # ------------------------------------------------------------------ running

    async def _execute(self, run: ClaimedRun) -> None:
        automation = self._automations[run.automation]
        try:
            result = await run_command(
                automation.command,
                stdin=run.event.encode(),
                env=command_env(self._environ, automation, run),
                cwd=automation.working_dir,
                timeout=automation.timeout,
                interrupt=self._interrupt,
            )
        except Exception as exc:  # a bug here must still end the claim with a recorded attempt
            log.exception("automation %s: running run %s failed unexpectedly", automation.name, run.id)
            result = CommandResult(None, "", "", 0, error=f"internal error: {exc!r}")
        await self._record(automation, run, result)

    async def _record(self, automation: Automation, run: ClaimedRun, result: CommandResult) -> None:
        """Write the attempt and the run's new state in one transaction, retrying while the
        database is away (the heartbeat keeps the lease meanwhile)."""
        now = now_ms()
        schedule = automation.retry_delays
        if schedule is None:
            schedule = self._rt.settings.retry_delays
        status, next_attempt_at = next_state(result, run.attempts + 1, schedule, now)
        attempt = attempt_row(run.id, result, now)
        failures = 0
        while True:
            finish = self._book.finish(run.id, status, next_attempt_at, now_ms())
            try:
                await self._rt.db.write(
                    [("insert_automation_attempt", attempt), (AUTOMATION_RUNS.finish, finish)], notify=True
                )
                break
            except Exception:
                failures += 1
                log.exception(
                    "automation %s: recording run %s failed (try %d)", automation.name, run.id, failures
                )
                if self._stopping and failures >= 3:
                    return  # the lease runs out and the run is retried: at least once, never lost
                await asyncio.sleep(min(0.1 * 2**failures, _MAX_BACKOFF))
        self._book.drop((run.id,))
        self.finished += 1
        if not result.success:
            await automation_attempt_failed(
                self._rt,
                automation=automation.name,
                run=run,
                attempt_number=run.attempts + 1,
                exhausted=status == RunStatus.FAIL,
                exit_code=result.exit_code,
                error=result.error,
                at=now,
            )
            log.warning(
                "automation %s: run %s attempt %d failed (exit %s%s)",
                automation.name,
                run.id,
                run.attempts + 1,
                result.exit_code,
                f", {result.error}" if result.error else "",
            )
        self._wake.set()  # a slot or a serial key is free

    # ------------------------------------------------------------------ leases

    async def _heartbeat(self) -> None:
        """Push the leases of running commands forward every third of the lease."""
        while True:
            await asyncio.sleep(self._book.beat_every)
            try:
                await self._book.heartbeat(now_ms())
            except Exception as exc:
                log_failure(log, exc, "extending automation leases failed; retrying")

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
