"""Endpoints that never answer cannot starve another application's healthy endpoint.

Ten endpoints behind a socket that accepts connections and never answers, 60 pending
messages each, next to one healthy endpoint in another application; a real worker with the
default capacity (200) and per-endpoint cap (50). The healthy endpoint's messages, sent
while the hanging ones fill the queue ahead of them, are delivered within 1 s (p99), and
the hanging endpoints' deliveries are still attempted, time out and are scheduled again.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator

import pytest

from hookwire.outbound.applications import create_app
from hookwire.outbound.endpoints import create_endpoint
from hookwire.outbound.messages import create_message
from hookwire.outbound.models import ApplicationIn, EndpointIn, MessageIn
from hookwire.outbound.pagination import HIGHEST_KEY
from hookwire.runtime import Runtime
from hookwire.store import Row
from tests.delivery.test_worker import PENDING, Workers, delivery_status, tuned
from tests.support.receiver import Receiver

HANGING_ENDPOINTS = 10
PENDING_EACH = 60
HEALTHY_MESSAGES = 40


@pytest.fixture
def black_hole() -> Iterator[str]:
    """A URL whose server accepts TCP connections (the kernel does) and never answers."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(4096)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        sock.close()


async def test_ten_hanging_endpoints_do_not_delay_a_healthy_one_in_another_application(
    runtime: Runtime, receiver: Receiver, black_hole: str, workers: Workers
) -> None:
    rt = tuned(runtime, request_timeout=2.0, retry_schedule="1s,1s,1s", poll_interval=0.2)
    stuck, _ = await create_app(rt, ApplicationIn(name="stuck"))
    endpoint_ids = [
        (await create_endpoint(rt, stuck.id, EndpointIn(url=f"{black_hole}/hang/{n}"))).id
        for n in range(HANGING_ENDPOINTS)
    ]
    for n in range(PENDING_EACH):  # each fans out to the ten hanging endpoints
        await create_message(rt, stuck.id, MessageIn(event_type="stuck", payload={"n": n}))
    healthy, _ = await create_app(rt, ApplicationIn(name="healthy"))
    await create_endpoint(rt, healthy.id, EndpointIn(url=receiver.url + "/ok"))

    worker = workers.new(rt)
    running = asyncio.create_task(worker.run())
    accepted: dict[str, float] = {}
    try:
        await asyncio.sleep(0.3)  # the hanging deliveries are claimed and in flight first
        for n in range(HEALTHY_MESSAGES):
            msg, _ = await create_message(rt, healthy.id, MessageIn(event_type="ok", payload={"n": n}))
            accepted[msg.id] = time.time()
            await asyncio.sleep(0.1)
        await asyncio.to_thread(receiver.wait_for, HEALTHY_MESSAGES, 10)
        # Long enough for the first hanging attempts to time out (2 s) and be rescheduled.
        await asyncio.sleep(max(0.0, 3.0 - (time.time() - min(accepted.values()))))
    finally:
        worker.stop()
        await asyncio.wait_for(running, 30)

    latencies = sorted(r.at - accepted[r.headers["webhook-id"]] for r in receiver.requests)
    p99 = latencies[int(len(latencies) * 0.99) - 1]
    assert p99 < 1.0, f"healthy p99 {p99 * 1000:.0f} ms (max {latencies[-1] * 1000:.0f} ms)"

    rows = await _attempts(rt, stuck.id, endpoint_ids)
    timed_out = [r for r in rows if r["error"] and "timed out" in str(r["error"]).lower()]
    assert timed_out, "the hanging endpoints were never attempted"
    assert {r["endpoint_id"] for r in timed_out} == set(endpoint_ids)  # every one was attempted
    for msg_id in {str(r["msg_id"]) for r in timed_out}:  # and is scheduled again, not given up
        statuses = await delivery_status(rt, msg_id)
        assert set(statuses.values()) == {PENDING}, statuses
    print(
        f"\nhealthy p50 {latencies[len(latencies) // 2] * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms; "
        f"{len(timed_out)} timed-out attempts at the hanging endpoints"
    )


async def _attempts(rt: Runtime, app_id: str, endpoint_ids: list[str]) -> list[Row]:
    rows: list[Row] = []
    for endpoint_id in endpoint_ids:
        rows += await rt.db.fetch(
            "list_attempts_by_endpoint",
            app_id=app_id,
            endpoint_id=endpoint_id,
            before=HIGHEST_KEY,
            status=-1,
            limit=1000,
        )
    return rows
