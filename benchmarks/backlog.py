"""Backlog on SQLite: the drain rate of a small queue (10,000) against a big one (1,000,000).

Each backlog is bulk-loaded into a fresh SQLite file (the rows the API would write, see
`preload.py`), then one `hookwire worker` drains it. A slower drain of the big queue means
a query or a structure grows with the queue; the peak RSS of every hookwire process shows
whether memory does. The big drain has a time budget: past it the rate of what did
arrive is reported, marked as partial.
"""

from __future__ import annotations

import asyncio
import time

from benchmarks.context import Context
from benchmarks.databases import fresh_sqlite_url, sqlite_path
from benchmarks.drain import drain_with_workers
from benchmarks.hookwire_process import set_up_app
from benchmarks.preload import preload_sqlite

BUDGET_SECONDS = {"full": 900.0, "quick": 240.0}


async def _backlog(ctx: Context, key: str, size: int) -> dict[str, float]:
    database_url = fresh_sqlite_url(ctx.workdir, f"backlog-{key}")
    app_id, endpoints, serve = await set_up_app(
        ctx.supervisor, database_url, "backlog", [f"{ctx.sink.url}/backlog"]
    )
    rss = ctx.rss(serve)
    began = time.monotonic()
    await asyncio.to_thread(preload_sqlite, sqlite_path(database_url), app_id, endpoints, size)
    ctx.log("backlog", f"{size:,} queued in {time.monotonic() - began:.0f}s; draining with one worker")
    label = f"backlog {size:,}: delivery, 1 worker"
    budget = BUDGET_SECONDS.get(ctx.plan.mode, 900.0)
    drained = await drain_with_workers(ctx, "backlog", database_url, size, timeout=budget, allow_partial=True)
    if drained.partial:
        label += " (PARTIAL)"
    ctx.results.add(
        f"backlog.{key}_rate", label, drained.drain.rate, "deliveries/s", rate=True, **drained.detail()
    )
    ctx.log(
        "backlog",
        f"{size:,}: {drained.drain.rate:,.0f}/s; states after: {drained.statuses}"
        + (f"; PARTIAL: {drained.partial}" if drained.partial else ""),
    )
    rss.update(drained.rss_mb)
    return rss


async def run(ctx: Context) -> None:
    rss: dict[str, float] = {}
    rss.update(await _backlog(ctx, "small", ctx.plan.backlog_small))
    rss.update(await _backlog(ctx, "large", ctx.plan.backlog_large))
    peak = max(rss.values(), default=float("nan"))
    ctx.results.add(
        "backlog.peak_rss_mb", "backlog: peak RSS of any hookwire process", peak, "MB", processes=rss
    )
    ctx.log("backlog", f"peak RSS {peak:.0f} MB: {rss}")
