"""Per-endpoint limits in the worker, end to end: a DeliveryWorker with a real sender drains the
queue into real receivers on 127.0.0.1, on SQLite and on PostgreSQL.

Throttle, concurrency cap and circuit breaker each hold deliveries back without spending an
attempt on them; a manual resend goes through an open circuit. Every wait is bounded by a
deadline; time is only ever asserted as a lower bound (spread out, held back), never as speed.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from hookwire.delivery.worker import DeliveryWorker
from hookwire.outbound.attempts import resend
from hookwire.outbound.pagination import HIGHEST_KEY
from hookwire.runtime import Runtime
from hookwire.store import Row
from tests.delivery.test_worker import (
    DRAIN_DEADLINE,
    SUCCESS,
    Workers,
    add_endpoint,
    attempts_of,
    busy_worker,
    send,
    status_counts,
    tuned,
)
from tests.support.receiver import Receiver, Reply

WAIT = 20.0  # seconds; the bound of every wait for requests to arrive


async def attempts_to(rt: Runtime, app_id: str, endpoint_id: str) -> list[Row]:
    return await rt.db.fetch(
        "list_attempts_by_endpoint",
        app_id=app_id,
        endpoint_id=endpoint_id,
        before=HIGHEST_KEY,
        status=-1,
        limit=250,
    )


async def eventually(check: Callable[[], Awaitable[bool]], what: str, timeout: float = WAIT) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.02)


async def stop(worker: DeliveryWorker, running: asyncio.Task[None]) -> None:
    worker.stop()
    await asyncio.wait_for(running, DRAIN_DEADLINE)


async def test_throttle_rate_spreads_deliveries_out_and_counts_no_extra_attempt(
    runtime: Runtime, receiver: Receiver, workers: Workers
) -> None:
    app_id, _ = await add_endpoint(runtime, receiver.url, throttle_rate=5)
    msg_ids = [await send(runtime, app_id, {"n": i}) for i in range(15)]

    await workers.drain(runtime)

    requests = receiver.wait_for(15, WAIT)
    assert len(requests) == 15
    assert {r.headers["webhook-id"] for r in requests} == set(msg_ids)
    # 5 at once (a full bucket), then one every 0.2 s: the last ten take about 2 s
    assert requests[-1].at - requests[0].at >= 1.5
    for msg_id in msg_ids:  # deferrals are not attempts
        assert len(await attempts_of(runtime, app_id, msg_id)) == 1
    assert await status_counts(runtime) == {SUCCESS: 15}


async def test_concurrency_cap_bounds_requests_in_flight_to_one_endpoint(
    runtime: Runtime, receiver: Receiver, workers: Workers
) -> None:
    rt = tuned(runtime, endpoint_concurrency=2)
    app_id, _ = await add_endpoint(rt, receiver.url)
    msg_ids = [await send(rt, app_id, {"n": i}) for i in range(8)]
    receiver.default = Reply(200, delay=0.3)

    await workers.drain(rt, concurrency=50)

    requests = receiver.wait_for(8, WAIT)
    assert len(requests) == 8
    assert {r.headers["webhook-id"] for r in requests} == set(msg_ids)
    assert receiver.max_in_flight == 2  # the cap, and the cap was used
    for msg_id in msg_ids:
        assert len(await attempts_of(rt, app_id, msg_id)) == 1
    assert await status_counts(rt) == {SUCCESS: 8}


async def test_circuit_breaker_spares_a_failing_endpoint_and_probes_after_the_cooldown(
    runtime: Runtime, workers: Workers
) -> None:
    """One attempt at a time per endpoint (endpoint_concurrency=1) so the count is exact: without
    the cap, the first batch would send every message to the failing endpoint at once."""
    failures, cooldown = 3, 2.0
    rt = tuned(
        runtime,
        circuit_breaker_failures=failures,
        circuit_breaker_cooldown=cooldown,
        endpoint_concurrency=1,
        retry_schedule="100ms,100ms,100ms",
    )
    with Receiver() as failing, Receiver() as healthy:
        failing.default = Reply(500)
        app_id, failing_id = await add_endpoint(rt, failing.url)
        _, healthy_id = await add_endpoint(rt, healthy.url, app_id=app_id)
        msg_ids = [await send(rt, app_id, {"n": i}) for i in range(20)]
        worker = workers.new(rt)
        running = asyncio.create_task(worker.run())
        try:
            got = await asyncio.to_thread(healthy.wait_for, 20, WAIT)
            failing_meanwhile = len(failing.requests)
            probed = await asyncio.to_thread(failing.wait_for, failures + 1, WAIT)
        finally:
            await stop(worker, running)

        assert {r.headers["webhook-id"] for r in got} == set(msg_ids) and len(got) == 20
        assert failing_meanwhile <= failures + 1  # the opening failures and at most the probe, not 20
        opened, probe = probed[failures - 1], probed[failures]
        assert probe.at - opened.at >= cooldown - 0.05  # nothing in between: the circuit was open
        assert len(failing.requests) in (failures + 1, failures + 2)  # + one more probe, 2x later
        if len(failing.requests) == failures + 2:
            assert failing.requests[-1].at - probe.at >= 2 * cooldown - 0.05
        recorded = await attempts_to(rt, app_id, failing_id)
        assert len(recorded) == len(failing.requests)  # held-back deliveries spent no attempt
        assert len(await attempts_to(rt, app_id, healthy_id)) == 20


async def test_the_queue_behind_a_circuit_goes_once_its_probe_is_answered(
    runtime: Runtime, workers: Workers
) -> None:
    """The probe's answer closes the circuit and wakes the worker: what waited behind it goes
    out then, not a 30 s poll later, even while another endpoint keeps the worker busy."""
    rt = tuned(
        runtime,
        poll_interval=30.0,
        circuit_breaker_failures=1,
        circuit_breaker_cooldown=0.5,
        retry_schedule="",
    )
    with Receiver() as flaky:
        app_id, endpoint_id = await add_endpoint(rt, flaky.url)
        async with busy_worker(rt, workers, busy_for=5.0):
            flaky.respond(500)
            flaky.default = Reply(200, delay=0.3)  # the probe and what follows take a while
            await send(rt, app_id, {"n": 0})

            async def failure_recorded() -> bool:
                return len(await attempts_to(rt, app_id, endpoint_id)) == 1

            await eventually(failure_recorded, "the failed attempt")  # the circuit is open
            for n in range(1, 4):
                await send(rt, app_id, {"n": n})
            requests = await asyncio.to_thread(flaky.wait_for, 4, 4.0)
    probe, *rest = requests[1:]
    assert probe.at - requests[0].at >= 0.5 - 0.05  # after the cooldown
    assert all(r.at - probe.at < 1.5 for r in rest)


async def test_manual_resend_goes_through_an_open_circuit(
    runtime: Runtime, receiver: Receiver, workers: Workers
) -> None:
    rt = tuned(runtime, circuit_breaker_failures=1, circuit_breaker_cooldown=60.0, retry_schedule="")
    app_id, ep_id = await add_endpoint(rt, receiver.url)
    receiver.respond(500)  # then 200
    worker = workers.new(rt)
    running = asyncio.create_task(worker.run())
    try:
        first = await send(rt, app_id, {"n": 1})

        async def failure_recorded() -> bool:
            return len(await attempts_of(rt, app_id, first)) == 1

        await eventually(failure_recorded, "the failed attempt")  # the circuit is open for 60 s
        second = await send(rt, app_id, {"n": 2})  # automatic: waits for the circuit
        await resend(rt, app_id, first, ep_id)  # manual: goes now

        requests = await asyncio.to_thread(receiver.wait_for, 3, WAIT)
    finally:
        await stop(worker, running)

    # The resend went first although the second message was queued before it; its success
    # closed the circuit, and the second message followed long before the 60 s cooldown.
    assert [r.headers["webhook-id"] for r in requests] == [first, first, second]
    assert [a["response_status_code"] for a in await attempts_of(rt, app_id, first)] == [500, 200]
    assert [a["trigger_type"] for a in await attempts_of(rt, app_id, first)] == [0, 1]
    assert await status_counts(rt) == {SUCCESS: 2}


async def test_a_burst_run_waits_for_throttled_deliveries_but_not_for_an_open_circuit(
    runtime: Runtime, workers: Workers
) -> None:
    """`hookwire worker --burst` (horizon 0): paced deliveries were due, so they are sent; those
    behind an open circuit wait for a later run."""
    rt = tuned(runtime, circuit_breaker_failures=1, circuit_breaker_cooldown=300.0, endpoint_concurrency=1)
    with Receiver() as throttled, Receiver() as dead:
        dead.default = Reply(500)
        app_id, _ = await add_endpoint(rt, throttled.url, throttle_rate=4)
        _, dead_id = await add_endpoint(rt, dead.url, app_id=app_id)
        msg_ids = [await send(rt, app_id, {"n": i}) for i in range(6)]

        await asyncio.wait_for(workers.new(rt).run(burst=True, burst_horizon=0.0), WAIT)

        assert {r.headers["webhook-id"] for r in throttled.wait_for(6, WAIT)} == set(msg_ids)
        assert len(dead.requests) == 1  # then the circuit opened for 300 s
    assert len(await attempts_to(rt, app_id, dead_id)) == 1
    assert (await status_counts(rt)).get(SUCCESS) == 6
