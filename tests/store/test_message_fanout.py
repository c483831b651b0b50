"""A message goes to the endpoints its application has when it is created, whichever process
changed them last.

Two API processes are two `Database` objects on one database here. The second one changes
the application; the first, which has created messages before (on PostgreSQL it keeps the
endpoints it read, store/pg_fanouts.py), must route its next message by the change at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from hookwire.errors import Conflict, NotFound
from hookwire.outbound.applications import create_app, delete_app, patch_app
from hookwire.outbound.endpoints import create_endpoint, delete_endpoint, patch_endpoint
from hookwire.outbound.event_types import create_event_type
from hookwire.outbound.messages import create_message
from hookwire.outbound.models import (
    ApplicationIn,
    ApplicationPatch,
    EndpointIn,
    EndpointPatch,
    EventTypeIn,
    MessageIn,
)
from hookwire.runtime import Runtime
from hookwire.secretbox import SecretBox
from hookwire.store import open_database
from tests.conftest import TEST_SECRET_KEY, make_settings


@pytest.fixture
async def other(database_url: str, runtime: Runtime) -> AsyncIterator[Runtime]:
    """A second API process on the same database."""
    db = await open_database(database_url)
    try:
        yield Runtime(make_settings(database_url), db, SecretBox(TEST_SECRET_KEY))
    finally:
        await db.close()


async def _targets(rt: Runtime, msg_id: str) -> set[str]:
    """The endpoints a message has deliveries to, read with the driver directly."""
    db: Any = rt.db
    if db.dialect == "sqlite":
        sql = "SELECT endpoint_id FROM deliveries WHERE msg_id = ?"
        rows = await db._reader.run(lambda c: c.execute(sql, (msg_id,)).fetchall())
    else:
        async with db._pool.acquire() as conn:
            rows = await conn.fetch("SELECT endpoint_id FROM deliveries WHERE msg_id = $1", msg_id)
    return {r["endpoint_id"] for r in rows}


async def _send(rt: Runtime, app_key: str, event_type: str = "invoice.paid") -> set[str]:
    message, created = await create_message(rt, app_key, MessageIn(event_type=event_type, payload={}))
    assert created
    return await _targets(rt, message.id)


def _endpoint(n: int, **fields: Any) -> EndpointIn:
    return EndpointIn(url=f"http://127.0.0.1:9/hook/{n}", **fields)


async def test_endpoints_changed_by_another_process_route_the_next_message(
    runtime: Runtime, other: Runtime
) -> None:
    for name in ("invoice.paid", "invoice.voided"):
        await create_event_type(runtime, EventTypeIn(name=name))
    app, _ = await create_app(runtime, ApplicationIn(name="Acme", uid="acme"))
    first = await create_endpoint(runtime, app.id, _endpoint(1))
    assert await _send(runtime, "acme") == {first.id}

    second = await create_endpoint(other, app.id, _endpoint(2))
    assert await _send(runtime, "acme") == {first.id, second.id}

    await patch_endpoint(other, app.id, first.id, EndpointPatch(disabled=True))
    assert await _send(runtime, "acme") == {second.id}

    await patch_endpoint(other, app.id, second.id, EndpointPatch(event_types=["invoice.voided"]))
    assert await _send(runtime, "acme") == set()
    assert await _send(runtime, "acme", "invoice.voided") == {second.id}

    await patch_endpoint(other, app.id, first.id, EndpointPatch(disabled=False))
    assert await _send(runtime, "acme") == {first.id}

    await delete_endpoint(other, app.id, first.id)
    assert await _send(runtime, "acme") == set()


async def test_an_application_deleted_or_renamed_by_another_process_is_not_written_to(
    runtime: Runtime, other: Runtime
) -> None:
    app, _ = await create_app(runtime, ApplicationIn(name="Acme", uid="acme"))
    await create_endpoint(runtime, app.id, _endpoint(1))
    await _send(runtime, "acme")

    await patch_app(other, app.id, ApplicationPatch(uid="acme-old"))
    newcomer, _ = await create_app(other, ApplicationIn(name="New Acme", uid="acme"))
    newcomers_endpoint = await create_endpoint(other, newcomer.id, _endpoint(2))
    message, _ = await create_message(runtime, "acme", MessageIn(event_type="invoice.paid", payload={}))
    assert await _targets(runtime, message.id) == {newcomers_endpoint.id}

    await delete_app(other, newcomer.id)
    with pytest.raises(NotFound):
        await create_message(runtime, "acme", MessageIn(event_type="invoice.paid", payload={}))


async def test_unchanged_endpoints_are_not_read_again(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL keeps what it read: with nothing changed, creating messages reads the
    application's endpoints once, however many endpoints and messages (their ids are mixed
    case, so the statement's check must order them as Python does)."""
    if runtime.db.dialect != "postgres":
        pytest.skip("SQLite reads the endpoints inside the write's own transaction")
    app, _ = await create_app(runtime, ApplicationIn(name="Acme"))
    endpoints = {(await create_endpoint(runtime, app.id, _endpoint(n))).id for n in range(12)}
    reads: list[str] = []
    fetch = runtime.db.fetch

    async def counting(name: str, /, **params: Any) -> list[Any]:
        reads.append(name)
        return await fetch(name, **params)

    monkeypatch.setattr(runtime.db, "fetch", counting)
    for _ in range(5):
        assert await _send(runtime, app.id) == endpoints
    assert reads.count("get_app_fanout") == 1


async def test_concurrent_creates_after_a_change_all_see_it_and_repeated_event_ids_stay_single(
    runtime: Runtime, other: Runtime
) -> None:
    """Creates that go out in one batch from kept endpoints, after another process added one:
    every stored message goes to both endpoints, and each eventId is stored once (the others
    answer 409), whether it went in checked or, after the change was found, read again."""
    app, _ = await create_app(runtime, ApplicationIn(name="Acme", uid="acme"))
    first = await create_endpoint(runtime, app.id, _endpoint(1))
    await _send(runtime, "acme")
    second = await create_endpoint(other, app.id, _endpoint(2))

    outcomes = await asyncio.gather(
        *(
            create_message(
                runtime, "acme", MessageIn(event_type="invoice.paid", payload={}, event_id=f"evt-{n % 5}")
            )
            for n in range(20)
        ),
        return_exceptions=True,
    )
    created = [o[0] for o in outcomes if isinstance(o, tuple) and o[1]]
    assert sorted(m.event_id or "" for m in created) == [f"evt-{n}" for n in range(5)]
    assert all(isinstance(o, Conflict) for o in outcomes if not isinstance(o, tuple))
    assert len(outcomes) - len(created) == 15
    for message in created:
        assert await _targets(runtime, message.id) == {first.id, second.id}
