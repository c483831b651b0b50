"""Time a drain: queued deliveries in a database, `hookwire worker` processes started, arrivals counted.

The clock runs from the first request that reaches the receiver to the last one, so
process start-up (imports, migrations, the first poll) is not counted. Afterwards the
workers are stopped gracefully and the database says how many deliveries ended in
which state, so a drain that "finished" on duplicates or failures is visible.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from benchmarks.context import Context
from benchmarks.databases import delivery_status_counts
from benchmarks.hookwire_process import start_worker
from benchmarks.processes import CpuMeter, pids_named
from benchmarks.sinks import Drain, DrainStalled


@dataclass(frozen=True)
class DrainResult:
    drain: Drain
    rss_mb: dict[str, float]
    statuses: dict[str, int]
    cpu_percent: dict[str, float]  # CPU used during the drain, % of one core, per group of processes
    partial: str | None = None  # why the drain stopped before everything arrived

    def detail(self) -> dict[str, object]:
        detail: dict[str, object] = {
            "deliveries": self.drain.count,
            "seconds": round(self.drain.seconds, 2),
            "peak_rss_mb": self.rss_mb,
            "delivery_states_after": self.statuses,
            "cpu_percent_of_a_core": self.cpu_percent,
            "timeline": self.drain.timeline,
        }
        if self.partial:
            detail["partial"] = self.partial
        return detail


async def drain_with_workers(
    ctx: Context,
    scenario: str,
    database_url: str,
    expected: int,
    *,
    workers: int = 1,
    timeout: float | None = None,
    allow_partial: bool = False,
    **env: str,
) -> DrainResult:
    """Start `workers` hookwire worker processes and wait until `expected` requests arrived.

    With `allow_partial`, running out of time is not an error: the result covers what
    arrived and says why it is partial.
    """
    await ctx.sink.reset()
    processes = [start_worker(ctx.supervisor, database_url, **env) for _ in range(workers)]

    def progress(count: int, seconds: float) -> None:
        ctx.log(scenario, f"  … {count:,} of {expected:,} delivered after {seconds:.0f}s")

    groups = {
        "hookwire workers": lambda: [pid for p in processes for pid in p.pids()],
        "receiver": ctx.sink.process.pids,
    }
    if not database_url.startswith("sqlite"):
        groups["postgres"] = lambda: pids_named("postgres")
    meter = CpuMeter(groups)
    partial = None
    try:
        drain = await ctx.sink.wait_for(
            expected,
            timeout=timeout or max(120.0, expected / 100),
            alive=lambda: all(p.running() for p in processes),
            progress=progress,
            on_first=meter.start,
        )
    except DrainStalled as stalled:
        for process in processes:
            if not process.running():
                ctx.log(scenario, f"{process.name} exited:\n{process.log_tail()}")
        if not allow_partial or stalled.first_at is None:
            raise
        partial = str(stalled)
        drain = Drain(stalled.count, stalled.first_at, stalled.last_at)
    finally:
        cpu = meter.stop()
        await asyncio.gather(*(asyncio.to_thread(p.stop) for p in processes))
    statuses = await delivery_status_counts(database_url)
    ctx.log(scenario, f"  CPU during the drain (% of one core): {cpu}")
    return DrainResult(drain, ctx.rss(*processes), statuses, cpu, partial)
