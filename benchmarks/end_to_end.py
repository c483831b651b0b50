"""End to end: messages POSTed through the front door, timed until the last one arrives.

The path a user has: their code calls `POST /api/v1/app/{app}/msg` (32 concurrent keep-alive
aiohttp clients, 1 KB payloads), the service accepts and stores each message and delivers it
to the receiver. The clock starts when the first POST is sent and stops at the last arrival at
the receiver, so the rate includes the front door, the queue and the sending.

Measured in the same run, against the same client and receiver:

- the relay (`benchmarks.relay`): aiohttp server → in-memory queue → aiohttp client in one
  process, nothing stored: the ceiling hookwire is compared with;
- `hookwire serve` on SQLite with the default layout (one process per CPU: API and workers
  apart) and with `--processes 1`;
- `hookwire serve` on PostgreSQL with 2 API + 2 worker processes;
- Celery + Redis: `.delay()` per message from one process, a prefork worker with one process
  per CPU already running, timed from the first `.delay()` to the last arrival.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import aiohttp

from benchmarks import celery_baseline as celery
from benchmarks.context import Context
from benchmarks.databases import (
    delivery_status_counts,
    fresh_postgres,
    fresh_sqlite_url,
    postgres_unavailable,
)
from benchmarks.hookwire_process import TOKEN, start_serve
from benchmarks.load import ingest
from benchmarks.processes import CpuMeter, Process, free_port, pids_named

CLIENTS = 32


async def _timed(
    ctx: Context, n: int, send: Callable[[], Awaitable[float]], alive: Callable[[], bool], label: str
) -> dict[str, Any]:
    """Run `send` (returns the wall-clock start) while waiting for n arrivals at the receiver."""
    await ctx.sink.reset()
    waiting = asyncio.create_task(ctx.sink.wait_for(n, timeout=max(120.0, n / 25), alive=alive))
    try:
        started = await send()
    except BaseException:
        waiting.cancel()
        raise
    drain = await waiting
    seconds = max(drain.last_at - started, 1e-6)
    rate = drain.count / seconds
    ctx.log("e2e", f"{label}: {drain.count:,} in {seconds:.2f}s = {rate:,.0f} msg/s end to end")
    return {"msg_per_s": rate, "seconds": round(seconds, 3), "arrived": drain.count}


async def _post_all(ctx: Context, url: str, n: int, meter: CpuMeter, into: dict[str, Any]) -> float:
    started = time.time()
    meter.start()
    result = await ingest(url, TOKEN, count=n, concurrency=CLIENTS)
    into["api_seconds"] = round(result.seconds, 3)
    into["api_rate"] = round(result.rate, 1)
    into["statuses"] = result.statuses
    if result.failed:
        raise RuntimeError(f"{result.failed} POSTs failed: {result.statuses}")
    return started


@asynccontextmanager
async def _relay(ctx: Context, target: str) -> AsyncIterator[tuple[Process, str]]:
    port = free_port()
    argv = [sys.executable, "-m", "benchmarks.relay", "--port", str(port), "--target", target]
    process = ctx.supervisor.start("relay", argv)
    url = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as session:
            deadline = time.monotonic() + 30
            while True:
                if not process.running() or time.monotonic() > deadline:
                    raise RuntimeError(f"the relay did not start:\n{process.log_tail()}")
                try:
                    async with session.get(f"{url}/health") as response:
                        if response.status == 204:
                            break
                except aiohttp.ClientError:
                    await asyncio.sleep(0.05)
        yield process, url
    finally:
        await asyncio.to_thread(process.stop)


async def _run_relay(ctx: Context, n: int) -> None:
    async with _relay(ctx, f"{ctx.sink.url}/relay") as (process, url):
        detail: dict[str, Any] = {}
        meter = CpuMeter(
            {"relay": process.pids, "load client": lambda: [os.getpid()], "receiver": ctx.sink.process.pids}
        )
        # warm up the relay's connections to the receiver, then measure
        await _timed(
            ctx,
            200,
            lambda: _post_all(ctx, f"{url}/api/v1/app/app_x/msg", 200, CpuMeter({}), {}),
            process.running,
            "relay warm-up",
        )
        measured = await _timed(
            ctx,
            n,
            lambda: _post_all(ctx, f"{url}/api/v1/app/app_x/msg", n, meter, detail),
            process.running,
            "relay",
        )
        cpu = meter.stop()
    ctx.results.add(
        "e2e.relay",
        "end to end: bare relay (aiohttp → memory queue → aiohttp), no durability",
        measured["msg_per_s"],
        "msg/s",
        rate=True,
        clients=CLIENTS,
        cpu_percent_of_a_core=cpu,
        **measured,
        **detail,
    )


async def _run_hookwire(ctx: Context, key: str, label: str, database_url: str, n: int, **env: str) -> None:
    api = await start_serve(ctx.supervisor, database_url, workers=True, **env)
    try:
        app_id = await api.create_app("e2e")
        await api.create_endpoints(app_id, [f"{ctx.sink.url}/e2e"])
        url = api.messages_url(app_id)
        await _timed(
            ctx,
            200,
            lambda: _post_all(ctx, url, 200, CpuMeter({}), {}),
            api.process.running,
            f"{key} warm-up",
        )
        detail: dict[str, Any] = {}
        meter = CpuMeter(
            {
                "hookwire serve (all processes)": api.process.pids,
                "load client": lambda: [os.getpid()],
                "receiver": ctx.sink.process.pids,
                "postgres": lambda: pids_named("postgres"),
            }
        )
        measured = await _timed(
            ctx, n, lambda: _post_all(ctx, url, n, meter, detail), api.process.running, key
        )
        cpu = meter.stop()
    finally:
        await api.stop()
    statuses = await delivery_status_counts(database_url)
    ctx.results.add(
        f"e2e.{key}",
        label,
        measured["msg_per_s"],
        "msg/s",
        rate=True,
        clients=CLIENTS,
        cpu_percent_of_a_core=cpu,
        states_after=statuses,
        **measured,
        **detail,
    )


async def _run_celery(ctx: Context, n: int) -> None:
    try:
        celery._redis("PING")
    except OSError as exc:
        raise RuntimeError(f"Redis is not reachable: {exc}") from exc
    venv = await celery.ensure_venv(ctx)
    cpus = os.cpu_count() or 1
    env = {
        **os.environ,
        "BENCH_CELERY_BROKER": f"redis://{celery.REDIS_HOST}:{celery.REDIS_PORT}/{celery.REDIS_DB}",
        "PYTHONPATH": str(celery.REPO),
    }
    celery._redis("FLUSHDB")
    worker = ctx.supervisor.start(
        "celery-worker-e2e", [str(venv / "bin" / "celery"), *celery.WORKER_ARGS, f"--concurrency={cpus}"], env
    )
    started_file = ctx.workdir / "celery-e2e-started"
    try:
        await asyncio.sleep(3)  # the prefork pool starts before the clock does

        async def send() -> float:
            argv = [
                str(venv / "bin" / "python"),
                "-m",
                "benchmarks.celery_app",
                str(n),
                f"{ctx.sink.url}/celery-e2e",
                str(started_file),
            ]
            meter.start()
            await celery._run_logged(ctx, argv, "celery-e2e-delay", 300, env)
            return float(started_file.read_text())

        meter = CpuMeter(
            {
                "celery worker": worker.pids,
                "receiver": ctx.sink.process.pids,
                "redis": lambda: pids_named("redis-server"),
            }
        )
        measured = await _timed(ctx, n + 1, send, worker.running, "celery")  # + the warm-up task
        cpu = meter.stop()
    finally:
        await asyncio.to_thread(worker.stop)
        celery._redis("FLUSHDB")
    ctx.results.add(
        "e2e.celery",
        f"end to end: Celery 5 + Redis, .delay() → prefork x{cpus}, requests",
        measured["msg_per_s"],
        "msg/s",
        rate=True,
        cpu_percent_of_a_core=cpu,
        **measured,
    )


async def run(ctx: Context) -> None:
    n = ctx.plan.e2e_messages
    ctx.log(
        "e2e", f"{n:,} messages, {CLIENTS} keep-alive clients, timed to the last arrival at {ctx.sink.kind}"
    )
    await _run_relay(ctx, n)
    if ctx.e2e_runs("sqlite"):
        await _run_hookwire(
            ctx,
            "sqlite",
            "end to end: hookwire serve, SQLite (API and workers apart)",
            fresh_sqlite_url(ctx.workdir, "e2e"),
            n,
        )
    if ctx.e2e_runs("sqlite_one_process"):
        await _run_hookwire(
            ctx,
            "sqlite_one_process",
            "end to end: hookwire serve --processes 1, SQLite",
            fresh_sqlite_url(ctx.workdir, "e2e1"),
            n,
            HOOKWIRE_PROCESSES="1",
        )
    if ctx.e2e_runs("postgres"):
        reason = await postgres_unavailable()
        if reason is None:
            async with fresh_postgres("e2e") as database_url:
                await _run_hookwire(
                    ctx,
                    "postgres",
                    "end to end: hookwire serve, PostgreSQL, 2 API + 2 worker processes",
                    database_url,
                    n,
                    HOOKWIRE_PROCESSES="4",
                )
        else:
            ctx.results.failures["e2e.postgres"] = f"PostgreSQL unavailable: {reason}"
    if ctx.e2e_runs("celery"):
        await _run_celery(ctx, n)
