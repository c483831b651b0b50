"""The queue core's leases on both real databases: every write that ends a claim is fenced
by the lease it was claimed with, the heartbeat keeps live leases and notices lost ones, and
a clean stop hands every row back."""

from __future__ import annotations

import logging

import pytest

from hookwire.clock import now_ms
from hookwire.delivery.claimed import ClaimedDelivery
from hookwire.delivery.worker import DELIVERIES
from hookwire.outbound.applications import create_app
from hookwire.outbound.endpoints import create_endpoint
from hookwire.outbound.messages import create_message
from hookwire.outbound.models import ApplicationIn, EndpointIn, MessageIn
from hookwire.queue import LOST, LeaseBook
from hookwire.runtime import Runtime
from hookwire.store import typed
from hookwire.store.statuses import MessageStatus

log = logging.getLogger("hookwire.test")


async def _queue(rt: Runtime, count: int) -> None:
    app, _ = await create_app(rt, ApplicationIn(name="Acme"))
    await create_endpoint(rt, app.id, EndpointIn(url="http://127.0.0.1:9/hook"))
    for n in range(count):
        await create_message(rt, app.id, MessageIn(event_type="invoice.paid", payload={"n": n}))


async def _claim(rt: Runtime, book: LeaseBook[int], now: int, limit: int = 10) -> list[ClaimedDelivery]:
    lease_until = book.lease_until(now)
    batch = await rt.db.claim_deliveries(
        now=now, lease_until=lease_until, limit=limit, scan=1000, blocked=[], open_circuits=[]
    )
    rows = typed(ClaimedDelivery, batch.deliveries)
    book.claimed((d.id for d in rows), lease_until)
    return rows


async def _states(rt: Runtime) -> dict[int, int]:
    """How many deliveries are in each status."""
    return {r["status"]: r["n"] for r in await rt.db.fetch("delivery_counts")}


def _book(rt: Runtime, lease_ms: int) -> LeaseBook[int]:
    return LeaseBook(rt.db, DELIVERIES, lease_ms, log)


async def test_a_worker_that_lost_its_lease_changes_nothing_and_the_new_holder_finishes(
    runtime: Runtime,
) -> None:
    await _queue(runtime, 1)
    old, new = _book(runtime, 1_000), _book(runtime, 60_000)
    now = now_ms()
    [row] = await _claim(runtime, old, now)
    # The old worker's lease runs out; another worker claims the row.
    [again] = await _claim(runtime, new, now + 2_000)
    assert again.id == row.id and new.fence(row.id) != old.fence(row.id)

    late = await runtime.db.write([(DELIVERIES.finish, old.finish(row.id, MessageStatus.SUCCESS, now, now))])
    assert late == [0]  # fenced off
    assert await _states(runtime) == {MessageStatus.SENDING: 1}
    assert await runtime.db.write([(DELIVERIES.finish, new.fail(row.id, now))]) == [1]
    assert await _states(runtime) == {MessageStatus.FAIL: 1}


async def test_the_heartbeat_extends_held_leases_and_marks_taken_over_rows_lost(
    runtime: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    await _queue(runtime, 3)
    mine, theirs = _book(runtime, 1_000), _book(runtime, 60_000)
    now = now_ms()
    rows = await _claim(runtime, mine, now)
    assert len(mine) == 3
    taken = rows[0].id
    # One lease ran out and another worker took the row; the other two are still ours.
    await runtime.db.write([("release_delivery", {"id": taken, "lease": mine.fence(taken), "now": now})])
    await _claim(runtime, theirs, now + 1, limit=1)

    with caplog.at_level(logging.WARNING, logger="hookwire.test"):
        assert await mine.heartbeat(now + 500) == 1
    assert "1 deliveries were taken over" in caplog.text
    assert mine.fence(taken) == LOST
    for row in rows[1:]:
        assert mine.fence(row.id) == now + 500 + 1_000  # pushed forward
    # A write carrying LOST matches nothing; the extended leases still fence correctly.
    assert await runtime.db.write([(DELIVERIES.defer, mine.defer(taken, now, now))]) == [0]
    assert await runtime.db.write([(DELIVERIES.defer, [mine.defer(r.id, now, now) for r in rows[1:]])]) in (
        [2],
        [1, 1],
    )


async def test_a_clean_stop_hands_every_held_row_back_due_now(runtime: Runtime) -> None:
    await _queue(runtime, 4)
    book = _book(runtime, 60_000)
    fresh_claim = await _claim(runtime, book, now_ms())
    assert len(fresh_claim) == 4 and await _states(runtime) == {MessageStatus.SENDING: 4}

    await book.release_all(now_ms())
    assert len(book) == 0
    assert await _states(runtime) == {MessageStatus.PENDING: 4}
    assert len(await _claim(runtime, book, now_ms())) == 4  # due again at once


async def test_a_row_claimed_again_by_its_own_worker_is_not_fresh(runtime: Runtime) -> None:
    book = LeaseBook[str](runtime.db, DELIVERIES, 60_000, log)
    assert book.claimed(["a", "b"], 100) == ["a", "b"]
    assert book.claimed(["b", "c"], 200) == ["c"]  # b's lease ran out while it was still being worked
    assert book.fence("b") == 200 and book.fence("a") == 100
    book.drop(["a", "b"])
    assert book.fence("a") == LOST and len(book) == 1
