"""PostgreSQL's group commit for message creation: concurrent creates share one statement.

Why: each `POST …/msg` was a transaction of its own, BEGIN, the message, its deliveries,
NOTIFY, COMMIT: five round trips, a pooled connection and a WAL flush per message. With 2 API
processes that was 193 msg/s end to end (docs/benchmarks.md), a tenth of the bare relay.

How: `MessageBatches.store()` queues the message and its delivery rows. One batch is in
flight at a time; what arrives meanwhile goes together in the next one (SQLite's group commit
in sqlite.py works the same way). A batch is one `insert_messages_batch` statement, which
commits on its own: a caller's `store()` returns only once its message and deliveries are
committed, so the 202 rule holds.

Endpoints read earlier: a message whose deliveries were named from the endpoints an API
process kept (pg_fanouts.py) carries their token, and the statement stores it only if the
token still holds; otherwise `store()` raises `FanoutChanged` and the caller reads again.

Isolation: the statement skips a message whose eventId or idempotency key is already taken
(`ON CONFLICT DO NOTHING`, the caller then answers with the stored one or 409) instead of
failing. Any other error of the statement (an application or endpoint deleted meanwhile fails
a foreign key) would be every caller's: then each message of that batch is written alone, so
only the caller whose row is at fault sees the error.
"""

from __future__ import annotations

import asyncio
from typing import Any, NamedTuple, Protocol

from hookwire.errors import ConstraintViolation
from hookwire.store.database import Row, Step

_MAX_BATCH = 256
_MESSAGE_COLUMNS = {  # the statement's array parameter -> the message row's key
    "ids": "id",
    "app_ids": "app_id",
    "event_types": "event_type",
    "event_ids": "event_id",
    "idempotency_keys": "idempotency_key",
    "payloads": "payload",
    "channels": "channels",
    "tags": "tags",
    "created_ats": "now",
    "deliver_ats": "deliver_at",
    "expunge_ats": "expunge_at",
}
_DELIVERY_COLUMNS = {
    "delivery_msg_ids": "msg_id",
    "delivery_endpoint_ids": "endpoint_id",
    "delivery_app_ids": "app_id",
    "delivery_due_ats": "next_attempt_at",
    "delivery_created_ats": "now",
}


class _Writes(Protocol):
    async def write(self, steps: list[Step], *, notify: bool = False) -> list[int]: ...

    async def write_message_batch(self, **params: Any) -> list[Row]: ...


class _Pending(NamedTuple):
    message: Row
    deliveries: list[Row]
    fanout: tuple[str, str] | None  # (app key, token) of the endpoints the deliveries came from
    future: asyncio.Future[bool]


class FanoutChanged(Exception):
    """The application's endpoints changed since the caller read them: nothing was stored."""


class MessageBatches:
    def __init__(self, db: _Writes) -> None:
        self._db = db
        self._pending: list[_Pending] = []
        self._writer: asyncio.Task[None] | None = None

    async def store(
        self, message: Row, deliveries: list[Row], *, fanout: tuple[str, str] | None = None
    ) -> bool:
        """Insert the message and its deliveries, committed; False if its eventId or
        idempotency key was taken (then nothing was written). With `fanout`, the (application
        key, token) of the endpoints the deliveries were named from, raises `FanoutChanged`
        instead of storing when they are no longer the application's."""
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._pending.append(_Pending(message, deliveries, fanout, future))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_batches())
        return await future

    async def close(self) -> None:
        """Wait for the batch in flight (its callers are waiting for its commit)."""
        if self._writer is not None:
            await asyncio.gather(self._writer, return_exceptions=True)

    async def _write_batches(self) -> None:
        while self._pending:
            batch, self._pending = self._pending[:_MAX_BATCH], self._pending[_MAX_BATCH:]
            try:
                stored, changed = await self._write(batch)
            except ConstraintViolation:
                for item in batch:  # in arrival order, as the batch would have stored them
                    await self._write_alone(item)
                continue
            except BaseException as exc:
                for *_, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                if isinstance(exc, asyncio.CancelledError):
                    raise
                continue
            for message, _, fanout, future in batch:
                if future.done():
                    continue
                if fanout is not None and fanout[0] in changed:
                    future.set_exception(FanoutChanged())
                else:
                    future.set_result(message["id"] in stored)

    async def _write(self, batch: list[_Pending]) -> tuple[set[str], set[str]]:
        """The ids of the messages stored, and the application keys whose endpoints changed."""
        params: dict[str, list[Any]] = {
            name: [] for name in (*_MESSAGE_COLUMNS, *_DELIVERY_COLUMNS, "app_keys")
        }
        checks: dict[tuple[str, str, str], None] = {}  # (app id, app key, fanout token), each once
        for message, deliveries, fanout, _ in batch:
            for name, key in _MESSAGE_COLUMNS.items():
                params[name].append(message[key])
            for delivery in deliveries:
                for name, key in _DELIVERY_COLUMNS.items():
                    params[name].append(delivery[key])
            # only a checked message is held back by its application key (NULL matches nothing)
            params["app_keys"].append(None if fanout is None else fanout[0])
            if fanout is not None:
                checks[message["app_id"], *fanout] = None
        params["check_app_ids"] = [app_id for app_id, _, _ in checks]
        params["check_app_keys"] = [app_key for _, app_key, _ in checks]
        params["check_fanouts"] = [fanout for _, _, fanout in checks]
        rows = await self._db.write_message_batch(**params)
        stored = {row["id"] for row in rows if row["id"] is not None}
        return stored, {row["changed"] for row in rows if row["changed"] is not None}

    async def _write_alone(self, item: _Pending) -> None:
        """The plain two-step write; it cannot check a token, so a message that carries one is
        sent back to be read again (this path is taken only after a batch broke a constraint)."""
        message, deliveries, fanout, future = item
        if fanout is not None:
            if not future.done():
                future.set_exception(FanoutChanged())
            return
        try:
            inserted, _ = await self._db.write(
                [("insert_message", message), ("insert_delivery_if_stored", deliveries)],
                notify=bool(deliveries),
            )
        except Exception as exc:
            if not future.done():
                future.set_exception(exc)
        else:
            if not future.done():
                future.set_result(inserted == 1)
