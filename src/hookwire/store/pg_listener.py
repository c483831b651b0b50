"""PostgreSQL LISTEN on one dedicated connection that comes back by itself.

A LISTEN connection dies with the server (a restart, a failover, `pg_ctl stop -m
immediate`) and asyncpg does not reconnect it: before this module, wake-ups never came
back and every worker fell to its safety-net poll until hookwire was restarted.

`Listener` keeps the connection: on loss it logs once, reconnects with a capped backoff
(0.1 s doubling to 2 s), listens on every channel again, logs that it is back, and calls
every callback once, because a notification sent while it was away is gone (the
callbacks are wake-ups: a spurious one costs a look at the queue). A connection that
dies silently is noticed by a cheap `SELECT 1` every few seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

import asyncpg

from hookwire.redact import redact_url
from hookwire.store.database import NotifyCallback

log = logging.getLogger("hookwire.store")

_BACKOFF_START = 0.1
_BACKOFF_MAX = 2.0
_CHECK_EVERY = 5.0  # seconds between liveness checks of an idle LISTEN connection
_CONNECT_TIMEOUT = 5.0
_GONE = (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError)


class Listener:
    def __init__(self, dsn: str) -> None:
        self._dsn = dsn
        self._channels: dict[str, list[NotifyCallback]] = {}
        self._conn: asyncpg.Connection | None = None
        self._task: asyncio.Task[None] | None = None
        self._first: asyncio.Future[None] | None = None
        self._closing = False

    @property
    def connected(self) -> bool:
        return self._conn is not None and not self._conn.is_closed()

    async def listen(self, channel: str, callback: NotifyCallback) -> None:
        """Call `callback(payload)` for every NOTIFY on `channel`, across reconnects.

        Returns once the first connection attempt is over; if PostgreSQL is away then, the
        listener keeps trying in the background and the callers' polls cover the gap."""
        callbacks = self._channels.setdefault(channel, [])
        callbacks.append(callback)
        if self._task is None:
            self._first = asyncio.get_running_loop().create_future()
            self._task = asyncio.create_task(self._keep_listening())
            await asyncio.shield(self._first)
        elif len(callbacks) == 1 and self._conn is not None:
            with contextlib.suppress(*_GONE):  # if it is gone, the reconnect listens to all channels
                await self._conn.add_listener(channel, self._dispatch)

    def _dispatch(self, _conn: Any, _pid: int, channel: str, payload: str) -> None:
        for callback in self._channels.get(channel, ()):
            callback(payload)

    def _wake_all(self) -> None:
        for callbacks in self._channels.values():
            for callback in callbacks:
                callback("")

    async def _keep_listening(self) -> None:
        backoff = _BACKOFF_START
        lost_at: float | None = None
        while not self._closing:
            try:
                await self._connect()
            except _GONE as exc:
                if lost_at is None:
                    lost_at = time.monotonic()
                    log.warning(
                        "LISTEN connection to PostgreSQL at %s is down (%s); workers poll until it is back",
                        redact_url(self._dsn),
                        exc or type(exc).__name__,
                    )
                self._settle_first()
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, _BACKOFF_MAX)
                continue
            if lost_at is not None:
                log.warning("LISTEN connection to PostgreSQL is back after %.1fs", time.monotonic() - lost_at)
                self._wake_all()  # what was notified meanwhile is lost: look now
            lost_at, backoff = None, _BACKOFF_START
            self._settle_first()
            reason = await self._watch()
            if self._closing:
                return
            lost_at = time.monotonic()
            log.warning(
                "LISTEN connection to PostgreSQL lost (%s); workers poll until it is back",
                reason,
            )

    async def _connect(self) -> None:
        conn = await asyncpg.connect(self._dsn, timeout=_CONNECT_TIMEOUT)
        try:
            for channel in self._channels:
                await conn.add_listener(channel, self._dispatch)
        except BaseException:
            conn.terminate()
            raise
        self._conn = conn

    async def _watch(self) -> str:
        """Wait until the connection dies; return why."""
        conn = self._conn
        assert conn is not None
        died = asyncio.Event()
        conn.add_termination_listener(lambda _: died.set())
        try:
            while not self._closing:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(died.wait(), _CHECK_EVERY)
                if died.is_set():
                    return "the server closed it"
                try:
                    await conn.fetchval("SELECT 1", timeout=_CONNECT_TIMEOUT)
                except _GONE as exc:
                    return str(exc) or type(exc).__name__
            return "closing"
        finally:
            self._conn = None
            if not conn.is_closed():
                conn.terminate()

    def _settle_first(self) -> None:
        if self._first is not None and not self._first.done():
            self._first.set_result(None)

    async def close(self) -> None:
        self._closing = True
        if self._conn is not None and not self._conn.is_closed():
            self._conn.terminate()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
