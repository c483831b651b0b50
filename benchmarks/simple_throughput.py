"""Quick delivery throughput: 10,000 messages to one local receiver, drained by one worker process.

    .venv/bin/python benchmarks/simple_throughput.py [--messages N] [--databases sqlite,postgres]

For each database: a fresh database, one application with one endpoint pointing at an
aiohttp.web receiver in its own process on 127.0.0.1, N messages created through the
use-case layer (`create_message`, one transaction each), then one `hookwire worker --burst`
process drains the queue. Throughput is N divided by the time from the first to the last
request the receiver saw (process start-up is not counted); the wall time of the worker
process is shown beside it. PostgreSQL comes from HOOKWIRE_BENCH_POSTGRES_URL
(default postgresql://postgres@127.0.0.1:5432/postgres); a database is created and dropped.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import socket
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import aiohttp
import asyncpg
from aiohttp import web

from hookwire.outbound.applications import create_app
from hookwire.outbound.endpoints import create_endpoint
from hookwire.outbound.messages import create_message
from hookwire.outbound.models import ApplicationIn, EndpointIn, MessageIn
from hookwire.runtime import Runtime
from hookwire.secretbox import SecretBox
from hookwire.settings import Settings
from hookwire.store import open_database

SECRET_KEY = "benchmark-secret-key-0123456789abcdefghij"
PG_ADMIN_URL = os.environ.get("HOOKWIRE_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# ---------------------------------------------------------------- the receiver (own process)


def run_receiver(port: int) -> None:
    stats = {"posts": 0, "first": 0.0, "last": 0.0}

    async def hook(request: web.Request) -> web.Response:
        await request.read()
        now = time.time()
        stats["posts"] += 1
        stats["first"] = stats["first"] or now
        stats["last"] = now
        return web.Response(text="ok")

    async def get_stats(_: web.Request) -> web.Response:
        return web.json_response(stats)

    async def reset(_: web.Request) -> web.Response:
        stats.update(posts=0, first=0.0, last=0.0)
        return web.json_response(stats)

    app = web.Application()
    app.add_routes([web.post("/hook", hook), web.get("/stats", get_stats), web.post("/reset", reset)])
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


async def receiver_call(url: str, method: str = "GET") -> dict[str, float]:
    async with aiohttp.ClientSession() as session, session.request(method, url) as response:
        return dict(await response.json())


async def wait_receiver(url: str, deadline: float = 15.0) -> None:
    end = time.monotonic() + deadline
    while True:
        try:
            await receiver_call(url + "/stats")
            return
        except aiohttp.ClientError:
            if time.monotonic() > end:
                raise
            await asyncio.sleep(0.05)


# ---------------------------------------------------------------- one run


@dataclass
class Result:
    database: str
    messages: int
    enqueue_seconds: float
    drain_seconds: float
    worker_wall_seconds: float
    received: int
    succeeded: int

    @property
    def rate(self) -> float:
        return self.received / self.drain_seconds if self.drain_seconds else 0.0


async def fill_queue(database_url: str, target: str, count: int) -> float:
    db = await open_database(database_url)
    try:
        await db.migrate()
        rt = Runtime(Settings(database_url=database_url, secret_key=SECRET_KEY), db, SecretBox(SECRET_KEY))
        app, _ = await create_app(rt, ApplicationIn(name="bench"))
        await create_endpoint(rt, app.id, EndpointIn(url=target))
        started = time.monotonic()
        next_n = iter(range(count))

        async def producer() -> None:  # a few concurrent API-like callers
            for n in next_n:
                await create_message(rt, app.id, MessageIn(event_type="bench.event", payload={"n": n}))

        await asyncio.gather(*(producer() for _ in range(8)))
        return time.monotonic() - started
    finally:
        await db.close()


async def succeeded(database_url: str) -> int:
    db = await open_database(database_url)
    try:
        return sum(r["n"] for r in await db.fetch("delivery_counts") if r["status"] == 0)
    finally:
        await db.close()


async def run_one(name: str, database_url: str, receiver_url: str, count: int) -> Result:
    enqueue = await fill_queue(database_url, receiver_url + "/hook", count)
    await receiver_call(receiver_url + "/reset", "POST")
    env = {
        **os.environ,
        "HOOKWIRE_DATABASE_URL": database_url,
        "HOOKWIRE_SECRET_KEY": SECRET_KEY,
        "HOOKWIRE_API_TOKEN": "bench-token",
        "HOOKWIRE_ALLOW_PRIVATE_TARGETS": "true",
        "HOOKWIRE_LOG_LEVEL": "warning",
    }
    started = time.monotonic()
    command = (sys.executable, "-m", "hookwire", "worker", "--burst")
    proc = await asyncio.create_subprocess_exec(*command, env=env)
    code = await asyncio.wait_for(proc.wait(), timeout=600)
    wall = time.monotonic() - started
    if code != 0:
        raise RuntimeError(f"hookwire worker exited with {code}")
    stats = await receiver_call(receiver_url + "/stats")
    return Result(
        database=name,
        messages=count,
        enqueue_seconds=enqueue,
        drain_seconds=stats["last"] - stats["first"],
        worker_wall_seconds=wall,
        received=int(stats["posts"]),
        succeeded=await succeeded(database_url),
    )


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


async def run_postgres(receiver_url: str, count: int) -> Result:
    name = f"hw_bench_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(PG_ADMIN_URL)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        try:
            return await run_one("postgresql", with_database(PG_ADMIN_URL, name), receiver_url, count)
        finally:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


async def main(count: int, databases: list[str]) -> None:
    port = free_port()
    receiver_url = f"http://127.0.0.1:{port}"
    receiver = multiprocessing.get_context("spawn").Process(target=run_receiver, args=(port,), daemon=True)
    receiver.start()
    results = []
    try:
        await wait_receiver(receiver_url)
        for name in databases:
            if name == "sqlite":
                with tempfile.TemporaryDirectory() as tmp:
                    url = f"sqlite:///{tmp}/bench.db"
                    results.append(await run_one("sqlite", url, receiver_url, count))
            else:
                results.append(await run_postgres(receiver_url, count))
    finally:
        receiver.terminate()
        receiver.join(10)
    cpus = os.cpu_count()
    print(f"\n{count} messages -> 1 endpoint on 127.0.0.1; one `hookwire worker --burst`; {cpus} CPUs")
    header = ("database", "enqueue/s", "drain s", "deliveries/s", "worker wall s", "received", "succeeded")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for r in results:
        row = (
            r.database,
            f"{r.messages / r.enqueue_seconds:,.0f}",
            f"{r.drain_seconds:.2f}",
            f"{r.rate:,.0f}",
            f"{r.worker_wall_seconds:.2f}",
            str(r.received),
            str(r.succeeded),
        )
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--databases", default="sqlite,postgres")
    args = parser.parse_args()
    asyncio.run(main(args.messages, [d.strip() for d in args.databases.split(",") if d.strip()]))
