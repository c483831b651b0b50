"""The delivery engine end to end: use-cases fill the queue, a DeliveryWorker with a real aiohttp
sender drains it into real receivers on 127.0.0.1, on SQLite and on PostgreSQL.

`run(burst=True)` returns once nothing is claimed, in flight or scheduled, so tests wait on
that (bounded by a deadline), never on a sleep.
"""

from __future__ import annotations

import asyncio
import dataclasses
import math
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from email.utils import formatdate, parsedate_to_datetime
from typing import Any

import orjson
import pytest
import standardwebhooks

from hookwire import __version__
from hookwire.cli.runtime import open_sender
from hookwire.clock import now_ms
from hookwire.delivery import worker as worker_module
from hookwire.delivery.worker import DeliveryWorker
from hookwire.outbound.applications import create_app
from hookwire.outbound.endpoints import create_endpoint, get_endpoint, get_secret, rotate_secret
from hookwire.outbound.messages import create_message
from hookwire.outbound.models import ApplicationIn, EndpointIn, MessageIn
from hookwire.outbound.pagination import HIGHEST_KEY
from hookwire.runtime import Runtime
from hookwire.store import Row
from hookwire.store.database import AttemptsRecord
from hookwire.store.statuses import MessageStatus
from tests.support.receiver import Receiver, Reply

DRAIN_DEADLINE = 60.0
SUCCESS, PENDING, FAIL, SENDING = (
    MessageStatus.SUCCESS,
    MessageStatus.PENDING,
    MessageStatus.FAIL,
    MessageStatus.SENDING,
)


def tuned(rt: Runtime, **settings: Any) -> Runtime:
    """The runtime with some settings changed (same database)."""
    return dataclasses.replace(rt, settings=rt.settings.with_overrides(**settings))


async def add_endpoint(rt: Runtime, url: str, app_id: str | None = None, **fields: Any) -> tuple[str, str]:
    if app_id is None:
        app, _ = await create_app(rt, ApplicationIn(name="Acme"))
        app_id = app.id
    endpoint = await create_endpoint(rt, app_id, EndpointIn(url=url, **fields))
    return app_id, endpoint.id


async def send(rt: Runtime, app_id: str, payload: dict[str, Any] | None = None) -> str:
    msg, created = await create_message(
        rt, app_id, MessageIn(event_type="invoice.paid", payload=payload or {"amount": 42})
    )
    assert created
    return msg.id


@dataclasses.dataclass
class Workers:
    """Makes DeliveryWorkers with real senders and closes their HTTP sessions afterwards."""

    closers: list[Any] = dataclasses.field(default_factory=list)

    def new(self, rt: Runtime, **kwargs: Any) -> DeliveryWorker:
        session, sender = open_sender(rt.settings)
        self.closers.append(session.close)
        return DeliveryWorker(rt, sender, **kwargs)

    async def drain(self, rt: Runtime, *, workers: int = 1, **kwargs: Any) -> list[DeliveryWorker]:
        started = [self.new(rt, **kwargs) for _ in range(workers)]
        await asyncio.wait_for(asyncio.gather(*(w.run(burst=True) for w in started)), DRAIN_DEADLINE)
        return started


async def attempts_of(rt: Runtime, app_id: str, msg_id: str) -> list[Row]:
    rows = await rt.db.fetch(
        "list_attempts_by_msg",
        app_id=app_id,
        msg_id=msg_id,
        before=HIGHEST_KEY,
        endpoint_id="",
        status=-1,
        limit=100,
    )
    return sorted(rows, key=lambda r: (r["created_at"], r["id"]))


async def delivery_status(rt: Runtime, msg_id: str) -> dict[str, int]:
    rows = await rt.db.fetch("list_attempted_destinations", msg_id=msg_id, after="", limit=100)
    return {r["id"]: r["delivery_status"] for r in rows}


async def status_counts(rt: Runtime) -> dict[int, int]:
    return {r["status"]: r["n"] for r in await rt.db.fetch("delivery_counts")}


# ---------------------------------------------------------------------------- outcomes


@asynccontextmanager
async def busy_worker(rt: Runtime, workers: Workers, *, busy_for: float) -> AsyncIterator[DeliveryWorker]:
    """A running worker with one delivery to another application held in flight for `busy_for`
    seconds, so something is always in flight while the test runs; stopped at the end."""
    with Receiver() as slow:
        slow.default = Reply(200, delay=busy_for)
        other_app, _ = await add_endpoint(rt, slow.url)
        worker = workers.new(rt)
        running = asyncio.create_task(worker.run())
        try:
            await send(rt, other_app, {"slow": True})
            yield worker
        finally:
            worker.stop()
            await asyncio.wait_for(running, DRAIN_DEADLINE)


async def test_failing_twice_then_succeeding_records_three_attempts(
    runtime: Runtime, receiver: Receiver, workers: Workers
) -> None:
    app_id, ep_id = await add_endpoint(runtime, receiver.url + "/hook")
    msg_id = await send(runtime, app_id, {"n": 1})
    receiver.respond(500, 500, 200)

    await workers.drain(runtime)

    attempts = await attempts_of(runtime, app_id, msg_id)
    assert [a["response_status_code"] for a in attempts] == [500, 500, 200]
    assert [a["status"] for a in attempts] == [FAIL, FAIL, SUCCESS]
    assert await delivery_status(runtime, msg_id) == {ep_id: SUCCESS}
    requests = receiver.wait_for(3)
    assert len(requests) == 3
    assert {r.headers["webhook-id"] for r in requests} == {msg_id}  # same id on every retry
    assert [r.body for r in requests] == [b'{"n":1}'] * 3
    assert [r.path for r in requests] == ["/hook"] * 3


@pytest.mark.parametrize("status", [503, 429])
async def test_retry_after_in_seconds_is_respected(
    runtime: Runtime, receiver: Receiver, workers: Workers, status: int
) -> None:
    rt = tuned(runtime, retry_schedule="100ms")
    app_id, _ = await add_endpoint(rt, receiver.url)
    msg_id = await send(rt, app_id)
    receiver.respond(Reply(status, headers={"Retry-After": "1"}), 200)

    await workers.drain(rt)

    first, second = receiver.wait_for(2)
    assert second.at - first.at >= 1.0  # not the 100ms of the schedule
    assert [a["response_status_code"] for a in await attempts_of(rt, app_id, msg_id)] == [status, 200]


async def test_retry_after_as_http_date_is_respected(
    runtime: Runtime, receiver: Receiver, workers: Workers
) -> None:
    rt = tuned(runtime, retry_schedule="100ms")
    app_id, _ = await add_endpoint(rt, receiver.url)
    await send(rt, app_id)
    not_before = math.ceil(time.time()) + 1
    date = formatdate(not_before, usegmt=True)
    receiver.respond(Reply(503, headers={"Retry-After": date}), 200)

    await workers.drain(rt)

    _, second = receiver.wait_for(2)
    assert second.at >= parsedate_to_datetime(date).timestamp()


async def test_exhausted_schedule_fails_the_delivery(
    runtime: Runtime, receiver: Receiver, workers: Workers
) -> None:
    rt = tuned(runtime, retry_schedule="100ms,200ms")
    app_id, ep_id = await add_endpoint(rt, receiver.url)
    msg_id = await send(rt, app_id)
    receiver.default = Reply(500)

    await workers.drain(rt)

    attempts = await attempts_of(rt, app_id, msg_id)
    assert len(attempts) == len(rt.settings.retry_delays) + 1 == 3
    assert {a["status"] for a in attempts} == {FAIL}
    assert await delivery_status(rt, msg_id) == {ep_id: FAIL}
    assert len(receiver.requests) == 3
    assert (await get_endpoint(rt, app_id, ep_id)).disabled is False  # 5 days of failure, not 3 tries


async def test_gone_disables_the_endpoint(runtime: Runtime, receiver: Receiver, workers: Workers) -> None:
    app_id, ep_id = await add_endpoint(runtime, receiver.url)
    first = await send(runtime, app_id)
    receiver.default = Reply(410)

    await workers.drain(runtime)

    assert [a["response_status_code"] for a in await attempts_of(runtime, app_id, first)] == [410]
    assert await delivery_status(runtime, first) == {ep_id: FAIL}
    assert (await get_endpoint(runtime, app_id, ep_id)).disabled is True
    later = await send(runtime, app_id)
    await workers.drain(runtime)
    assert await delivery_status(runtime, later) == {}
    assert len(receiver.requests) == 1


async def test_redirects_are_not_followed_and_fail(
    runtime: Runtime, receiver: Receiver, workers: Workers
) -> None:
    rt = tuned(runtime, retry_schedule="100ms")
    with Receiver() as target:
        app_id, ep_id = await add_endpoint(rt, receiver.url)
        msg_id = await send(rt, app_id)
        receiver.default = Reply(302, headers={"Location": target.url + "/elsewhere"})

        await workers.drain(rt)

        assert target.requests == []
    attempts = await attempts_of(rt, app_id, msg_id)
    assert [(a["response_status_code"], a["status"]) for a in attempts] == [(302, FAIL), (302, FAIL)]
    assert await delivery_status(rt, msg_id) == {ep_id: FAIL}


async def test_a_cookie_an_endpoint_sets_is_never_sent_back(
    runtime: Runtime, receiver: Receiver, workers: Workers
) -> None:
    rt = tuned(runtime, endpoint_concurrency=1)  # one at a time: the second goes after the cookie
    # By name: a cookie jar ignores cookies from IP-address hosts, which would hide the bug.
    app_id, _ = await add_endpoint(rt, receiver.url.replace("127.0.0.1", "localhost"))
    receiver.default = Reply(200, headers={"Set-Cookie": "session=abc123; Path=/"})
    await send(rt, app_id, {"n": 1})
    await send(rt, app_id, {"n": 2})

    await workers.drain(rt)

    requests = receiver.wait_for(2)
    assert len(requests) == 2
    assert [r.headers.get("cookie") for r in requests] == [None, None]


async def test_only_the_first_64_kib_of_the_response_is_kept(
    runtime: Runtime, receiver: Receiver, workers: Workers
) -> None:
    app_id, _ = await add_endpoint(runtime, receiver.url)
    msg_id = await send(runtime, app_id)
    body = b"a" * (64 * 1024) + b"b" * (100 * 1024)
    receiver.respond(Reply(200, headers={"X-Request-Id": "req-7", "Retry-After": "3"}, body=body))

    await workers.drain(runtime)

    [attempt] = await attempts_of(runtime, app_id, msg_id)
    assert attempt["response_body"] == "a" * (64 * 1024)
    headers = orjson.loads(attempt["response_headers"])
    assert headers["x-request-id"] == "req-7" and headers["retry-after"] == "3"
    assert headers["content-length"] == str(len(body))


async def test_binary_response_bodies_are_stored(
    runtime: Runtime, receiver: Receiver, workers: Workers
) -> None:
    app_id, ep_id = await add_endpoint(runtime, receiver.url)
    msg_id = await send(runtime, app_id)
    receiver.respond(Reply(200, body=b"ok\x00\xff\xfe"))  # NUL and invalid UTF-8

    await workers.drain(runtime)

    [attempt] = await attempts_of(runtime, app_id, msg_id)
    assert attempt["response_body"].startswith("ok") and "\x00" not in attempt["response_body"]
    assert await delivery_status(runtime, msg_id) == {ep_id: SUCCESS}


async def test_slow_receiver_times_out_with_a_reason(
    runtime: Runtime, receiver: Receiver, workers: Workers
) -> None:
    rt = tuned(runtime, request_timeout=0.5, retry_schedule="100ms")
    app_id, ep_id = await add_endpoint(rt, receiver.url)
    msg_id = await send(rt, app_id)
    receiver.respond(Reply(200, delay=1.5))

    started = time.monotonic()
    await workers.drain(rt)

    first, second = await attempts_of(rt, app_id, msg_id)
    assert first["response_status_code"] == 0 and first["status"] == FAIL
    assert first["error"] == "timed out after 0.5s"
    assert 400 <= first["duration_ms"] < 1400
    assert second["response_status_code"] == 200
    assert await delivery_status(rt, msg_id) == {ep_id: SUCCESS}
    assert time.monotonic() - started < 1.4  # the slow answer was not waited for


async def test_webhook_headers(runtime: Runtime, receiver: Receiver, workers: Workers) -> None:
    app_id, ep_id = await add_endpoint(runtime, receiver.url, headers={"X-Tenant": "acme", "X-Trace": "t1"})
    old_secret = await get_secret(runtime, app_id, ep_id)
    new_secret = await rotate_secret(runtime, app_id, ep_id, new_secret=None, grace_period_seconds=3600)
    payload = {"type": "invoice.paid", "data": {"amount": 42, "currency": "EUR", "note": "Zoë 🪝"}}
    msg_id = await send(runtime, app_id, payload)

    await workers.drain(runtime)

    [request] = receiver.wait_for(1)
    h = request.headers
    assert request.method == "POST"
    assert request.body == orjson.dumps(payload)  # compact JSON, exactly what was signed
    assert h["content-type"] == "application/json"
    assert h["user-agent"] == f"hookwire/{__version__}"
    assert h["webhook-id"] == h["svix-id"] == msg_id
    assert h["webhook-timestamp"] == h["svix-timestamp"]
    assert abs(int(h["webhook-timestamp"]) - time.time()) < 60
    assert h["webhook-signature"] == h["svix-signature"]
    assert len(h["webhook-signature"].split(" ")) == 2  # rotation: old and new key both sign
    assert h["x-tenant"] == "acme" and h["x-trace"] == "t1"
    assert "accept-encoding" not in h  # responses are stored as sent, never compressed
    for secret in (old_secret, new_secret):
        assert standardwebhooks.Webhook(secret).verify(request.body, h) == payload


# ---------------------------------------------------------------------------- leases


async def test_abandoned_claims_are_reclaimed_after_the_lease(
    runtime: Runtime, receiver: Receiver, workers: Workers
) -> None:
    app_id, _ = await add_endpoint(runtime, receiver.url)
    msg_ids = {await send(runtime, app_id, {"n": i}) for i in range(5)}
    now = now_ms()
    lease_until = now + 1000
    async with runtime.db.transaction() as tx:  # a worker that claims, then dies
        claimed = await tx.fetch(
            "claim_due_deliveries",
            now=now,
            lease_until=lease_until,
            limit=100,
            scan=1000,
            blocked=[],
            open_circuits=[],
        )
    assert len(claimed) == 5
    assert await status_counts(runtime) == {SENDING: 5}

    await workers.drain(runtime)

    requests = receiver.wait_for(5)
    assert {r.headers["webhook-id"] for r in requests} == msg_ids and len(requests) == 5
    assert min(r.at for r in requests) >= lease_until / 1000
    assert await status_counts(runtime) == {SUCCESS: 5}


async def test_a_slow_send_keeps_its_lease(runtime: Runtime, receiver: Receiver, workers: Workers) -> None:
    """The send outlasts the lease several times over; a second worker must not take the row."""
    # The heartbeat runs every lease/3: 0.6 s leaves 0.4 s of slack for a loaded machine.
    rt = tuned(runtime, lease_seconds=0.6, request_timeout=5.0, poll_interval=0.05)
    app_id, _ = await add_endpoint(rt, receiver.url)
    msg_id = await send(rt, app_id)
    receiver.respond(Reply(200, delay=2.5))

    await workers.drain(rt, workers=2)

    assert len(receiver.wait_for(1)) == 1
    assert len(await attempts_of(rt, app_id, msg_id)) == 1
    assert await status_counts(rt) == {SUCCESS: 1}


# ---------------------------------------------------------------------------- safety


async def test_private_target_is_refused_with_a_clear_error(
    runtime: Runtime, receiver: Receiver, workers: Workers
) -> None:
    rt = tuned(runtime, allow_private_targets=False, retry_schedule="")
    app_id, ep_id = await add_endpoint(rt, receiver.url)
    msg_id = await send(rt, app_id)

    await workers.drain(rt)

    [attempt] = await attempts_of(rt, app_id, msg_id)
    assert attempt["response_status_code"] == 0 and attempt["status"] == FAIL
    assert "127.0.0.1" in attempt["error"] and "HOOKWIRE_ALLOW_PRIVATE_TARGETS" in attempt["error"]
    assert await delivery_status(rt, msg_id) == {ep_id: FAIL}
    assert receiver.requests == []


# ---------------------------------------------------------------------------- wake-ups and load


async def test_wakeups_not_polling(runtime: Runtime, receiver: Receiver, workers: Workers) -> None:
    """With a 60 s safety poll, new messages, freed capacity and due retries still start at once."""
    rt = tuned(runtime, poll_interval=60.0, retry_schedule="100ms")
    app_id, _ = await add_endpoint(rt, receiver.url)
    worker = workers.new(rt, concurrency=1)
    running = asyncio.create_task(worker.run())
    try:
        started = time.monotonic()
        for i in range(3):  # concurrency 1: each next claim waits for the previous record
            await send(rt, app_id, {"n": i})
        await asyncio.to_thread(receiver.wait_for, 3, 10.0)
        receiver.respond(500)  # fails once: the retry needs the worker's own timer
        await send(rt, app_id, {"n": 3})
        requests = await asyncio.to_thread(receiver.wait_for, 5, 10.0)
        assert time.monotonic() - started < 10.0
        assert [r.body for r in requests] == [b'{"n":%d}' % n for n in (0, 1, 2, 3, 3)]
    finally:
        worker.stop()
        await asyncio.wait_for(running, DRAIN_DEADLINE)


async def test_every_retry_a_worker_scheduled_wakes_it_not_only_the_first(
    runtime: Runtime, workers: Workers
) -> None:
    """Five deliveries fail 100 ms apart and are due again 500 ms later each, while a slow one
    keeps the worker busy: every retry goes out when due, not a 30 s poll later. The endpoint
    answers every request 500 (a scripted 500 for each first attempt could be taken by an
    earlier message's retry, which overtakes a late first attempt), so each message is tried
    twice, once and once more after 500 ms."""
    rt = tuned(runtime, poll_interval=30.0, retry_schedule="500ms", circuit_breaker_failures=0)
    with Receiver() as flaky:
        flaky.default = Reply(500)
        app_id, _ = await add_endpoint(rt, flaky.url)
        async with busy_worker(rt, workers, busy_for=4.0):
            await asyncio.sleep(0.3)
            for n in range(5):
                await send(rt, app_id, {"n": n})
                await asyncio.to_thread(flaky.wait_for, n + 1, 5.0)
                await asyncio.sleep(0.1)
            requests = await asyncio.to_thread(flaky.wait_for, 10, 5.0)
    firsts: dict[bytes, float] = {}
    for request in requests:  # a retry may overtake a later message's first attempt
        if request.body in firsts:
            assert request.at - firsts[request.body] < 1.5  # due 0.5 s after its failure
        else:
            firsts[request.body] = request.at
    assert len(firsts) == 5


async def test_attempts_that_finish_together_share_one_record(
    runtime: Runtime, receiver: Receiver, workers: Workers, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker with capacity to spare records at most once per RECORD_EVERY: thirty attempts
    sent at once are written in a couple of records, not one each. (Ten endpoints with three
    messages each: an endpoint starts with four slots, and a claim that skips an endpoint at its
    limit records at once.)"""
    monkeypatch.setattr(worker_module, "RECORD_EVERY", 0.5)
    records: list[int] = []
    record_attempts = runtime.db.record_attempts

    async def counting(record: AttemptsRecord) -> None:
        records.append(len(record.attempts))
        await record_attempts(record)

    monkeypatch.setattr(runtime.db, "record_attempts", counting)
    for e in range(10):
        app_id, _ = await add_endpoint(runtime, f"{receiver.url}/{e}")
        for i in range(3):
            await send(runtime, app_id, {"n": i})
    await workers.drain(runtime, concurrency=200)
    assert sum(records) == 30
    assert len(records) <= 3, records
    assert await status_counts(runtime) == {SUCCESS: 30}


async def test_a_worker_at_its_capacity_records_at_once(
    runtime: Runtime, receiver: Receiver, workers: Workers, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A claimed delivery frees its slot only once recorded: a worker whose claim took all the
    room it had records at once, though it recorded a moment ago, so new messages keep going
    out one at a time."""
    monkeypatch.setattr(worker_module, "RECORD_EVERY", 5.0)
    app_id, _ = await add_endpoint(runtime, receiver.url)
    worker = workers.new(runtime, concurrency=4)
    running = asyncio.create_task(worker.run())
    try:
        await send(runtime, app_id, {"n": 0})
        await asyncio.to_thread(receiver.wait_for, 1, 10.0)
        await _until(lambda: status_counts(runtime), {SUCCESS: 1})  # the record just made
        started = time.monotonic()
        for i in range(1, 9):  # one at a time: each claim takes one, never a full batch
            await send(runtime, app_id, {"n": i})
        await asyncio.to_thread(receiver.wait_for, 9, 10.0)
        # paced, the fifth would wait for a slot until the record 5 s after the first one
        assert time.monotonic() - started < 4.0
    finally:
        worker.stop()
        await asyncio.wait_for(running, DRAIN_DEADLINE)
    assert await status_counts(runtime) == {SUCCESS: 9}


async def _until(read: Any, expected: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while (got := await read()) != expected:
        assert time.monotonic() < deadline, got
        await asyncio.sleep(0.02)


async def test_a_worker_with_a_backlog_records_at_once(
    runtime: Runtime, receiver: Receiver, workers: Workers, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While claims come back full, more is due: the worker frees its capacity by recording at
    once (paced records held a draining worker at three quarters of a core)."""
    monkeypatch.setattr(worker_module, "RECORD_EVERY", 4.0)
    app_id, _ = await add_endpoint(runtime, receiver.url)
    for i in range(400):
        await send(runtime, app_id, {"n": i})
    started = time.monotonic()
    await workers.drain(runtime, concurrency=200, batch_size=10)
    # the last record (nothing due any more) waits; paced, a backlog's records took two more
    assert time.monotonic() - started < 6.5
    assert await status_counts(runtime) == {SUCCESS: 400}


async def test_many_messages_are_each_delivered_exactly_once(runtime: Runtime, workers: Workers) -> None:
    """1,000 messages to 2 endpoints, drained by two competing workers."""
    with Receiver() as first, Receiver() as second:
        app_id, ep1 = await add_endpoint(runtime, first.url + "/one")
        _, ep2 = await add_endpoint(runtime, second.url + "/two", app_id=app_id)
        msg_ids = [await send(runtime, app_id, {"n": i}) for i in range(1000)]

        drained = await workers.drain(runtime, workers=2, concurrency=50)

        got = Counter((r.path, r.headers["webhook-id"]) for r in first.requests + second.requests)
    expected = {(path, m) for m in msg_ids for path in ("/one", "/two")}
    assert set(got) == expected
    assert max(got.values()) == 1
    assert await status_counts(runtime) == {SUCCESS: 2000}
    assert sum(w.sent for w in drained) == 2000
    endpoints = await runtime.db.fetch("endpoints_for_delivery", ids=[ep1, ep2])
    assert {e["disabled"] for e in endpoints} == {0}
