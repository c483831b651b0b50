"""End-to-end latency on SQLite: message sent → first delivery attempt at the receiver, at half the max rate.

One `hookwire serve` with its workers on (the usual single-process deployment):

1. max rate: `latency_probe_messages` are posted by concurrent clients as fast as the API
   takes them; the max is messages per second from the first POST until the receiver has
   the last one (what serve sustains end to end, API and workers sharing the process);
2. a paced client then sends at half that rate for `latency_seconds`; every payload carries
   its `seq` and `sent_at`, the receiver records the arrival of each, and the client notes
   when the `202` came back.

Every sample is written to `latency-samples.json` in the run's directory (`--keep` keeps it).

Reported: p50/p99 of arrival - sent_at (the target), and of arrival - 202 received (which
can be negative: the worker may deliver before the client has read its response).
"""

from __future__ import annotations

import time
from typing import Any

import orjson

from benchmarks.context import Context
from benchmarks.databases import fresh_sqlite_url
from benchmarks.hookwire_process import TOKEN, start_serve
from benchmarks.load import ingest, paced, percentile
from benchmarks.processes import CpuMeter


async def run(ctx: Context) -> None:
    plan = ctx.plan
    recorder = ctx.recorder
    database_url = fresh_sqlite_url(ctx.workdir, "latency")
    api = await start_serve(ctx.supervisor, database_url, workers=True)
    try:
        app_id = await api.create_app("latency")
        await api.create_endpoints(app_id, [f"{recorder.url}/latency"])
        url = api.messages_url(app_id)

        ctx.log("latency", f"max rate: {plan.latency_probe_messages:,} messages as fast as serve takes them")
        await recorder.reset()
        meter = CpuMeter({"hookwire serve": api.process.pids, "receiver": recorder.process.pids})
        meter.start()
        began = time.time()
        probe = await ingest(
            url, TOKEN, count=plan.latency_probe_messages, concurrency=plan.ingest_concurrency
        )
        drained = await recorder.wait_for(probe.accepted, timeout=300, alive=api.process.running)
        probe_cpu = meter.stop()
        max_rate = probe.accepted / (drained.last_at - began)
        ctx.results.add(
            "latency.max_rate",
            "SQLite serve (API + workers): max sustained",
            max_rate,
            "msg/s",
            rate=True,
            ingest_rate=round(probe.rate, 1),
            statuses=probe.statuses,
            cpu_percent_of_a_core=probe_cpu,
        )
        ctx.log("latency", f"max rate {max_rate:,.0f} msg/s (ingest alone ran at {probe.rate:,.0f}/s)")

        rate = max_rate / 2
        ctx.log("latency", f"paced: {rate:,.0f} msg/s for {plan.latency_seconds:g}s")
        await recorder.reset()
        meter = CpuMeter({"hookwire serve": api.process.pids, "receiver": recorder.process.pids})
        meter.start()
        sent = await paced(url, TOKEN, rate=rate, seconds=plan.latency_seconds)
        await recorder.wait_for(len(sent.accepted_at), timeout=120, alive=api.process.running)
        cpu = meter.stop()
        samples = [s for s in await recorder.samples() if s[0] == "/latency"]
    finally:
        await api.stop()

    # every sample, for a look at when the slow ones happened (kept with --keep)
    (ctx.workdir / "latency-samples.json").write_bytes(
        orjson.dumps({"samples": samples, "accepted_at": sent.accepted_at}, option=orjson.OPT_NON_STR_KEYS)
    )
    from_send = [(arrival - sent_at) * 1000 for _, _, arrival, sent_at in samples]
    from_accept = [
        (arrival - sent.accepted_at[seq]) * 1000 for _, seq, arrival, _ in samples if seq in sent.accepted_at
    ]
    detail: dict[str, Any] = {
        "paced_rate": round(rate, 1),
        "messages": len(sent.sent_at),
        "accepted": len(sent.accepted_at),
        "failed": sent.failed,
        "arrived": len(samples),
        "client_max_lag_ms": round(sent.max_lag * 1000, 1),
        "max_ms": round(max(from_send, default=float("nan")), 1),
        "peak_rss_mb": ctx.rss(api.process),
        "cpu_percent_of_a_core": cpu,
    }
    results = ctx.results
    results.add("latency.p50_ms", "latency sent→first attempt p50", percentile(from_send, 50), "ms", **detail)
    results.add("latency.p99_ms", "latency sent→first attempt p99", percentile(from_send, 99), "ms", **detail)
    results.add("latency.accepted_p50_ms", "latency 202→first attempt p50", percentile(from_accept, 50), "ms")
    results.add("latency.accepted_p99_ms", "latency 202→first attempt p99", percentile(from_accept, 99), "ms")
    ctx.log(
        "latency",
        f"sent→arrival p50 {percentile(from_send, 50):.1f} ms, p99 {percentile(from_send, 99):.1f} ms "
        f"({len(samples)} arrived of {len(sent.sent_at)} sent; client lag ≤ {sent.max_lag * 1000:.0f} ms); "
        f"CPU % {cpu}",
    )
