"""The event channel across processes: what one process publishes, every other one that reads
its topic gets.

Runtimes in this test stand for processes; they share nothing but the transport under test: a
real supervisor hub on a Unix socket (SQLite) or real NOTIFY/LISTEN (PostgreSQL). A link sends
an event only to processes that announced a reader for its topic, so a test that subscribes
first waits until the publishing process has heard of it (`wanted`).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from hookwire.event_links import EventLink, open_event_link
from hookwire.event_links.socket_hub import EventHub
from hookwire.events import ATTEMPT_RECORDED, DELIVERY_DUE, INBOUND_RECEIVED, MESSAGE_CREATED
from hookwire.runtime import Runtime
from hookwire.secretbox import SecretBox
from hookwire.store import open_database
from tests.conftest import TEST_SECRET_KEY, make_settings
from tests.support.pg_cluster import OwnCluster, cluster_unavailable_reason


@dataclass
class Process:
    rt: Runtime
    link: EventLink


async def wanted(link: EventLink | None, *topics: str, present: bool = True) -> None:
    """Until the process of `link` knows that another process reads (or no longer reads) `topics`."""
    assert link is not None
    for _ in range(500):
        if all(link.sends(topic) is present for topic in topics):
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"the announcement about {topics} did not arrive within 5 s")


@pytest.fixture
async def linked(database_url: str, tmp_path: Path) -> AsyncIterator[list[Process]]:
    """Three 'processes' on one database, linked the way `hookwire serve` links its children."""
    hub = None
    hub_path = None
    if database_url.startswith("sqlite"):
        hub_path = str(tmp_path / "events.sock")
        hub = EventHub(hub_path)
        await hub.start()
    runtimes: list[Runtime] = []
    links: list[EventLink | None] = []
    for _ in range(3):
        db = await open_database(database_url)
        await db.migrate()
        rt = Runtime(make_settings(database_url), db, SecretBox(TEST_SECRET_KEY))
        runtimes.append(rt)
        links.append(await open_event_link(rt, hub_path))
    try:
        yield [Process(rt, link) for rt, link in zip(runtimes, links, strict=True) if link is not None]
    finally:
        for rt, link in zip(runtimes, links, strict=True):
            if link is not None:
                await link.close()
            await rt.db.close()
        if hub is not None:
            await hub.close()


async def test_an_event_published_in_one_process_reaches_the_others_once(linked: list[Process]) -> None:
    api, worker, other = (p.rt for p in linked)
    at_api = api.events.subscribe([ATTEMPT_RECORDED, INBOUND_RECEIVED])
    at_other = other.events.subscribe([ATTEMPT_RECORDED])
    data = {"attemptId": "atmpt_1", "msgId": "msg_1", "status": 0}
    await wanted(linked[1].link, ATTEMPT_RECORDED, INBOUND_RECEIVED)

    worker.events.publish(ATTEMPT_RECORDED, data)
    worker.events.publish(INBOUND_RECEIVED, {"requestId": "req_1"})

    first = await at_api.get(timeout=5)
    second = await at_api.get(timeout=5)
    assert first is not None and (first.topic, first.data) == (ATTEMPT_RECORDED, data)
    assert second is not None and second.data == {"requestId": "req_1"}
    got = await at_other.get(timeout=5)
    assert got is not None and got.data == data
    assert await at_other.get(timeout=0.3) is None  # not echoed, not duplicated


async def test_a_burst_of_events_arrives_complete_and_in_order(linked: list[Process]) -> None:
    api, worker, _ = (p.rt for p in linked)
    reader = api.events.subscribe([ATTEMPT_RECORDED], maxsize=5000)
    await wanted(linked[1].link, ATTEMPT_RECORDED)
    for n in range(2000):  # several NOTIFY payloads' worth, several socket reads' worth
        worker.events.publish(ATTEMPT_RECORDED, {"n": n, "msgId": f"msg_{n:05d}"})
    got = []
    while len(got) < 2000:
        event = await reader.get(timeout=5)
        assert event is not None, f"only {len(got)} of 2000 events arrived"
        got.append(event.data["n"])
    assert got == list(range(2000))


async def test_an_event_goes_only_where_a_reader_wants_it(linked: list[Process]) -> None:
    """Nobody reading a topic elsewhere: its events stay in the process that published them, and
    a reader that left stops the flow again; a reader of this process's own events only
    (`remote=False`) draws none either."""
    api, worker, other = linked
    own_only = api.rt.events.subscribe([MESSAGE_CREATED], remote=False)
    await asyncio.sleep(0.2)  # any announcement it would (wrongly) make has arrived by now
    assert not worker.link.sends(MESSAGE_CREATED) and not worker.link.sends(ATTEMPT_RECORDED)

    watching = other.rt.events.subscribe([MESSAGE_CREATED])
    await wanted(worker.link, MESSAGE_CREATED)
    assert not worker.link.sends(ATTEMPT_RECORDED)
    worker.rt.events.publish(MESSAGE_CREATED, {"msgId": "msg_1"})
    got = await watching.get(timeout=5)
    assert got is not None and got.data == {"msgId": "msg_1"}
    assert await own_only.get(timeout=0.3) is None  # another process's event: not for it

    watching.close()
    await wanted(worker.link, MESSAGE_CREATED, present=False)
    await wanted(api.link, MESSAGE_CREATED, present=False)


async def test_a_commit_that_queues_deliveries_wakes_listeners_in_other_processes(
    linked: list[Process],
) -> None:
    api, worker, _ = (p.rt for p in linked)
    woke = asyncio.Event()
    await worker.db.listen_deliveries(woke.set)
    due = worker.events.subscribe([DELIVERY_DUE]) if api.settings.is_sqlite else None

    await api.db.write([("set_meta", {"key": "k", "value": "v"})], notify=True)

    await asyncio.wait_for(woke.wait(), 5)
    if due is not None:  # on SQLite the wake-up travels as delivery.due, readable like any event
        event = await due.get(timeout=5)
        assert event is not None and event.topic == DELIVERY_DUE


@pytest.fixture
def own_cluster() -> Iterator[OwnCluster]:
    reason = cluster_unavailable_reason()
    if reason is not None:
        pytest.skip(reason)
    cluster = OwnCluster().init()
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.destroy()


async def test_events_cross_processes_again_after_postgresql_restarts(own_cluster: OwnCluster) -> None:
    """The link rides on the database's reconnecting LISTEN connection: after a crash and restart
    of PostgreSQL, with no restart of hookwire, events reach the other process again."""
    runtimes, links = [], []
    for _ in range(2):
        db = await open_database(own_cluster.url)
        await db.migrate()
        rt = Runtime(make_settings(own_cluster.url), db, SecretBox(TEST_SECRET_KEY))
        runtimes.append(rt)
        links.append(await open_event_link(rt, None))
    api, worker = runtimes
    reader = api.events.subscribe([ATTEMPT_RECORDED])
    try:
        await wanted(links[1], ATTEMPT_RECORDED)
        worker.events.publish(ATTEMPT_RECORDED, {"n": 0})
        assert (await reader.get(timeout=5)) is not None

        await asyncio.to_thread(own_cluster.stop_immediately)
        await asyncio.to_thread(own_cluster.start)
        deadline = asyncio.get_running_loop().time() + 20
        n = 0
        while True:  # events published before the LISTEN connection is back are dropped, by design
            n += 1
            worker.events.publish(ATTEMPT_RECORDED, {"n": n})
            event = await reader.get(timeout=0.5)
            if event is not None:
                break
            assert asyncio.get_running_loop().time() < deadline, "no event crossed within 20 s of the restart"
        assert event.data["n"] >= 1
    finally:
        for rt, link in zip(runtimes, links, strict=True):
            if link is not None:
                await link.close()
            await rt.db.close()
