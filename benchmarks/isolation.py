"""Head-of-line isolation: does one dead endpoint slow the healthy ones down?

Two runs of `hookwire serve` (workers on, SQLite, HOOKWIRE_REQUEST_TIMEOUT=2s), each with
an app whose messages fan out to `isolation_healthy` healthy endpoints. In the second run
the app also has one endpoint whose receiver never answers (`/hang`): every attempt to it
holds a worker slot until the timeout, and its retries come back 5 s later. A paced client
sends the same rate to both; the receiver records when each message reached each healthy
endpoint. The figure is the p99 of sent → arrival over the healthy endpoints.

The rate is half what the fan-out scenario drained (deliveries/s) divided by the number of
endpoints, or `FALLBACK_RATE` messages/s when fan-out did not run.
"""

from __future__ import annotations

from benchmarks.context import Context
from benchmarks.databases import fresh_sqlite_url
from benchmarks.hookwire_process import TOKEN, start_serve
from benchmarks.load import paced, percentile

FALLBACK_RATE = 5.0


async def _run_once(
    ctx: Context, label: str, rate: float, *, dead: bool
) -> tuple[list[float], dict[str, object]]:
    plan = ctx.plan
    recorder = ctx.recorder
    database_url = fresh_sqlite_url(ctx.workdir, f"isolation-{label}")
    api = await start_serve(
        ctx.supervisor, database_url, workers=True, HOOKWIRE_REQUEST_TIMEOUT=f"{plan.isolation_timeout:g}"
    )
    try:
        app_id = await api.create_app(f"isolation-{label}")
        urls = [f"{recorder.url}/hang"] if dead else []  # first, so it is claimed first
        urls += [f"{recorder.url}/ok/{i}" for i in range(plan.isolation_healthy)]
        await api.create_endpoints(app_id, urls)
        await recorder.reset()
        ctx.log(
            "isolation", f"{label}: {rate:,.1f} msg/s x {len(urls)} endpoints for {plan.isolation_seconds:g}s"
        )
        sent = await paced(api.messages_url(app_id), TOKEN, rate=rate, seconds=plan.isolation_seconds)
        expected = len(sent.accepted_at) * plan.isolation_healthy
        await recorder.wait_for(expected, timeout=180, alive=api.process.running)
        samples = [s for s in await recorder.samples() if s[0].startswith("/ok/")]
        stats = await recorder.stats()
    finally:
        await api.stop()
    latencies = [(arrival - sent_at) * 1000 for _, _, arrival, sent_at in samples]
    detail: dict[str, object] = {
        "rate_msg_s": round(rate, 2),
        "endpoints": len(urls),
        "messages": len(sent.sent_at),
        "accepted": len(sent.accepted_at),
        "healthy_deliveries": len(samples),
        "hung_attempts": stats["hung"],
        "p50_ms": round(percentile(latencies, 50), 1),
        "max_ms": round(max(latencies, default=float("nan")), 1),
        "peak_rss_mb": ctx.rss(api.process),
    }
    ctx.log(
        "isolation",
        f"{label}: healthy p50 {percentile(latencies, 50):.1f} ms, p99 {percentile(latencies, 99):.1f} ms "
        f"({len(samples):,} healthy deliveries, {stats['hung']} attempts hung on the dead endpoint)",
    )
    return latencies, detail


async def run(ctx: Context) -> None:
    fanout = ctx.results.value("fanout.delivery_rate")
    endpoints = ctx.plan.isolation_healthy + 1
    rate = max(1.0, fanout / 2 / endpoints) if fanout else FALLBACK_RATE
    clean, clean_detail = await _run_once(ctx, "clean", rate, dead=False)
    dead, dead_detail = await _run_once(ctx, "dead", rate, dead=True)
    ctx.results.add(
        "isolation.clean_p99_ms",
        f"isolation: healthy p99, {ctx.plan.isolation_healthy} healthy endpoints",
        percentile(clean, 99),
        "ms",
        **clean_detail,
    )
    ctx.results.add(
        "isolation.dead_p99_ms",
        "isolation: healthy p99, + 1 dead endpoint",
        percentile(dead, 99),
        "ms",
        **dead_detail,
    )
