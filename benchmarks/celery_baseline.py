"""The baseline: the same webhooks sent by Celery 5 (Redis broker) with a `requests` task.

Celery and requests live in their own venv, `benchmarks/.venv-celery`, created on the
first run (`python -m venv` + pip), so hookwire's dependencies never see them. The broker
is Redis at 127.0.0.1:6379 on a database of its own (BENCH_CELERY_REDIS_DB, default 13),
emptied before and after. N tasks are queued with no worker running, then a prefork
worker with one process per CPU starts, and the drain is timed at the receiver exactly
like hookwire's.
"""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from pathlib import Path

from benchmarks.context import Context
from benchmarks.processes import REPO, CpuMeter, pids_named
from benchmarks.sinks import DrainStalled

VENV = Path(__file__).resolve().parent / ".venv-celery"
REQUIREMENTS = ("celery[redis]>=5.3,<6", "requests>=2.31")
REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379
REDIS_DB = int(os.environ.get("BENCH_CELERY_REDIS_DB", "13"))
WORKER_ARGS = (
    "-A",
    "benchmarks.celery_app",
    "worker",
    "--pool=prefork",
    "--loglevel=WARNING",
    "--without-gossip",
    "--without-mingle",
    "--without-heartbeat",
)


def _redis(*command: str) -> bytes:
    """Send one command to Redis (RESP) on the benchmark's database; return the raw reply."""

    def encode(*parts: str) -> bytes:
        out = [f"*{len(parts)}\r\n".encode()]
        for part in parts:
            raw = part.encode()
            out.append(b"$%d\r\n%s\r\n" % (len(raw), raw))
        return b"".join(out)

    with socket.create_connection((REDIS_HOST, REDIS_PORT), timeout=5) as sock:
        sock.sendall(encode("SELECT", str(REDIS_DB)) + encode(*command))
        reply = b""
        while reply.count(b"\r\n") < 2:
            chunk = sock.recv(4096)
            if not chunk:
                break
            reply += chunk
    return reply.split(b"\r\n", 1)[1]


async def _run_logged(
    ctx: Context, argv: list[str], log_name: str, timeout: float, env: dict[str, str] | None = None
) -> None:
    log = ctx.workdir / f"{log_name}.log"
    with log.open("ab") as out:
        proc = await asyncio.create_subprocess_exec(
            *argv, stdout=out, stderr=out, stdin=asyncio.subprocess.DEVNULL, cwd=REPO, env=env
        )
        try:
            code = await asyncio.wait_for(proc.wait(), timeout)
        except TimeoutError:
            proc.kill()
            await proc.wait()
            raise RuntimeError(f"{' '.join(argv[:3])} … took over {timeout:.0f}s") from None
    if code != 0:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-10:])
        raise RuntimeError(f"{' '.join(argv[:3])} … exited with {code}:\n{tail}")


async def ensure_venv(ctx: Context) -> Path:
    """benchmarks/.venv-celery with Celery and requests; created once, reused after."""
    python = VENV / "bin" / "python"
    marker = VENV / ".installed"
    wanted = "\n".join(REQUIREMENTS)
    if python.exists() and marker.exists() and marker.read_text() == wanted:
        return VENV
    ctx.log("celery", f"creating {VENV.relative_to(REPO)} (celery, requests) — first run only")
    if not python.exists():
        await _run_logged(ctx, [sys.executable, "-m", "venv", str(VENV)], "celery-venv", 300)
    pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    await _run_logged(ctx, [*pip, *REQUIREMENTS], "celery-venv", 600)
    marker.write_text(wanted)
    return VENV


async def run(ctx: Context) -> None:
    try:
        _redis("PING")
    except OSError as exc:
        raise RuntimeError(f"Redis is not reachable at {REDIS_HOST}:{REDIS_PORT}: {exc}") from exc
    venv = await ensure_venv(ctx)
    n = ctx.plan.celery_tasks
    cpus = os.cpu_count() or 1
    env = {
        **os.environ,
        "BENCH_CELERY_BROKER": f"redis://{REDIS_HOST}:{REDIS_PORT}/{REDIS_DB}",
        "PYTHONPATH": str(REPO),
    }
    _redis("FLUSHDB")
    try:
        ctx.log("celery", f"queueing {n:,} tasks on redis db {REDIS_DB}")
        url = f"{ctx.sink.url}/celery"
        enqueue = [str(venv / "bin" / "python"), "-m", "benchmarks.celery_app", str(n), url]
        await _run_logged(ctx, enqueue, "celery-enqueue", 300, env)
        await ctx.sink.reset()
        ctx.log("celery", f"draining with a prefork worker, concurrency {cpus}")
        worker = ctx.supervisor.start(
            "celery-worker",
            [str(venv / "bin" / "celery"), *WORKER_ARGS, f"--concurrency={cpus}"],
            env,
        )
        meter = CpuMeter(
            {
                "celery worker": worker.pids,
                "receiver": ctx.sink.process.pids,
                "redis": lambda: pids_named("redis-server"),
            }
        )
        try:
            drain = await ctx.sink.wait_for(
                n, timeout=max(120.0, n / 50), alive=worker.running, on_first=meter.start
            )
        except DrainStalled:
            ctx.log("celery", f"worker log:\n{worker.log_tail()}")
            raise
        finally:
            cpu = meter.stop()
            await asyncio.to_thread(worker.stop)
    finally:
        _redis("FLUSHDB")
    ctx.results.add(
        "celery.rate",
        f"Celery 5 + Redis, prefork x{cpus}, requests",
        drain.rate,
        "deliveries/s",
        rate=True,
        deliveries=drain.count,
        seconds=round(drain.seconds, 2),
        peak_rss_mb=ctx.rss(worker),
        cpu_percent_of_a_core=cpu,
    )
    ctx.log("celery", f"{drain.rate:,.0f}/s; CPU during the drain (% of one core): {cpu}")
