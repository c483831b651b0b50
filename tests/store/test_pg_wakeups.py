"""PostgreSQL's delivery wake-ups are paced: a burst of NOTIFYs is one look, not one per commit."""

from __future__ import annotations

import asyncio

import pytest

from hookwire.runtime import Runtime
from hookwire.store.pg_wakeups import PacedWakeups

EVERY = 0.2


async def test_a_burst_of_wakeups_is_one_at_once_and_one_held() -> None:
    loop = asyncio.get_running_loop()
    fired: list[float] = []
    paced = PacedWakeups(lambda: fired.append(loop.time()), EVERY)
    started = loop.time()
    for _ in range(50):
        paced()
    assert len(fired) == 1  # the first after a quiet spell passes at once
    await asyncio.sleep(EVERY * 2)
    assert len(fired) == 2  # the other 49 joined one held wake-up
    assert fired[1] - started >= EVERY * 0.9
    await asyncio.sleep(EVERY * 1.5)
    paced()  # quiet for longer than EVERY: at once again
    assert len(fired) == 3
    paced.close()


async def test_closing_drops_a_held_wakeup() -> None:
    fired: list[int] = []
    paced = PacedWakeups(lambda: fired.append(1), EVERY)
    paced()
    paced()
    paced.close()
    await asyncio.sleep(EVERY * 1.5)
    assert fired == [1]


async def test_workers_on_postgresql_hear_a_burst_of_commits_as_few_wakeups(runtime: Runtime) -> None:
    if runtime.db.dialect != "postgres":
        pytest.skip("NOTIFY is PostgreSQL's; SQLite wakes workers in-process")
    woken: list[int] = []
    await runtime.db.listen_deliveries(lambda: woken.append(1))
    for _ in range(40):
        await runtime.db.notify_deliveries()
    await asyncio.sleep(0.3)
    assert 1 <= len(woken) < 40
