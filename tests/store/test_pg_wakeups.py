"""PostgreSQL's delivery wake-ups are paced: a burst of NOTIFYs is one look, not one per commit."""

from __future__ import annotations

import asyncio
import itertools

import pytest
import uvloop

from hookwire.runtime import Runtime
from hookwire.store.database import WakeupTurn
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


async def test_two_workers_take_turns_so_between_them_the_queue_is_looked_at_every_period() -> None:
    """Under a steady stream of wake-ups each of two workers looks every 2 x EVERY, at its own
    times: the looks alternate, about EVERY apart, instead of coming in pairs."""
    loop = asyncio.get_running_loop()
    fired: list[tuple[float, int]] = []
    turns = [
        PacedWakeups(lambda slot=slot: fired.append((loop.time(), slot)), EVERY, turn=WakeupTurn(slot, 2))
        for slot in range(2)
    ]
    deadline = loop.time() + EVERY * 12
    while loop.time() < deadline:
        for paced in turns:
            paced()  # every commit's NOTIFY reaches both workers
        await asyncio.sleep(0.002)
    for paced in turns:
        paced.close()
    held = fired[2:]  # the first wake-up of each passed at once
    for slot in range(2):
        times = [t for t, s in held if s == slot]
        assert 4 <= len(times) <= 7  # once per 2 x EVERY, not once per EVERY
        assert all(b - a >= EVERY * 1.5 for a, b in itertools.pairwise(times))
    slots = [s for _, s in held]
    assert all(a != b for a, b in itertools.pairwise(slots))  # they alternate
    gaps = [b - a for (a, _), (b, _) in itertools.pairwise(held)]
    assert all(EVERY * 0.7 <= gap <= EVERY * 1.3 for gap in gaps), gaps


async def test_a_worker_taking_turns_holds_a_wakeup_a_period_and_a_half_at_most() -> None:
    """Taking turns, a wake-up is held until this turn's first time half a period (EVERY) or
    more after the last: 1.5 periods (3 x EVERY) at the most, right after one that passed at
    once off the turn's times, wherever in the period that was."""
    every = 0.1
    period = 2 * every
    loop = asyncio.get_running_loop()
    fired: list[float] = []
    paced = PacedWakeups(lambda: fired.append(loop.time()), every, turn=WakeupTurn(1, 2))
    for phase in (0.005, 0.05, 0.1, 0.15):  # where in the period the first one passes at once
        await asyncio.sleep(period * 1.6 + (phase - loop.time()) % period)  # quiet, then the phase
        paced()
        assert len(fired) % 2 == 1  # at once
        came = loop.time()
        paced()  # right after it: held
        while len(fired) % 2 == 1:
            await asyncio.sleep(0.002)
        assert every - 0.01 <= fired[-1] - came <= 1.5 * period + 0.04, phase
    paced.close()


def test_turns_keep_their_pace_on_uvloops_millisecond_clock() -> None:
    """uvloop keeps time in milliseconds and may run a timer a little before its float time; a
    turn that fired early must not be due again at once (it was, every few hundred µs)."""

    async def steady_wakeups(slot: int) -> list[float]:
        loop = asyncio.get_running_loop()
        fired: list[float] = []
        paced = PacedWakeups(lambda: fired.append(loop.time()), 0.005, turn=WakeupTurn(slot, 2))
        deadline = loop.time() + 0.5
        while loop.time() < deadline:
            paced()
            await asyncio.sleep(0.0003)
        paced.close()
        return fired

    for slot in range(2):
        fired = uvloop.run(steady_wakeups(slot))
        assert len(fired) <= 0.5 / 0.01 + 2, (slot, len(fired))  # once per 10 ms (+ the first at once)
        assert all(b - a >= 0.005 - 0.0011 for a, b in itertools.pairwise(fired))


async def test_a_worker_taking_turns_still_wakes_at_once_after_a_quiet_spell() -> None:
    fired: list[int] = []
    paced = PacedWakeups(lambda: fired.append(1), EVERY, turn=WakeupTurn(1, 2))
    paced()
    assert fired == [1]
    await asyncio.sleep(EVERY * 2.5)  # longer than its period: quiet
    paced()
    assert fired == [1, 1]
    paced.close()


async def test_workers_on_postgresql_hear_a_burst_of_commits_as_few_wakeups(runtime: Runtime) -> None:
    if runtime.db.dialect != "postgres":
        pytest.skip("NOTIFY is PostgreSQL's; SQLite wakes workers in-process")
    woken: list[int] = []
    await runtime.db.listen_deliveries(lambda: woken.append(1))
    for _ in range(40):
        await runtime.db.notify_deliveries()
    await asyncio.sleep(0.3)
    assert 1 <= len(woken) < 40
