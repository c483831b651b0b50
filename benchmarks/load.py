"""Load clients (aiohttp, in the orchestrator's uvloop): the signed blast, API ingest, paced sends.

- `blast_signed` is the ceiling: signed 1 KB POSTs straight at the receiver, HMAC computed
  per request, `concurrency` requests in flight, for a fixed time after a warm-up.
- `ingest` posts `count` messages to the hookwire API with `concurrency` in flight (closed
  loop) and counts the `202`s.
- `paced` posts messages at a fixed rate (open loop) and remembers when each was sent and
  accepted, so latency can be joined with what the receiver recorded.
"""

from __future__ import annotations

import asyncio
import gc
import math
import time
from dataclasses import dataclass, field

import aiohttp

from benchmarks.payloads import message_bytes, new_secret_key, payload_bytes, signature


@dataclass(frozen=True)
class Blast:
    requests: int
    seconds: float
    errors: int

    @property
    def rate(self) -> float:
        return self.requests / self.seconds


@dataclass(frozen=True)
class Ingest:
    accepted: int
    failed: int
    seconds: float
    statuses: dict[str, int]

    @property
    def rate(self) -> float:
        return self.accepted / self.seconds


@dataclass
class Paced:
    rate: float
    sent_at: dict[int, float] = field(default_factory=dict)
    accepted_at: dict[int, float] = field(default_factory=dict)
    failed: int = 0
    max_lag: float = 0.0  # how far behind its schedule the client fell (seconds)


def _session(concurrency: int, timeout: float = 60.0) -> aiohttp.ClientSession:
    connector = aiohttp.TCPConnector(limit=concurrency, limit_per_host=concurrency)
    return aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=timeout))


async def blast_signed(url: str, *, concurrency: int, seconds: float, warmup: float = 1.0) -> Blast:
    """Signed 1 KB POSTs at `url` for `warmup + seconds`; counts those finished in the window."""
    key = new_secret_key()
    body = payload_bytes()
    loop = asyncio.get_running_loop()
    start = loop.time() + warmup
    end = start + seconds
    counted = errors = 0
    seq = 0

    async def client(session: aiohttp.ClientSession) -> None:
        nonlocal counted, errors, seq
        while loop.time() < end:
            seq += 1
            msg_id = f"msg_ceiling{seq}"
            timestamp = int(time.time())
            headers = {
                "content-type": "application/json",
                "webhook-id": msg_id,
                "webhook-timestamp": str(timestamp),
                "webhook-signature": signature(key, msg_id, timestamp, body),
            }
            try:
                async with session.post(url, data=body, headers=headers) as response:
                    await response.read()
                    ok = response.status == 200
            except (aiohttp.ClientError, TimeoutError):
                ok = False
            if start <= loop.time() < end:
                if ok:
                    counted += 1
                else:
                    errors += 1

    async with _session(concurrency) as session:
        await asyncio.gather(*(client(session) for _ in range(concurrency)))
    return Blast(counted, seconds, errors)


def _api_headers(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}", "content-type": "application/json"}


async def ingest(url: str, token: str, *, count: int, concurrency: int) -> Ingest:
    """POST `count` 1 KB messages to `url` (.../msg) with `concurrency` in flight."""
    headers = _api_headers(token)
    body = message_bytes()
    statuses: dict[str, int] = {}
    remaining = count

    async def client(session: aiohttp.ClientSession) -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            try:
                async with session.post(url, data=body, headers=headers) as response:
                    await response.read()
                    key = str(response.status)
            except (aiohttp.ClientError, TimeoutError) as exc:
                key = type(exc).__name__
            statuses[key] = statuses.get(key, 0) + 1

    started = time.perf_counter()
    async with _session(concurrency) as session:
        await asyncio.gather(*(client(session) for _ in range(concurrency)))
    seconds = time.perf_counter() - started
    accepted = statuses.get("202", 0)
    return Ingest(accepted, count - accepted, seconds, statuses)


async def paced(url: str, token: str, *, rate: float, seconds: float, in_flight: int = 1000) -> Paced:
    """POST messages carrying `seq` and `sent_at` at `rate` per second for `seconds` (open loop).

    The run's own heap is frozen first (as hookwire's processes freeze theirs): a full garbage
    collection in this client, between noting `sent_at` and writing the request, would count
    as hookwire's latency."""
    gc.collect()
    gc.freeze()
    headers = _api_headers(token)
    result = Paced(rate)
    loop = asyncio.get_running_loop()
    total = max(1, int(rate * seconds))
    slots = asyncio.Semaphore(in_flight)
    tasks: set[asyncio.Task[None]] = set()

    async def one(session: aiohttp.ClientSession, seq: int) -> None:
        try:
            sent_at = time.time()
            result.sent_at[seq] = sent_at
            async with session.post(url, data=message_bytes(seq, sent_at), headers=headers) as response:
                await response.read()
                if response.status == 202:
                    result.accepted_at[seq] = time.time()
                else:
                    result.failed += 1
        except (aiohttp.ClientError, TimeoutError):
            result.failed += 1
        finally:
            slots.release()

    async with _session(in_flight) as session:
        start = loop.time() + 0.05
        for seq in range(total):
            delay = start + seq / rate - loop.time()
            if delay > 0.001:
                await asyncio.sleep(delay)
            elif delay < 0:
                result.max_lag = max(result.max_lag, -delay)
            await slots.acquire()
            task = asyncio.create_task(one(session, seq))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        if tasks:
            await asyncio.gather(*tasks)
    return result


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile of `values` (pct in 0..100); NaN when empty."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(pct / 100 * len(ordered))))
    return ordered[rank - 1]
