"""Messages: create (store + fan-out in one transaction), list, get, expunge.

Creating a message writes the message and one delivery row per matching endpoint
in the same transaction, so a 202 means every delivery is on disk; the commit
wakes the workers.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson

from hookwire.clock import now_ms, to_datetime, to_ms
from hookwire.errors import Conflict, ConstraintViolation, NotFound
from hookwire.ids import new_id
from hookwire.outbound.applications import get_or_create_in_tx, require_app
from hookwire.outbound.json_values import encode_json
from hookwire.outbound.models import ListResponse, MessageIn, MessageOut
from hookwire.outbound.pagination import HIGHEST_KEY, check_limit, page
from hookwire.outbound.records import MessageRecord
from hookwire.outbound.routing import select_endpoints
from hookwire.runtime import Runtime
from hookwire.store import Executor, Row, typed, typed_one


def message_out(row: MessageRecord, *, with_content: bool = True) -> MessageOut:
    payload = row.payload
    return MessageOut(
        id=row.id,
        event_id=row.event_id,
        event_type=row.event_type,
        payload=orjson.loads(payload) if (payload is not None and with_content) else {},
        channels=orjson.loads(row.channels) if row.channels else None,
        tags=orjson.loads(row.tags) if row.tags else None,
        timestamp=to_datetime(row.created_at),
        deliver_at=to_datetime(row.deliver_at) if row.deliver_at else None,
    )


async def _existing(
    tx: Executor, app_id: str, event_id: str | None, idempotency_key: str | None
) -> MessageRecord | None:
    if event_id is not None:
        row = await tx.fetchrow("get_message_by_event_id", app_id=app_id, event_id=event_id)
        if row is not None:
            return typed_one(MessageRecord, row)
    if idempotency_key is not None:
        return typed_one(
            MessageRecord,
            await tx.fetchrow(
                "get_message_by_idempotency_key", app_id=app_id, idempotency_key=idempotency_key
            ),
        )
    return None


def _replay(existing: MessageRecord, event_id: str | None, idempotency_key: str | None) -> MessageOut:
    """The stored message, when the request repeats it under the same `idempotency-key`.

    A reused `eventId` without that key is a conflict, as in Svix: the sender learns that
    its event was already accepted (and under which message id) instead of getting the old
    message back as if its new payload had been stored."""
    if idempotency_key is not None and existing.idempotency_key == idempotency_key:
        return message_out(existing)
    if event_id is not None and existing.event_id == event_id:
        raise Conflict(f"a message with eventId {event_id!r} already exists: {existing.id}")
    return message_out(existing)


async def create_message(
    rt: Runtime,
    app_key: str,
    data: MessageIn,
    *,
    idempotency_key: str | None = None,
    only_endpoint: str | None = None,
) -> tuple[MessageOut, bool]:
    """Store the message and its deliveries atomically. Returns (message, created).

    A repeated `idempotency-key` returns the message already stored instead of creating a
    second one; a repeated `eventId` without it is a `Conflict` naming the stored message.

    The common case (the application exists) is one `store_message_for_app()`: it reads the
    application's endpoints and writes the message and its deliveries, and concurrent API
    calls share it: one transaction and one commit on SQLite, one statement on PostgreSQL,
    instead of queueing one by one. A taken eventId or idempotency key is found after the
    write skipped it (no read ahead of every create). Auto-creating an application takes the
    transactional path.
    """
    payload = encode_json(data.payload, "payload")
    now = now_ms()
    if data.application is not None:
        return await _create_in_transaction(rt, app_key, data, payload, idempotency_key, only_endpoint)
    msg_id = new_id("msg", now)
    message = _message_row(msg_id, None, data, payload, idempotency_key, now)

    def deliveries_for(app_id: str, endpoints: list[Row]) -> list[Row]:
        targets = [only_endpoint] if only_endpoint is not None else _matching(endpoints, data)
        return _delivery_rows(msg_id, app_id, data, targets, now)

    try:
        app_id, stored = await rt.db.store_message_for_app(app_key, message, deliveries_for)
    except ConstraintViolation:  # the app was deleted meanwhile: decide in a transaction (404)
        return await _create_in_transaction(rt, app_key, data, payload, idempotency_key, only_endpoint)
    if app_id is None:
        raise NotFound(f"application {app_key!r} not found")
    if not stored:  # the eventId / key is taken (by an earlier request or a concurrent one)
        existing = await _existing(rt.db, app_id, data.event_id, idempotency_key)
        assert existing is not None
        return _replay(existing, data.event_id, idempotency_key), False
    return _created(msg_id, data, now), True


async def _create_in_transaction(
    rt: Runtime,
    app_key: str,
    data: MessageIn,
    payload: bytes,
    idempotency_key: str | None,
    only_endpoint: str | None,
) -> tuple[MessageOut, bool]:
    now = now_ms()
    async with rt.db.transaction() as tx:
        if data.application is not None:
            app = await get_or_create_in_tx(tx, app_key, data.application)
        else:
            app = await require_app(tx, app_key)
        app_id = app.id
        existing = await _existing(tx, app_id, data.event_id, idempotency_key)
        if existing is not None:
            return _replay(existing, data.event_id, idempotency_key), False
        msg_id = new_id("msg", now)
        inserted = await tx.execute(
            "insert_message", **_message_row(msg_id, app_id, data, payload, idempotency_key, now)
        )
        if inserted == 0:  # a concurrent request with the same eventId / key won the race
            raced = await _existing(tx, app_id, data.event_id, idempotency_key)
            assert raced is not None
            return _replay(raced, data.event_id, idempotency_key), False
        targets = await _targets(tx, app_id, data, only_endpoint)
        if targets:
            await tx.executemany("insert_delivery", _delivery_rows(msg_id, app_id, data, targets, now))
            await tx.notify_deliveries()
    return _created(msg_id, data, now), True


def _message_row(
    msg_id: str, app_id: str | None, data: MessageIn, payload: bytes, idempotency_key: str | None, now: int
) -> dict[str, Any]:
    return {
        "id": msg_id,
        "app_id": app_id,
        "event_type": data.event_type,
        "event_id": data.event_id,
        "idempotency_key": idempotency_key,
        "payload": payload,
        "channels": orjson.dumps(data.channels).decode() if data.channels else None,
        "tags": orjson.dumps(data.tags).decode() if data.tags else None,
        "now": now,
        "deliver_at": to_ms(data.deliver_at) if data.deliver_at else None,
        "expunge_at": _expunge_at(data, now),
    }


def _expunge_at(data: MessageIn, now: int) -> int | None:
    """When the message's own retention ends (operations/retention.py purges it then), if it has one."""
    if data.payload_retention_hours:
        return now + data.payload_retention_hours * 3_600_000
    if data.payload_retention_period:
        return now + data.payload_retention_period * 86_400_000
    return None


async def _targets(db: Executor, app_id: str, data: MessageIn, only_endpoint: str | None) -> list[str]:
    """The endpoints this message goes to: every enabled one whose filters match, or just one."""
    if only_endpoint is not None:
        return [only_endpoint]
    return _matching(await db.fetch("list_fanout_endpoints", app_id=app_id), data)


def _matching(endpoints: list[Row], data: MessageIn) -> list[str]:
    return select_endpoints(
        (
            (
                e["id"],
                orjson.loads(e["event_types"]) if e["event_types"] else None,
                orjson.loads(e["channels"]) if e["channels"] else None,
            )
            for e in endpoints
        ),
        data.event_type,
        data.channels,
    )


def _delivery_rows(
    msg_id: str, app_id: str, data: MessageIn, targets: list[str], now: int
) -> list[dict[str, Any]]:
    due = to_ms(data.deliver_at) if data.deliver_at else now
    return [
        {"msg_id": msg_id, "endpoint_id": ep, "app_id": app_id, "next_attempt_at": due, "now": now}
        for ep in targets
    ]


def _created(msg_id: str, data: MessageIn, now: int) -> MessageOut:
    """Built without validation: every field comes from the validated `data` or from us (the
    validating build was 2.6% of an API process's samples in py-spy, message creates only)."""
    return MessageOut.model_construct(
        id=msg_id,
        event_id=data.event_id,
        event_type=data.event_type,
        payload=data.payload,
        channels=data.channels,
        tags=data.tags,
        timestamp=to_datetime(now),
        deliver_at=data.deliver_at,
    )


async def require_message(db: Executor, app_id: str, key: str) -> MessageRecord:
    row = typed_one(MessageRecord, await db.fetchrow("get_message", app_id=app_id, key=key))
    if row is None:
        raise NotFound(f"message {key!r} not found")
    return row


async def get_message(rt: Runtime, app_key: str, key: str, *, with_content: bool = True) -> MessageOut:
    app = await require_app(rt.db, app_key)
    return message_out(await require_message(rt.db, app.id, key), with_content=with_content)


async def list_messages(
    rt: Runtime,
    app_key: str,
    *,
    limit: int | None,
    iterator: str | None,
    event_types: list[str] | None = None,
    channel: str | None = None,
    before: datetime | None = None,
    after: datetime | None = None,
    tag: str | None = None,
    with_content: bool = True,
    delivery_status: int | None = None,
) -> ListResponse:
    """Newest first; filters combine (types: any of them; channel and tag: the message carries it;
    delivery_status: at least one of its deliveries is in that state, which is how the dashboard finds
    the messages that failed somewhere)."""
    limit = check_limit(limit)
    app = await require_app(rt.db, app_key)
    params: dict[str, Any] = {
        "app_id": app.id,
        "before": iterator or HIGHEST_KEY,
        "since": to_ms(after) if after else 0,
        "until": to_ms(before) if before else 2**62,
        "all_types": 0 if event_types else 1,
        "event_types": event_types or [],
        "channel_like": _json_item_pattern(channel),
        "tag_like": _json_item_pattern(tag),
        "delivery_status": -1 if delivery_status is None else delivery_status,
        "limit": limit + 1,
    }
    rows = await rt.db.fetch("list_messages", **params)
    return page(typed(MessageRecord, rows), limit, "id", lambda r: message_out(r, with_content=with_content))


def _json_item_pattern(value: str | None) -> str:
    """A LIKE pattern that finds `value` as an item of a stored JSON list ('' means no filter).

    The item is matched with its JSON quotes, and LIKE's wildcards in it are escaped, so
    `a_b` finds neither `axb` nor `a_bc`.
    """
    if not value:
        return ""
    item = orjson.dumps(value).decode()
    return "%" + item.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


async def expunge_content(rt: Runtime, app_key: str, key: str) -> None:
    """Delete a message's payload (deliveries still pending can then no longer be sent)."""
    async with rt.db.transaction() as tx:
        app = await require_app(tx, app_key)
        row = await require_message(tx, app.id, key)
        await tx.execute("expunge_message_payload", app_id=app.id, id=row.id)
