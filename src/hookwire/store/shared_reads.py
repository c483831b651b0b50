"""Identical reads that arrive together share one round trip (PostgreSQL).

Why: every `POST …/msg` first reads its application's endpoints (`get_app_fanout`). On
PostgreSQL that is a pooled connection and a round trip per request, a fifth of the API
process's time in the profile once message creation was group-committed
(pg_message_batches.py).

How: while a read of a given query with given parameters is in flight, identical reads that
arrive wait, and then go together as one read, started after the last of them arrived. So each
caller sees every commit made before it arrived, as it would have alone: it never gets the
result of a read that started before it. Each caller gets its own copies of the rows.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from hookwire.store.database import Row

Key = tuple[Any, ...]


def read_key(name: str, params: dict[str, Any]) -> Key | None:
    """What makes two reads the same; None when a parameter is not hashable (never shared)."""
    try:
        key = (name, *sorted(params.items()))
        hash(key)
    except TypeError:
        return None
    return key


class SharedReads:
    def __init__(self, run: Callable[[str, dict[str, Any]], Awaitable[list[Row]]]) -> None:
        self._run = run
        self._waiting: dict[Key, list[asyncio.Future[list[Row]]]] = {}
        self._running: dict[Key, asyncio.Task[None]] = {}

    async def fetch(self, key: Key, name: str, params: dict[str, Any]) -> list[Row]:
        future: asyncio.Future[list[Row]] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(key, []).append(future)
        if key not in self._running:
            self._running[key] = asyncio.create_task(self._drive(key, name, params))
        return await future

    async def _drive(self, key: Key, name: str, params: dict[str, Any]) -> None:
        try:
            while waiters := self._waiting.pop(key, None):
                try:
                    rows = await self._run(name, params)
                except Exception as exc:
                    for future in waiters:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                for n, future in enumerate(waiters):
                    if not future.done():
                        future.set_result(rows if n == 0 else [dict(row) for row in rows])
        finally:
            del self._running[key]

    async def close(self) -> None:
        await asyncio.gather(*self._running.values(), return_exceptions=True)
