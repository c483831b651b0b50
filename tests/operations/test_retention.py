"""Retention purges old contents in small batches; delivery keeps its latency while it does."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from hookwire.clock import now_ms
from hookwire.ids import new_id
from hookwire.ingest.models import IngestSourceIn
from hookwire.ingest.sources import create_source
from hookwire.operations.retention import RetentionJob
from hookwire.outbound.applications import create_app
from hookwire.outbound.endpoints import create_endpoint
from hookwire.outbound.messages import create_message
from hookwire.outbound.models import ApplicationIn, EndpointIn, MessageIn
from hookwire.runtime import Runtime
from tests.delivery.test_worker import Workers
from tests.support.receiver import Receiver

DAY = 86_400_000


def _message(app_id: str, at: int, **fields: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": new_id("msg", at),
        "app_id": app_id,
        "event_type": "old.event",
        "event_id": None,
        "idempotency_key": None,
        "payload": b'{"secret":"old"}',
        "channels": None,
        "tags": None,
        "now": at,
        "deliver_at": None,
        "expunge_at": None,
    }
    return {**row, **fields}


def _attempt(msg: dict[str, Any], endpoint_id: str) -> dict[str, Any]:
    return {
        "id": new_id("atmpt", msg["now"]),
        "delivery_id": 0,
        "msg_id": msg["id"],
        "endpoint_id": endpoint_id,
        "app_id": msg["app_id"],
        "url": "http://127.0.0.1/",
        "status": 0,
        "response_status_code": 200,
        "response_headers": '{"x": "1"}',
        "response_body": "the receiver's answer",
        "duration_ms": 3,
        "trigger_type": 0,
        "error": None,
        "now": msg["now"],
    }


async def test_old_contents_are_purged_and_recent_ones_kept(runtime: Runtime) -> None:
    app, _ = await create_app(runtime, ApplicationIn(name="Acme"))
    endpoint = await create_endpoint(runtime, app.id, EndpointIn(url="http://127.0.0.1:9/"))
    now = now_ms()
    old = _message(app.id, now - 31 * DAY)
    recent = _message(app.id, now - 29 * DAY)
    short_lived = _message(app.id, now - 2 * DAY, expunge_at=now - DAY)  # payloadRetentionPeriod=1
    messages = [old, recent, short_lived]
    source = await create_source(runtime, IngestSourceIn(name="bin", type="generic-webhook", config={}))
    inbound = [
        {
            "id": new_id("req", at),
            "source_id": source.id,
            "method": "POST",
            "path": "",
            "query": "",
            "headers": "{}",
            "body": b"provider body",
            "status": "accepted",
            "reason": None,
            "event_id": None,
            "event_type": None,
            "routed_at": at,
            "now": at,
        }
        for at in (now - 31 * DAY, now - DAY)
    ]
    attempts = [_attempt(m, endpoint.id) for m in messages]
    await runtime.db.write(
        [
            ("insert_message", messages),
            ("insert_attempt", attempts),
            ("insert_inbound_request", inbound),
        ]
    )

    purged = await RetentionJob(runtime, batch=2).purge_once()

    assert (purged.messages, purged.inbound) == (2, 1)
    payloads = {
        m["id"]: await runtime.db.fetchrow("get_message", app_id=app.id, key=m["id"]) for m in messages
    }
    assert payloads[old["id"]]["payload"] is None  # type: ignore[index]
    assert payloads[short_lived["id"]]["payload"] is None  # type: ignore[index]
    assert bytes(payloads[recent["id"]]["payload"]) == b'{"secret":"old"}'  # type: ignore[index]
    for attempt, kept in zip(attempts, (False, True, False), strict=True):
        row = await runtime.db.fetchrow(
            "get_attempt", app_id=app.id, msg_id=attempt["msg_id"], id=attempt["id"]
        )
        assert row is not None and (row["response_body"] is not None) is kept
    bodies = {r["id"]: r for r in [await _inbound(runtime, source.id, i["id"]) for i in inbound]}
    assert (
        bytes(bodies[inbound[0]["id"]]["body"]) == b"" and bodies[inbound[0]["id"]]["purged_at"] is not None
    )
    assert bytes(bodies[inbound[1]["id"]]["body"]) == b"provider body"
    again = await RetentionJob(runtime).purge_once()  # the watermark: nothing left to do
    assert (again.messages, again.inbound) == (0, 0)


async def _inbound(rt: Runtime, source_id: str, request_id: str) -> dict[str, Any]:
    row = await rt.db.fetchrow("get_inbound_request", source_id=source_id, id=request_id)
    assert row is not None
    return dict(row)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_purging_100k_rows_keeps_delivery_p99_under_200ms(
    runtime: Runtime, receiver: Receiver, workers: Workers
) -> None:
    """SQLite, where every write shares one writer: the purge must leave it to deliveries."""
    app, _ = await create_app(runtime, ApplicationIn(name="Acme"))
    await create_endpoint(runtime, app.id, EndpointIn(url=receiver.url))
    start = now_ms() - 40 * DAY
    old = [_message(app.id, start + i) for i in range(100_000)]
    for chunk in range(0, len(old), 20_000):
        await runtime.db.write([("insert_message", old[chunk : chunk + 20_000])])

    worker = workers.new(runtime)
    delivering = asyncio.create_task(worker.run())
    job = RetentionJob(runtime)
    purging = asyncio.create_task(job.purge_once())
    sent: dict[str, float] = {}
    for i in range(100):
        msg, _ = await create_message(runtime, app.id, MessageIn(event_type="new.event", payload={"n": i}))
        sent[msg.id] = time.time()
        await asyncio.sleep(0.02)
    overlapped = not purging.done()
    arrived = await asyncio.to_thread(receiver.wait_for, 100, 30.0)
    purged = await purging
    worker.stop()
    await delivering

    latencies = sorted(r.at - sent[r.headers["webhook-id"]] for r in arrived)
    p99 = latencies[98]
    print(f"delivery while purging 100k rows: p50 {latencies[50] * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms")
    assert overlapped, "the purge finished before the messages were sent: the test measured nothing"
    assert purged.messages == 100_000
    assert p99 < 0.2, f"delivery p99 {p99 * 1000:.0f} ms while purging (p50 {latencies[50] * 1000:.0f} ms)"
