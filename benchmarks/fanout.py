"""Fan-out on SQLite: every message goes to 100 endpoints.

`hookwire serve` with workers off takes `fanout_messages` messages for an app with
`fanout_endpoints` endpoints (each message is one transaction writing the message and
100 deliveries); then one `hookwire worker` drains them. Reported: messages/s accepted
and deliveries/s drained.
"""

from __future__ import annotations

from benchmarks.context import Context
from benchmarks.databases import fresh_sqlite_url
from benchmarks.drain import drain_with_workers
from benchmarks.hookwire_process import TOKEN, start_serve
from benchmarks.load import ingest


async def run(ctx: Context) -> None:
    plan = ctx.plan
    database_url = fresh_sqlite_url(ctx.workdir, "fanout")
    api = await start_serve(ctx.supervisor, database_url, workers=False)
    try:
        app_id = await api.create_app("fanout")
        urls = [f"{ctx.sink.url}/fanout/{i}" for i in range(plan.fanout_endpoints)]
        await api.create_endpoints(app_id, urls)
        ctx.log("fanout", f"ingest: {plan.fanout_messages:,} messages x {plan.fanout_endpoints} endpoints")
        result = await ingest(api.messages_url(app_id), TOKEN, count=plan.fanout_messages, concurrency=10)
    finally:
        await api.stop()
    ctx.results.add(
        "fanout.ingest_rate",
        f"fan-out x{plan.fanout_endpoints}: API ingest",
        result.rate,
        "msg/s",
        statuses=result.statuses,
        deliveries_queued_per_second=round(result.rate * plan.fanout_endpoints, 1),
    )
    expected = result.accepted * plan.fanout_endpoints
    ctx.log("fanout", f"ingest: {result.rate:,.1f} msg/s; draining {expected:,} deliveries with one worker")
    drained = await drain_with_workers(ctx, "fanout", database_url, expected)
    ctx.results.add(
        "fanout.delivery_rate",
        f"fan-out x{plan.fanout_endpoints}: delivery, 1 worker",
        drained.drain.rate,
        "deliveries/s",
        rate=True,
        **drained.detail(),
    )
    ctx.log("fanout", f"delivery: {drained.drain.rate:,.0f}/s; states after: {drained.statuses}")
