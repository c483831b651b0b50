"""The group-committed write paths, on both real databases.

The claim (`claim_deliveries`) must commit what it returns; many-row writes (which SQLite
sends as one JSON array through a `__rows` query) must store exactly what one-row writes
store and keep the lease fence; message creation, which writes without a transaction
around its reads, must still make one message per eventId under concurrency.
"""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
import pytest

from hookwire.clock import now_ms
from hookwire.errors import Conflict, ConstraintViolation, NotFound
from hookwire.ids import new_id
from hookwire.outbound.applications import create_app
from hookwire.outbound.endpoints import create_endpoint, patch_endpoint
from hookwire.outbound.messages import create_message, expunge_content
from hookwire.outbound.models import ApplicationIn, EndpointIn, EndpointPatch, MessageIn
from hookwire.runtime import Runtime
from hookwire.store.database import AttemptsRecord
from hookwire.store.statuses import MessageStatus

SENDING, SUCCESS, PENDING = MessageStatus.SENDING, MessageStatus.SUCCESS, MessageStatus.PENDING


async def _queue(rt: Runtime, count: int) -> tuple[str, str]:
    """An app with one endpoint and `count` messages, each with one pending delivery."""
    app, _ = await create_app(rt, ApplicationIn(name="Acme"))
    endpoint = await create_endpoint(rt, app.id, EndpointIn(url="http://127.0.0.1:9/hook"))
    for n in range(count):
        await create_message(rt, app.id, MessageIn(event_type="invoice.paid", payload={"n": n}))
    return app.id, endpoint.id


async def _claim(rt: Runtime, limit: int) -> tuple[list[dict[str, Any]], int]:
    now = now_ms()
    lease = now + 60_000
    batch = await rt.db.claim_deliveries(
        now=now, lease_until=lease, limit=limit, scan=1000, blocked=[], open_circuits=[]
    )
    return batch.deliveries, lease


async def _delivery_states(rt: Runtime) -> dict[int, tuple[int, int]]:
    """Every delivery's (status, attempts), read with the driver directly."""
    sql = "SELECT id, status, attempts FROM deliveries"
    db: Any = rt.db
    if db.dialect == "sqlite":
        rows = await db._reader.run(lambda c: c.execute(sql).fetchall())
    else:
        async with db._pool.acquire() as conn:
            rows = await conn.fetch(sql)
    return {r["id"]: (r["status"], r["attempts"]) for r in rows}


async def test_claim_returns_committed_rows_and_never_hands_a_row_out_twice(runtime: Runtime) -> None:
    await _queue(runtime, 7)
    first, second = await asyncio.gather(_claim(runtime, 4), _claim(runtime, 4))
    ids = [r["id"] for r in first[0]] + [r["id"] for r in second[0]]
    assert len(ids) == 7 and len(set(ids)) == 7
    assert (await _claim(runtime, 4))[0] == []  # all leased now
    # Committed: a fresh connection sees the leases.
    rows = await runtime.db.fetch("next_due_at")
    assert rows[0]["due"] is not None and rows[0]["due"] > now_ms()


async def test_many_row_writes_store_what_one_row_writes_store(runtime: Runtime) -> None:
    app_id, endpoint_id = await _queue(runtime, 5)
    claimed, lease = await _claim(runtime, 5)
    now = now_ms()

    def attempt(d: dict[str, Any], n: int) -> dict[str, Any]:
        return {
            "id": new_id("atmpt", now + n),
            "delivery_id": d["id"],
            "msg_id": d["msg_id"],
            "endpoint_id": endpoint_id,
            "app_id": app_id,
            "url": "http://127.0.0.1:9/hook",
            "status": SUCCESS if n % 2 else 2,
            "response_status_code": 200 if n % 2 else 0,
            "response_headers": '{"x-note":"caf\u00e9 \u2603"}' if n % 2 else None,
            "response_body": 'ok \U0001f680 "quoted" \\ back' if n % 2 else "",
            "duration_ms": 12 + n,
            "trigger_type": 0,
            "error": None if n % 2 else "connection failed: refused",
            "now": now + n,
        }

    rows = [attempt(d, n) for n, d in enumerate(claimed)]
    one, many = rows[:1], rows[1:]
    assert await runtime.db.write([("insert_attempt", one)]) == [1]
    assert await runtime.db.write([("insert_attempt", many)]) == [len(many)]
    for row in rows:
        stored = await runtime.db.fetchrow("get_attempt", app_id=app_id, msg_id=row["msg_id"], id=row["id"])
        assert stored is not None
        expected = {k: v for k, v in row.items() if k != "now"} | {"created_at": row["now"]}
        assert {k: stored[k] for k in expected} == expected

    # The lease fence holds for many rows at once: a wrong lease updates nothing.
    updates = [
        {
            "id": d["id"],
            "lease": lease if n != 2 else lease + 1,
            "status": SUCCESS,
            "next_attempt_at": now,
            "now": now,
        }
        for n, d in enumerate(claimed)
    ]
    await runtime.db.record_attempts(_record(finished=updates, now=now))
    states = await _delivery_states(runtime)
    for n, d in enumerate(claimed):
        assert states[d["id"]] == ((SENDING, 0) if n == 2 else (SUCCESS, 1))


async def test_a_failing_claim_leaves_grouped_writes_alone(runtime: Runtime) -> None:
    if runtime.db.dialect != "sqlite":
        pytest.skip("group commit is SQLite's; on PostgreSQL each write has its own transaction")
    await _queue(runtime, 2)
    bad = runtime.db.claim_deliveries(
        now=now_ms(),
        lease_until="x",
        limit="y",
        scan=1000,
        blocked=[],
        open_circuits=[],
    )
    good = _claim(runtime, 2)
    results = await asyncio.gather(bad, good, return_exceptions=True)
    assert isinstance(results[0], Exception)
    assert not isinstance(results[1], BaseException) and len(results[1][0]) == 2


async def test_concurrent_creates_with_one_event_id_make_one_message_and_one_delivery(
    runtime: Runtime,
) -> None:
    app, _ = await create_app(runtime, ApplicationIn(name="Acme"))
    await create_endpoint(runtime, app.id, EndpointIn(url="http://127.0.0.1:9/hook"))
    data = MessageIn(event_type="invoice.paid", event_id="evt-42", payload={"n": 1})
    outcomes = await asyncio.gather(
        *(create_message(runtime, app.id, data) for _ in range(20)), return_exceptions=True
    )
    [(stored, created)] = [o for o in outcomes if not isinstance(o, BaseException)]
    conflicts = [o for o in outcomes if isinstance(o, Conflict)]
    assert created and len(conflicts) == 19  # the others learn the eventId is taken, and by what
    assert all(stored.id in str(c) for c in conflicts)
    claimed, _ = await _claim(runtime, 100)
    assert [(d["msg_id"], d["attempts"]) for d in claimed] == [(stored.id, 0)]


async def test_a_message_to_a_deleted_application_is_a_not_found(runtime: Runtime) -> None:
    with pytest.raises(NotFound):
        await create_message(runtime, "app_missing", MessageIn(event_type="invoice.paid", payload={}))


async def test_a_write_that_breaks_a_constraint_raises_one_error_type_and_stores_nothing(
    runtime: Runtime,
) -> None:
    now = now_ms()
    orphan = _message_row("app_gone", now)  # no such application: the foreign key refuses the row
    with pytest.raises(ConstraintViolation):
        await runtime.db.write([("insert_message", orphan)])
    assert await runtime.db.fetchrow("get_message", app_id="app_gone", key=orphan["id"]) is None


def _message_row(app_id: str, now: int, **fields: Any) -> dict[str, Any]:
    return {
        "id": new_id("msg", now),
        "app_id": app_id,
        "event_type": "invoice.paid",
        "event_id": None,
        "idempotency_key": None,
        "payload": b"{}",
        "channels": None,
        "tags": None,
        "now": now,
        "deliver_at": None,
        "expunge_at": None,
    } | fields


async def test_concurrent_stored_messages_share_a_commit_and_keep_their_own_outcome(
    runtime: Runtime,
) -> None:
    """Group commit (one statement for all on PostgreSQL) must not mix outcomes: a duplicate
    eventId loses alone, a row that breaks a foreign key fails alone, the rest are stored with
    their deliveries and the workers are woken."""
    app, _ = await create_app(runtime, ApplicationIn(name="Acme"))
    endpoint = await create_endpoint(runtime, app.id, EndpointIn(url="http://127.0.0.1:9/hook"))
    woken = asyncio.Event()
    await runtime.db.listen_deliveries(woken.set)
    now = now_ms()
    rows = [_message_row(app.id, now + n) for n in range(30)]
    rows[3]["event_id"] = rows[4]["event_id"] = "evt-twice"  # the first of the two wins
    rows[7]["app_id"] = "app_gone"  # the foreign key refuses this one
    rows[9]["event_id"] = "evt-9"

    def deliveries(row: dict[str, Any]) -> list[dict[str, Any]]:
        due = {"next_attempt_at": now, "now": now}
        return [{"msg_id": row["id"], "endpoint_id": endpoint.id, "app_id": app.id} | due]

    outcomes = await asyncio.gather(
        *(runtime.db.store_message(row, deliveries(row)) for row in rows), return_exceptions=True
    )
    assert isinstance(outcomes[7], ConstraintViolation)
    assert outcomes[3] is True and outcomes[4] is False
    assert [o for n, o in enumerate(outcomes) if n not in (4, 7)] == [True] * 28
    await asyncio.wait_for(woken.wait(), timeout=5)
    # the same eventId again, alone: refused, nothing written
    assert await runtime.db.store_message(_message_row(app.id, now, event_id="evt-9"), []) is False
    claimed, _ = await _claim(runtime, 100)
    expected = {row["id"] for n, row in enumerate(rows) if n not in (4, 7)}
    assert {d["msg_id"] for d in claimed} == expected and len(claimed) == 28


async def test_identical_queued_reads_share_one_run_and_see_what_was_committed_before_each(
    runtime: Runtime,
) -> None:
    """SQLite: a read that joins a queued identical read still sees every commit made before it
    arrived (the shared read starts after it), and every caller gets rows of its own."""
    if runtime.db.dialect != "sqlite":
        pytest.skip("reads are shared on SQLite's reader thread; PostgreSQL reads use the pool")
    app, _ = await create_app(runtime, ApplicationIn(name="Acme"))
    kept = await create_endpoint(runtime, app.id, EndpointIn(url="http://127.0.0.1:9/kept"))
    gone = await create_endpoint(runtime, app.id, EndpointIn(url="http://127.0.0.1:9/gone"))
    db: Any = runtime.db
    release = asyncio.Event()
    loop = asyncio.get_running_loop()

    def hold(_conn: Any) -> None:  # keeps the reader thread busy until released
        asyncio.run_coroutine_threadsafe(release.wait(), loop).result(timeout=10)

    busy = asyncio.create_task(db._reader.run(hold))
    await asyncio.sleep(0.05)
    first = asyncio.create_task(runtime.db.fetch("get_app_fanout", key=app.id))
    await asyncio.sleep(0)  # queued behind `hold`
    await runtime.db.write([("disable_endpoint", {"id": gone.id, "now": now_ms()})])  # the writer: not held
    second = asyncio.create_task(runtime.db.fetch("get_app_fanout", key=app.id))
    await asyncio.sleep(0)
    release.set()
    await busy
    one, two = await first, await second
    assert [r["id"] for r in two] == [kept.id]  # the disabling committed before the second read arrived
    assert one == two and one is not two and one[0] is not two[0]  # one run, rows of their own
    assert db._queued_reads == {}


async def test_a_claim_brings_each_message_once_and_its_endpoints_versions(runtime: Runtime) -> None:
    """What the worker sends comes with its claim (Database.claim_deliveries): a fan-out's
    message once, however many endpoints it goes to; an expunged one without its payload."""
    app, _created = await create_app(runtime, ApplicationIn(name="Acme"))
    endpoints = [
        await create_endpoint(runtime, app.id, EndpointIn(url=f"http://127.0.0.1:9/hook/{n}"))
        for n in range(3)
    ]
    kept, _ = await create_message(runtime, app.id, MessageIn(event_type="invoice.paid", payload={"n": 1}))
    gone, _ = await create_message(runtime, app.id, MessageIn(event_type="invoice.voided", payload={"n": 2}))
    await expunge_content(runtime, app.id, gone.id)
    renamed = endpoints[1]
    await patch_endpoint(runtime, app.id, renamed.id, EndpointPatch(url="http://127.0.0.1:9/moved"))
    now = now_ms()
    batch = await runtime.db.claim_deliveries(
        now=now, lease_until=now + 60_000, limit=100, scan=1000, blocked=[], open_circuits=[]
    )
    assert sorted((d["msg_id"], d["endpoint_id"]) for d in batch.deliveries) == sorted(
        (m.id, e.id) for m in (kept, gone) for e in endpoints
    )
    by_id = {m["id"]: m for m in batch.messages}
    assert len(batch.messages) == 2
    assert by_id[gone.id]["payload"] is None and by_id[gone.id]["event_type"] == "invoice.voided"
    assert orjson.loads(by_id[kept.id]["payload"]) == {"n": 1}
    stored = {
        r["id"]: r["version"]
        for r in await runtime.db.fetch("endpoint_versions", ids=[e.id for e in endpoints])
    }
    assert batch.endpoint_versions == stored
    assert stored[renamed.id] > stored[endpoints[0].id]  # the update moved it on
    assert set(await _delivery_states(runtime)) == {d["id"] for d in batch.deliveries}
    assert {s for s, _ in (await _delivery_states(runtime)).values()} == {SENDING}


def _record(**parts: Any) -> AttemptsRecord:
    empty: dict[str, Any] = dict(attempts=[], finished=[], succeeded=[], failing=[], gone=[], deferred=[])
    return AttemptsRecord(**(empty | {"now": now_ms(), "cutoff": 0} | parts))


def _failed_attempt(d: dict[str, Any], now: int) -> dict[str, Any]:
    return {
        "id": new_id("atmpt", now),
        "delivery_id": d["id"],
        "msg_id": d["msg_id"],
        "endpoint_id": d["endpoint_id"],
        "app_id": d["app_id"],
        "url": "http://127.0.0.1:9/hook",
        "status": MessageStatus.FAIL,
        "response_status_code": 500,
        "response_headers": None,
        "response_body": "down",
        "duration_ms": 3,
        "trigger_type": 0,
        "error": None,
        "now": now,
    }


async def _attempt_codes(rt: Runtime, app_id: str, endpoint_id: str) -> list[int]:
    rows = await rt.db.fetch(
        "list_attempts_by_endpoint",
        app_id=app_id,
        endpoint_id=endpoint_id,
        before="atmpt_~",
        status=-1,
        limit=50,
    )
    return sorted(r["response_status_code"] for r in rows)


async def _endpoint(rt: Runtime, app_id: str, endpoint_id: str) -> tuple[Any, bool]:
    row = await rt.db.fetchrow("get_endpoint", app_id=app_id, key=endpoint_id)
    assert row is not None
    return row["first_failure_at"], bool(row["disabled"])


async def test_a_record_with_failures_and_hand_backs_writes_every_part(runtime: Runtime) -> None:
    """Beyond the usual record (which PostgreSQL runs as one statement), a worker's record can
    start an endpoint's failure streak, disable it, and hand deliveries back: all of it lands."""
    app_id, endpoint_id = await _queue(runtime, 4)
    claimed, lease = await _claim(runtime, 4)
    now = now_ms()
    retry_at, handed_back_due = now + 60_000, now + 5_000
    await runtime.db.record_attempts(
        _record(
            attempts=[_failed_attempt(claimed[0], now), _failed_attempt(claimed[1], now + 1)],
            finished=[
                {
                    "id": claimed[0]["id"],
                    "lease": lease,
                    "status": PENDING,
                    "next_attempt_at": retry_at,
                    "now": now,
                },
                {
                    "id": claimed[1]["id"],
                    "lease": lease,
                    "status": MessageStatus.FAIL,
                    "next_attempt_at": now,
                    "now": now,
                },
            ],
            failing=[endpoint_id],
            deferred=[{"id": claimed[2]["id"], "lease": lease, "due": handed_back_due, "now": now}],
            now=now,
            cutoff=now,  # failing since `now` is failing long enough: disabled too
        )
    )
    states = await _delivery_states(runtime)
    assert states[claimed[0]["id"]] == (PENDING, 1)
    assert states[claimed[1]["id"]] == (MessageStatus.FAIL, 1)
    assert states[claimed[2]["id"]] == (PENDING, 0)  # handed back: no attempt counted
    assert states[claimed[3]["id"]] == (SENDING, 0)  # not in the record
    assert await _attempt_codes(runtime, app_id, endpoint_id) == [500, 500]
    assert await _endpoint(runtime, app_id, endpoint_id) == (now, True)


async def test_a_record_that_breaks_a_constraint_writes_nothing(runtime: Runtime) -> None:
    """A record is one transaction on both databases, with or without its rare parts: whether
    the usual part fails (an attempt of a message deleted meanwhile) or a rare part does after
    the usual one was written, nothing of the record stays, and the worker records it again."""
    app_id, endpoint_id = await _queue(runtime, 2)
    claimed, lease = await _claim(runtime, 2)
    now = now_ms()
    attempt = _failed_attempt(claimed[0], now)
    end = {"id": claimed[0]["id"], "lease": lease, "status": SUCCESS, "next_attempt_at": now, "now": now}
    orphan = _failed_attempt(claimed[1], now + 1) | {"msg_id": "msg_deleted_meanwhile"}
    unfit_hand_back = {"id": claimed[1]["id"], "lease": lease, "due": None, "now": now}  # NOT NULL
    failing = (
        _record(attempts=[attempt, orphan], finished=[end], now=now),
        _record(
            attempts=[attempt], finished=[end], failing=[endpoint_id], deferred=[unfit_hand_back], now=now
        ),
    )
    for record in failing:
        with pytest.raises(ConstraintViolation):
            await runtime.db.record_attempts(record)
        assert set((await _delivery_states(runtime)).values()) == {(SENDING, 0)}
        assert await _attempt_codes(runtime, app_id, endpoint_id) == []
        assert await _endpoint(runtime, app_id, endpoint_id) == (None, False)
