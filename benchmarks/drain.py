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
from benchmarks.sinks import Drain


@dataclass(frozen=True)
class DrainResult:
    drain: Drain
    rss_mb: dict[str, float]
    statuses: dict[str, int]

    def detail(self) -> dict[str, object]:
        return {
            "deliveries": self.drain.count,
            "seconds": round(self.drain.seconds, 2),
            "peak_rss_mb": self.rss_mb,
            "delivery_states_after": self.statuses,
        }


async def drain_with_workers(
    ctx: Context,
    scenario: str,
    database_url: str,
    expected: int,
    *,
    workers: int = 1,
    timeout: float | None = None,
    **env: str,
) -> DrainResult:
    """Start `workers` hookwire worker processes and wait until `expected` requests arrived."""
    await ctx.sink.reset()
    processes = [start_worker(ctx.supervisor, database_url, **env) for _ in range(workers)]

    def progress(count: int, seconds: float) -> None:
        ctx.log(scenario, f"  … {count:,} of {expected:,} delivered after {seconds:.0f}s")

    try:
        drain = await ctx.sink.wait_for(
            expected,
            timeout=timeout or max(120.0, expected / 100),
            alive=lambda: all(p.running() for p in processes),
            progress=progress,
        )
    except Exception:
        for process in processes:
            if not process.running():
                ctx.log(scenario, f"{process.name} exited:\n{process.log_tail()}")
        raise
    finally:
        await asyncio.gather(*(asyncio.to_thread(p.stop) for p in processes))
    statuses = await delivery_status_counts(database_url)
    return DrainResult(drain, ctx.rss(*processes), statuses)
