"""Acknowledgement latency of the ingest path at a steady request rate.

Starts `hookwire serve` on 127.0.0.1 (SQLite file, or PostgreSQL with --postgres),
creates a `stripe` source with one ingest endpoint (a local receiver), then sends
Stripe-signed events at a fixed rate (default 200 req/s for 15 s) with distinct event
ids, and reports p50/p99/max of the time from sending a request to its 2xx answer.
Each answer means the request was verified and stored; routing happens after it.

    .venv/bin/python benchmarks/ingest_latency.py [--rate 200] [--seconds 15] [--postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import aiohttp
import asyncpg
import stripe

TOKEN = "bench-token"
SECRET_KEY = "bench-secret-key-0123456789abcdefghijkl"
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _receiver(port: int) -> asyncio.AbstractServer:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                await reader.readexactly(length)
                writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    return await asyncio.start_server(handle, "127.0.0.1", port)


async def _wait_healthy(url: str, proc: subprocess.Popen[bytes]) -> None:
    async with aiohttp.ClientSession() as session:
        for _ in range(300):
            if proc.poll() is not None:
                raise SystemExit(f"hookwire exited with {proc.returncode}")
            try:
                async with session.get(f"{url}/api/v1/health") as response:
                    if response.status == 204:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise SystemExit("hookwire did not start")


async def run(rate: int, seconds: float, database_url: str) -> dict[str, float]:
    port, receiver_port = free_port(), free_port()
    receiver = await _receiver(receiver_port)
    env = {
        **os.environ,
        "HOOKWIRE_DATABASE_URL": database_url,
        "HOOKWIRE_PORT": str(port),
        "HOOKWIRE_API_TOKEN": TOKEN,
        "HOOKWIRE_SECRET_KEY": SECRET_KEY,
        "HOOKWIRE_ALLOW_PRIVATE_TARGETS": "true",
        "HOOKWIRE_LOG_LEVEL": "warning",
    }
    proc = subprocess.Popen([sys.executable, "-m", "hookwire", "serve"], env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        await _wait_healthy(url, proc)
        auth = {"Authorization": f"Bearer {TOKEN}"}
        async with aiohttp.ClientSession(headers=auth) as session:
            async with session.post(
                f"{url}/ingest/api/v1/source",
                json={"name": "bench", "type": "stripe", "config": {"secret": "whsec_b"}},
            ) as response:
                source = await response.json()
            async with session.post(
                f"{url}/ingest/api/v1/source/{source['id']}/endpoint",
                json={"url": f"http://127.0.0.1:{receiver_port}/hook"},
            ):
                pass
        latencies: list[float] = []
        failures = 0
        total = int(rate * seconds)
        connector = aiohttp.TCPConnector(limit=200)
        async with aiohttp.ClientSession(connector=connector) as client:

            async def one(i: int) -> None:
                nonlocal failures
                body = f'{{"id":"evt_{i}_{uuid.uuid4().hex[:8]}","type":"invoice.paid","data":{{"n":{i}}}}}'
                header = stripe.WebhookSignature.generate_signature_header(body, "whsec_b")
                started = time.perf_counter()
                async with client.post(
                    source["ingestUrl"], data=body, headers={"Stripe-Signature": header}
                ) as r:
                    await r.read()
                    if r.status != 200:
                        failures += 1
                latencies.append((time.perf_counter() - started) * 1000)

            start = time.perf_counter()
            tasks = []
            for i in range(total):
                delay = start + i / rate - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                tasks.append(asyncio.create_task(one(i)))
            await asyncio.gather(*tasks)
        latencies.sort()
        return {
            "requests": total,
            "failures": failures,
            "p50_ms": statistics.median(latencies),
            "p99_ms": latencies[int(len(latencies) * 0.99) - 1],
            "max_ms": latencies[-1],
        }
    finally:
        proc.terminate()
        proc.wait(30)
        receiver.close()


async def _with_database(use_postgres: bool, rate: int, seconds: float) -> dict[str, float]:
    if not use_postgres:
        with tempfile.TemporaryDirectory() as tmp:
            return await run(rate, seconds, f"sqlite:///{Path(tmp) / 'bench.db'}")
    name = f"hw_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(PG_ADMIN)
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        return await run(rate, seconds, PG_ADMIN.rsplit("/", 1)[0] + "/" + name)
    finally:
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        await admin.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rate", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--postgres", action="store_true")
    args = parser.parse_args()
    result = asyncio.run(_with_database(args.postgres, args.rate, args.seconds))
    db = "PostgreSQL" if args.postgres else "SQLite"
    print(f"\ningest acknowledgement latency, {db}, {args.rate} req/s for {args.seconds:g}s")
    print(f"{'requests':>10} {'failures':>9} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    print(
        f"{result['requests']:>10} {result['failures']:>9} {result['p50_ms']:>8.1f} "
        f"{result['p99_ms']:>8.1f} {result['max_ms']:>8.1f}"
    )


if __name__ == "__main__":
    main()
