"""Shared reads (PostgreSQL's `fetch`): a caller never gets a read that started before it arrived.

The store is replaced here by a function over a counter, the "database": each read returns
the counter's value when the read started, and the test commits (increments) in between.
"""

from __future__ import annotations

import asyncio
from typing import Any

from hookwire.store.shared_reads import SharedReads, read_key


async def test_a_read_that_arrives_during_another_waits_for_the_next_and_sees_later_commits() -> None:
    committed = 0
    started: list[int] = []
    gate = asyncio.Event()

    async def run(_name: str, _params: dict[str, Any]) -> list[dict[str, Any]]:
        started.append(committed)
        await gate.wait()
        return [{"version": committed if len(started) > 1 else started[0]}]

    reads = SharedReads(run)
    key = read_key("q", {"app": "a"})
    assert key is not None
    first = asyncio.create_task(reads.fetch(key, "q", {"app": "a"}))
    await asyncio.sleep(0.01)  # in flight, having seen version 0
    committed = 1
    later = [asyncio.create_task(reads.fetch(key, "q", {"app": "a"})) for _ in range(5)]
    await asyncio.sleep(0.01)
    gate.set()
    assert (await first) == [{"version": 0}]
    rows = [await task for task in later]
    assert rows == [[{"version": 1}]] * 5  # one read for the five, started after the commit
    assert started == [0, 1]
    assert len({id(r[0]) for r in rows}) == 5  # rows of their own
    await reads.close()


async def test_an_error_reaches_every_caller_of_that_read_and_the_next_read_runs_afresh() -> None:
    calls = 0

    async def run(_name: str, _params: dict[str, Any]) -> list[dict[str, Any]]:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.01)
        if calls == 1:
            raise RuntimeError("away")
        return [{"ok": True}]

    reads = SharedReads(run)
    key = ("q",)
    outcomes = await asyncio.gather(*(reads.fetch(key, "q", {}) for _ in range(3)), return_exceptions=True)
    assert all(isinstance(o, RuntimeError) for o in outcomes)
    assert await reads.fetch(key, "q", {}) == [{"ok": True}]


def test_reads_with_a_list_parameter_are_never_shared() -> None:
    assert read_key("q", {"ids": ["a"]}) is None
    assert read_key("q", {"b": 1, "a": 2}) == read_key("q", {"a": 2, "b": 1})
