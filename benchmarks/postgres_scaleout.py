"""hookwire on PostgreSQL: delivery rate with one `hookwire worker` process, then with two.

Each run gets a fresh database: `hookwire serve --no-workers` migrates it and creates the
app and endpoint through the API, then `postgres_messages` messages are bulk-loaded with
COPY (see `preload.py`) and the workers are started together. Workers claim with
`FOR UPDATE SKIP LOCKED`, so the second one should add throughput; the ratio is the
scale-out figure.
"""

from __future__ import annotations

from benchmarks.context import Context
from benchmarks.databases import fresh_postgres, postgres_unavailable
from benchmarks.drain import drain_with_workers
from benchmarks.hookwire_process import set_up_app
from benchmarks.preload import preload_postgres


async def run(ctx: Context) -> None:
    reason = await postgres_unavailable()
    if reason is not None:
        raise RuntimeError(f"PostgreSQL unavailable: {reason}")
    n = ctx.plan.postgres_messages
    rates: dict[int, float] = {}
    for workers in (1, 2):
        async with fresh_postgres(f"w{workers}") as database_url:
            app_id, endpoints, _ = await set_up_app(
                ctx.supervisor, database_url, "pg", [f"{ctx.sink.url}/pg"]
            )
            ctx.log("postgres", f"{workers} worker(s): loading {n:,} messages with COPY")
            await preload_postgres(database_url, app_id, endpoints, n)
            ctx.log("postgres", f"{workers} worker(s): draining")
            drained = await drain_with_workers(ctx, "postgres", database_url, n, workers=workers)
        rates[workers] = drained.drain.rate
        ctx.results.add(
            f"postgres.rate_{workers}",
            f"PostgreSQL: delivery, {workers} worker{'s' if workers > 1 else ''}",
            drained.drain.rate,
            "deliveries/s",
            rate=True,
            **drained.detail(),
        )
        ctx.log("postgres", f"{workers} worker(s): {drained.drain.rate:,.0f}/s; states {drained.statuses}")
    ctx.results.add("postgres.scaleout", "PostgreSQL: 2 workers / 1 worker", rates[2] / rates[1], "x")
