"""hookwire on SQLite: API ingest rate, then the delivery rate of what was ingested.

1. `hookwire serve` with workers off; concurrent aiohttp clients POST 1 KB messages to one
   app with one endpoint; the rate is `202`s per second (pure ingest: nothing is sent).
2. serve stops and one `hookwire worker` starts on the same file; the delivery rate is the
   receiver's arrivals per second from the first to the last.
3. The same number of messages, bulk-loaded into a fresh file, drained by as many
   `hookwire worker` processes as the Celery baseline runs (one per CPU): the figure the
   Celery comparison uses, so both sides get the same processes on the same machine.
"""

from __future__ import annotations

import asyncio
import os

from benchmarks.context import Context
from benchmarks.databases import fresh_sqlite_url, sqlite_path
from benchmarks.drain import drain_with_workers
from benchmarks.hookwire_process import TOKEN, set_up_app, start_serve
from benchmarks.load import ingest
from benchmarks.preload import preload_sqlite
from benchmarks.processes import CpuMeter

# As many worker processes as the Celery baseline's prefork pool (celery_baseline.py).
WORKERS_LIKE_CELERY = os.cpu_count() or 1


async def run(ctx: Context) -> None:
    plan = ctx.plan
    database_url = fresh_sqlite_url(ctx.workdir, "sqlite")
    api = await start_serve(ctx.supervisor, database_url, workers=False)
    try:
        app_id = await api.create_app("bench")
        await api.create_endpoints(app_id, [f"{ctx.sink.url}/sqlite"])
        ctx.log(
            "sqlite",
            f"ingest: {plan.ingest_messages:,} messages, {plan.ingest_concurrency} clients, workers off",
        )
        meter = CpuMeter({"hookwire serve": api.process.pids, "load client": lambda: [os.getpid()]})
        meter.start()
        result = await ingest(
            api.messages_url(app_id), TOKEN, count=plan.ingest_messages, concurrency=plan.ingest_concurrency
        )
        cpu = meter.stop()
    finally:
        await api.stop()
    ctx.results.add(
        "sqlite.ingest_rate",
        "SQLite: API ingest (202s)",
        result.rate,
        "msg/s",
        rate=True,
        statuses=result.statuses,
        seconds=round(result.seconds, 2),
        concurrency=plan.ingest_concurrency,
        peak_rss_mb=ctx.rss(api.process),
        cpu_percent_of_a_core=cpu,
    )
    ctx.log("sqlite", f"ingest: {result.rate:,.0f} msg/s, statuses {result.statuses}; CPU % {cpu}")
    if result.accepted == 0:
        raise RuntimeError(f"no message was accepted: {result.statuses}")

    ctx.log("sqlite", f"delivery: draining {result.accepted:,} with one `hookwire worker`")
    drained = await drain_with_workers(ctx, "sqlite", database_url, result.accepted)
    ctx.results.add(
        "sqlite.delivery_rate",
        "SQLite: delivery, 1 worker",
        drained.drain.rate,
        "deliveries/s",
        rate=True,
        **drained.detail(),
    )
    ctx.log("sqlite", f"delivery: {drained.drain.rate:,.0f}/s; states after: {drained.statuses}")

    workers = WORKERS_LIKE_CELERY
    database_url = fresh_sqlite_url(ctx.workdir, "sqlite-workers")
    app_id, endpoints, _ = await set_up_app(ctx.supervisor, database_url, "bench", [f"{ctx.sink.url}/sqlite"])
    await asyncio.to_thread(preload_sqlite, sqlite_path(database_url), app_id, endpoints, result.accepted)
    ctx.log("sqlite", f"delivery: draining {result.accepted:,} with {workers} `hookwire worker` processes")
    drained = await drain_with_workers(ctx, "sqlite", database_url, result.accepted, workers=workers)
    ctx.results.add(
        "sqlite.delivery_rate_workers",
        f"SQLite: delivery, {workers} workers (as many processes as Celery)",
        drained.drain.rate,
        "deliveries/s",
        rate=True,
        workers=workers,
        **drained.detail(),
    )
    ctx.log(
        "sqlite",
        f"delivery with {workers} workers: {drained.drain.rate:,.0f}/s; states after: {drained.statuses}",
    )
