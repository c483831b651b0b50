"""The ceiling: signed 1 KB webhooks straight from one aiohttp process to the receiver, no hookwire.

Every other rate is reported as a fraction of this one: it is what the same HTTP client
library can push at the same receiver on the same machine with the same signing work,
so the gap to it is what hookwire's queue, database and bookkeeping cost.
"""

from __future__ import annotations

from benchmarks.context import Context
from benchmarks.load import blast_signed


async def run(ctx: Context) -> None:
    plan = ctx.plan
    ctx.log(
        "ceiling",
        f"{plan.client_concurrency} in flight, signed 1 KB POSTs → {ctx.sink.kind} "
        f"for {plan.ceiling_seconds:g}s",
    )
    await ctx.sink.reset()
    blast = await blast_signed(
        f"{ctx.sink.url}/ceiling", concurrency=plan.client_concurrency, seconds=plan.ceiling_seconds
    )
    received = await ctx.sink.posts()
    ctx.results.add(
        "ceiling.rate",
        "ceiling: aiohttp → receiver, signed 1 KB",
        blast.rate,
        "req/s",
        rate=True,
        requests=blast.requests,
        errors=blast.errors,
        received_including_warmup=received,
        concurrency=plan.client_concurrency,
        receiver=ctx.sink.kind,
    )
    ctx.log("ceiling", f"{blast.rate:,.0f} req/s ({blast.errors} errors)")
