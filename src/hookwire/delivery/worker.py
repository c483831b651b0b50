"""The delivery worker: claim due deliveries, send them, record attempts, schedule retries.

The deliveries table is the queue. A worker claims a batch (marking the rows
`sending` with a lease that expires), sends each one concurrently, and writes the
attempts and the new delivery states in batched transactions. A worker that dies
loses nothing: its leased rows become due again when the lease runs out. Wake-ups
come from commits (in-process on SQLite, LISTEN/NOTIFY on PostgreSQL) with a slow
poll as a safety net.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass

import orjson

from hookwire import __version__
from hookwire.clock import now_ms
from hookwire.delivery.endpoint_cache import EndpointCache, EndpointTarget
from hookwire.delivery.retry import RETRY_AFTER_STATUSES, is_success, parse_retry_after, retry_delay
from hookwire.delivery.sender import Sender, SendResult
from hookwire.delivery.signing import sign
from hookwire.ids import new_id
from hookwire.runtime import Runtime
from hookwire.store import Row

log = logging.getLogger("hookwire.delivery")

USER_AGENT = f"hookwire/{__version__}"
SUCCESS, PENDING, FAIL, CANCELED = 0, 1, 2, 4


@dataclass
class _Done:
    delivery: Row
    target: EndpointTarget
    result: SendResult
    finished_at: int


def build_headers(msg_id: str, timestamp: int, body: bytes, target: EndpointTarget) -> dict[str, str]:
    """The request headers: Standard Webhooks, the same values as svix-*, then custom headers."""
    signature = sign(msg_id, timestamp, body, target.keys)
    ts = str(timestamp)
    return {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": msg_id,
        "webhook-timestamp": ts,
        "webhook-signature": signature,
        "svix-id": msg_id,
        "svix-timestamp": ts,
        "svix-signature": signature,
        **target.headers,
    }


class DeliveryWorker:
    """Runs until stopped; `run(burst=True)` drains what is due and returns (tests, CLI)."""

    def __init__(self, rt: Runtime, sender: Sender, *, concurrency: int | None = None, batch_size: int = 100):
        self._rt = rt
        self._sender = sender
        self._concurrency = concurrency or rt.settings.worker_concurrency
        self._batch_size = batch_size
        self._endpoints = EndpointCache(rt.box)
        self._inflight: set[asyncio.Task[None]] = set()
        self._done: list[_Done] = []
        self._wake = asyncio.Event()
        self._results_ready = asyncio.Event()
        self._stopping = False
        self._local_next_due = float("inf")
        self._claimed: set[int] = set()  # delivery ids leased by this worker and not yet recorded
        self.sent = 0

    def wake(self) -> None:
        self._wake.set()

    async def run(self, *, burst: bool = False) -> None:
        await self._rt.db.listen_deliveries(self.wake)
        flusher = asyncio.create_task(self._flush_loop())
        try:
            while not self._stopping:
                claimed = await self._claim_and_start()
                idle = not claimed and not self._inflight and not self._done
                if burst and idle and await self._nothing_due_soon():
                    break
                if claimed and len(self._inflight) < self._concurrency:
                    continue
                await self._sleep()
        finally:
            await self._drain(flusher)

    def stop(self) -> None:
        """Stop claiming; in-flight attempts finish and are recorded before run() returns."""
        self._stopping = True
        self._wake.set()

    async def _nothing_due_soon(self) -> bool:
        row = await self._rt.db.fetchrow("next_due_at")
        due = row["due"] if row else None
        if due is None:
            return True
        wait = (due - now_ms()) / 1000
        if wait > 0:
            await asyncio.sleep(min(wait, self._rt.settings.poll_interval))
        return False

    async def _sleep(self) -> None:
        timeout = self._rt.settings.poll_interval
        if self._local_next_due != float("inf"):
            timeout = max(0.0, min(timeout, self._local_next_due - time.time()))
        self._wake.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout)

    async def _claim_and_start(self) -> int:
        free = self._concurrency - len(self._inflight)
        if free <= 0:
            return 0
        now = now_ms()
        if now >= self._local_next_due * 1000:
            self._local_next_due = float("inf")
        lease_until = now + int(self._rt.settings.lease_seconds * 1000)
        async with self._rt.db.transaction() as tx:
            claimed = await tx.fetch(
                "claim_due_deliveries", now=now, lease_until=lease_until, limit=min(free, self._batch_size)
            )
        if not claimed:
            return 0
        self._claimed.update(d["id"] for d in claimed)
        messages = {
            m["id"]: m
            for m in await self._rt.db.fetch(
                "messages_for_delivery", ids=sorted({d["msg_id"] for d in claimed})
            )
        }
        targets = await self._endpoints.load(self._rt.db, (d["endpoint_id"] for d in claimed), now)
        canceled = []
        for delivery in claimed:
            msg = messages.get(delivery["msg_id"])
            target = targets.get(delivery["endpoint_id"])
            if msg is None or msg["payload"] is None or target is None or target.disabled:
                canceled.append(delivery["id"])
                continue
            task = asyncio.create_task(self._send_one(delivery, msg, target))
            self._inflight.add(task)
            task.add_done_callback(self._inflight.discard)
        if canceled:
            self._claimed.difference_update(canceled)
            async with self._rt.db.transaction() as tx:
                await tx.executemany("cancel_delivery", [{"id": i, "now": now} for i in canceled])
        return len(claimed)

    async def _send_one(self, delivery: Row, msg: Row, target: EndpointTarget) -> None:
        body = bytes(msg["payload"])
        headers = build_headers(msg["id"], int(time.time()), body, target)
        result = await self._sender.send(target.url, body, headers)
        self._done.append(_Done(delivery, target, result, now_ms()))
        self._results_ready.set()
        self.sent += 1

    async def _flush_loop(self) -> None:
        while True:
            await self._results_ready.wait()
            self._results_ready.clear()
            await self._flush()

    async def _flush(self) -> None:
        if not self._done:
            return
        batch, self._done = self._done, []
        self._claimed.difference_update(item.delivery["id"] for item in batch)
        attempts, updates = [], []
        failing, succeeding, gone = set(), set(), set()
        schedule = self._rt.settings.retry_delays
        for item in batch:
            d, result = item.delivery, item.result
            ok = is_success(result.status_code)
            attempts.append(
                {
                    "id": new_id("atmpt", item.finished_at),
                    "delivery_id": d["id"],
                    "msg_id": d["msg_id"],
                    "endpoint_id": d["endpoint_id"],
                    "app_id": d["app_id"],
                    "url": item.target.url,
                    "status": SUCCESS if ok else FAIL,
                    "response_status_code": result.status_code,
                    "response_headers": orjson.dumps(result.headers).decode() if result.headers else None,
                    "response_body": result.body,
                    "duration_ms": result.duration_ms,
                    "trigger_type": 1 if d["manual"] else 0,
                    "error": result.error,
                    "now": item.finished_at,
                }
            )
            if ok:
                succeeding.add(d["endpoint_id"])
                updates.append({"id": d["id"], "status": SUCCESS, "next_attempt_at": item.finished_at})
                continue
            failing.add(d["endpoint_id"])
            delay = None
            if result.status_code == 410:
                gone.add(d["endpoint_id"])
            else:
                retry_after = None
                if result.status_code in RETRY_AFTER_STATUSES:
                    retry_after = parse_retry_after(result.headers.get("retry-after"), time.time())
                delay = retry_delay(d["attempts"] + 1, schedule, retry_after=retry_after)
            if delay is None:
                updates.append({"id": d["id"], "status": FAIL, "next_attempt_at": item.finished_at})
            else:
                due = item.finished_at + int(delay * 1000)
                self._local_next_due = min(self._local_next_due, due / 1000)
                updates.append({"id": d["id"], "status": PENDING, "next_attempt_at": due})
        now = now_ms()
        cutoff = now - int(self._rt.settings.disable_after_seconds * 1000)
        async with self._rt.db.transaction() as tx:
            await tx.executemany("insert_attempt", attempts)
            await tx.executemany("finish_delivery", [{**u, "now": now} for u in updates])
            await tx.executemany("mark_endpoint_success", [{"id": e} for e in sorted(succeeding)])
            still_failing = sorted(failing - succeeding)
            await tx.executemany("mark_endpoint_failure", [{"id": e, "now": now} for e in still_failing])
            await tx.executemany(
                "disable_long_failing_endpoint",
                [{"id": e, "now": now, "cutoff": cutoff} for e in still_failing],
            )
            await tx.executemany("disable_endpoint", [{"id": e, "now": now} for e in sorted(gone)])
        if gone:
            log.warning("disabled endpoints that answered 410 Gone: %s", ", ".join(sorted(gone)))
        if self._local_next_due != float("inf"):
            self._wake.set()

    async def _drain(self, flusher: asyncio.Task[None]) -> None:
        grace = self._rt.settings.request_timeout + 1
        if self._inflight:
            _, pending = await asyncio.wait(set(self._inflight), timeout=grace)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.gather(*pending, return_exceptions=True)
        flusher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await flusher
        await self._flush()
        await self._release_unfinished()

    async def _release_unfinished(self) -> None:
        """Hand back leases of deliveries this worker claimed but did not finish."""
        if self._claimed:
            ids, self._claimed = sorted(self._claimed), set()
            async with self._rt.db.transaction() as tx:
                await tx.execute("release_deliveries", ids=ids, now=now_ms())
