"""Head-of-line isolation: does one dead endpoint slow the healthy ones down?

Runs of `hookwire serve` (workers on, SQLite, HOOKWIRE_REQUEST_TIMEOUT=2s), each with an
app whose messages fan out to `isolation_healthy` healthy endpoints. In the "dead" runs
the app also has one endpoint whose receiver never answers (`/hang`): every attempt to it
holds a worker slot until the timeout, and its retries come back 5 s later. A paced client
sends the same rate to both kinds; the receiver records when each message reached each
healthy endpoint. The figure is the p99 of sent → arrival over the healthy endpoints.

Clean and dead runs alternate in ABBA order (clean, dead, dead, clean, …: `isolation_rounds`
of each, `isolation_seconds` split between them) and their samples are pooled, so neither a
burst of load from elsewhere on the machine nor a drift over the scenario (later rounds
measure a little slower on this machine) lands on one variant only.

The rate is half what the fan-out scenario drained (deliveries/s) divided by the number of
endpoints, or `FALLBACK_RATE` messages/s when fan-out did not run.
"""

from __future__ import annotations

from benchmarks.context import Context
from benchmarks.databases import fresh_sqlite_url
from benchmarks.hookwire_process import TOKEN, start_serve
from benchmarks.load import paced, percentile
from benchmarks.processes import CpuMeter

FALLBACK_RATE = 5.0


async def _run_once(
    ctx: Context, label: str, rate: float, seconds: float
) -> tuple[list[float], dict[str, object]]:
    plan = ctx.plan
    recorder = ctx.recorder
    dead = label.startswith("dead")
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
        ctx.log("isolation", f"{label}: {rate:,.1f} msg/s x {len(urls)} endpoints for {seconds:g}s")
        meter = CpuMeter({"hookwire serve": api.process.pids, "receiver": recorder.process.pids})
        meter.start()
        sent = await paced(api.messages_url(app_id), TOKEN, rate=rate, seconds=seconds)
        expected = len(sent.accepted_at) * plan.isolation_healthy
        await recorder.wait_for(expected, timeout=180, alive=api.process.running)
        cpu = meter.stop()
        samples = [s for s in await recorder.samples() if s[0].startswith("/ok/")]
        stats = await recorder.stats()
    finally:
        await api.stop()
    latencies = [(arrival - sent_at) * 1000 for _, _, arrival, sent_at in samples]
    detail: dict[str, object] = {
        "messages": len(sent.sent_at),
        "accepted": len(sent.accepted_at),
        "healthy_deliveries": len(samples),
        "hung_attempts": stats["hung"],
        "p50_ms": round(percentile(latencies, 50), 1),
        "p99_ms": round(percentile(latencies, 99), 1),
        "max_ms": round(max(latencies, default=float("nan")), 1),
        "peak_rss_mb": ctx.rss(api.process),
        "cpu_percent_of_a_core": cpu,
    }
    ctx.log(
        "isolation",
        f"{label}: healthy p50 {detail['p50_ms']} ms, p99 {detail['p99_ms']} ms "
        f"({len(samples):,} healthy deliveries, {stats['hung']} attempts hung on the dead endpoint); "
        f"CPU % {cpu}",
    )
    return latencies, detail


async def run(ctx: Context) -> None:
    plan = ctx.plan
    fanout = ctx.results.value("fanout.delivery_rate")
    endpoints = plan.isolation_healthy + 1
    rate = max(1.0, fanout / 2 / endpoints) if fanout else FALLBACK_RATE
    seconds = plan.isolation_seconds / plan.isolation_rounds
    pooled: dict[str, list[float]] = {"clean": [], "dead": []}
    rounds: dict[str, list[dict[str, object]]] = {"clean": [], "dead": []}
    for n in range(1, plan.isolation_rounds + 1):
        for kind in ("clean", "dead") if n % 2 else ("dead", "clean"):
            latencies, detail = await _run_once(ctx, f"{kind}-{n}", rate, seconds)
            pooled[kind] += latencies
            rounds[kind].append(detail)
    for kind, label in (
        ("clean", f"isolation: healthy p99, {plan.isolation_healthy} healthy endpoints"),
        ("dead", "isolation: healthy p99, + 1 dead endpoint"),
    ):
        ctx.results.add(
            f"isolation.{kind}_p99_ms",
            label,
            percentile(pooled[kind], 99),
            "ms",
            rate_msg_s=round(rate, 2),
            p50_ms=round(percentile(pooled[kind], 50), 1),
            request_timeout_s=plan.isolation_timeout,
            rounds=rounds[kind],
        )
