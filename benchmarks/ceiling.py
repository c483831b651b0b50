"""The ceiling: signed 1 KB webhooks straight from one aiohttp process to the receiver, no hookwire.

Every other rate is reported as a fraction of this one: it is what the same HTTP client
library can push at the same receiver on the same machine with the same signing work,
so the gap to it is what hookwire's queue, database and bookkeeping cost.

It is measured at the start of the run and again at the end, and the higher of the two
is the ceiling: other work on the machine can only push a measurement down, so the higher
one is the better estimate, and it makes every ratio harder to meet, not easier.
"""

from __future__ import annotations

import os
from typing import Any

from benchmarks.context import Context
from benchmarks.load import blast_signed
from benchmarks.processes import CpuMeter

LABEL = "ceiling: aiohttp → receiver, signed 1 KB"


async def _measure(ctx: Context) -> dict[str, Any]:
    plan = ctx.plan
    ctx.log(
        "ceiling",
        f"{plan.client_concurrency} in flight, signed 1 KB POSTs → {ctx.sink.kind} "
        f"for {plan.ceiling_seconds:g}s",
    )
    await ctx.sink.reset()
    meter = CpuMeter({"load client (this process)": lambda: [os.getpid()], "receiver": ctx.sink.process.pids})
    meter.start()
    blast = await blast_signed(
        f"{ctx.sink.url}/ceiling", concurrency=plan.client_concurrency, seconds=plan.ceiling_seconds
    )
    cpu = meter.stop()
    ctx.log("ceiling", f"{blast.rate:,.0f} req/s ({blast.errors} errors); CPU % {cpu}")
    return {
        "rate": round(blast.rate, 1),
        "requests": blast.requests,
        "errors": blast.errors,
        "cpu_percent_of_a_core": cpu,
    }


def _record(ctx: Context, runs: list[dict[str, Any]]) -> None:
    best = max(runs, key=lambda r: r["rate"])
    ctx.results.add(
        "ceiling.rate",
        LABEL,
        best["rate"],
        "req/s",
        rate=True,
        concurrency=ctx.plan.client_concurrency,
        receiver=ctx.sink.kind,
        cpu_percent_of_a_core=best["cpu_percent_of_a_core"],
        runs=runs,
    )


async def run(ctx: Context) -> None:
    _record(ctx, [await _measure(ctx)])


async def again(ctx: Context) -> None:
    """The second measurement, at the end of the run; the ceiling becomes the higher one."""
    figure = ctx.results.figures.get("ceiling.rate")
    if figure is None:
        return
    _record(ctx, [*figure.detail["runs"], await _measure(ctx)])
