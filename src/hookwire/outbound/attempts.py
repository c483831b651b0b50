"""Attempts: what happened on each try, and the resend that queues another."""

from __future__ import annotations

from typing import Any

import orjson

from hookwire.clock import now_ms, to_datetime
from hookwire.errors import BadRequest, NotFound
from hookwire.outbound.applications import require_app
from hookwire.outbound.endpoints import require_endpoint
from hookwire.outbound.messages import message_out, require_message
from hookwire.outbound.models import (
    STATUS_TEXT,
    EndpointMessageOut,
    ListResponse,
    MessageAttemptOut,
    MessageEndpointOut,
)
from hookwire.outbound.pagination import HIGHEST_KEY, check_limit, page
from hookwire.outbound.records import AttemptRecord, MessageRecord
from hookwire.runtime import Runtime
from hookwire.store import Row, typed, typed_one, typed_part
from hookwire.store.statuses import MessageStatus


def attempt_out(row: AttemptRecord) -> MessageAttemptOut:
    body = row.response_body
    response = body if body is not None else ""
    if row.error and not response:
        response = row.error
    return MessageAttemptOut(
        id=row.id,
        msg_id=row.msg_id,
        endpoint_id=row.endpoint_id,
        url=row.url,
        response=response,
        response_status_code=row.response_status_code,
        response_duration_ms=row.duration_ms,
        status=MessageStatus(row.status),
        status_text=STATUS_TEXT[row.status],
        trigger_type=row.trigger_type,
        timestamp=to_datetime(row.created_at),
    )


def attempt_detail(row: AttemptRecord) -> dict[str, Any]:
    """Everything kept about an attempt, for the dashboard: headers and error included."""
    return {
        **attempt_out(row).model_dump(by_alias=True, mode="json"),
        "responseHeaders": orjson.loads(row.response_headers) if row.response_headers else {},
        "error": row.error,
    }


def _status_filter(status: int | None) -> int:
    return -1 if status is None else int(status)


async def list_by_msg(
    rt: Runtime,
    app_key: str,
    msg_key: str,
    *,
    limit: int | None,
    iterator: str | None,
    endpoint_id: str | None = None,
    status: int | None = None,
) -> ListResponse:
    limit = check_limit(limit)
    app = await require_app(rt.db, app_key)
    msg = await require_message(rt.db, app.id, msg_key)
    if endpoint_id:  # the filter may name the endpoint by uid, like every other endpoint reference
        _, endpoint = await require_endpoint(rt.db, app.id, endpoint_id)
        endpoint_id = endpoint.id
    rows = await rt.db.fetch(
        "list_attempts_by_msg",
        app_id=app.id,
        msg_id=msg.id,
        before=iterator or HIGHEST_KEY,
        endpoint_id=endpoint_id or "",
        status=_status_filter(status),
        limit=limit + 1,
    )
    return page(typed(AttemptRecord, rows), limit, "id", attempt_out)


async def list_by_endpoint(
    rt: Runtime,
    app_key: str,
    endpoint_key: str,
    *,
    limit: int | None,
    iterator: str | None,
    status: int | None = None,
) -> ListResponse:
    limit = check_limit(limit)
    app, endpoint = await require_endpoint(rt.db, app_key, endpoint_key)
    rows = await rt.db.fetch(
        "list_attempts_by_endpoint",
        app_id=app.id,
        endpoint_id=endpoint.id,
        before=iterator or HIGHEST_KEY,
        status=_status_filter(status),
        limit=limit + 1,
    )
    return page(typed(AttemptRecord, rows), limit, "id", attempt_out)


async def get_attempt(rt: Runtime, app_key: str, msg_key: str, attempt_id: str) -> AttemptRecord:
    app = await require_app(rt.db, app_key)
    msg = await require_message(rt.db, app.id, msg_key)
    found = await rt.db.fetchrow("get_attempt", app_id=app.id, msg_id=msg.id, id=attempt_id)
    row = typed_one(AttemptRecord, found)
    if row is None:
        raise NotFound(f"attempt {attempt_id!r} not found")
    return row


async def expunge_attempt_content(rt: Runtime, app_key: str, msg_key: str, attempt_id: str) -> None:
    row = await get_attempt(rt, app_key, msg_key, attempt_id)
    await rt.db.execute("expunge_attempt_content", app_id=row.app_id, msg_id=row.msg_id, id=row.id)


def _next_attempt(row: Row) -> Any:
    return (
        to_datetime(row["next_attempt_at"])
        if row["delivery_status"] in (MessageStatus.PENDING, MessageStatus.SENDING)
        else None
    )


async def list_attempted_messages(
    rt: Runtime,
    app_key: str,
    endpoint_key: str,
    *,
    limit: int | None,
    iterator: str | None,
    status: int | None = None,
) -> ListResponse:
    limit = check_limit(limit)
    _, endpoint = await require_endpoint(rt.db, app_key, endpoint_key)
    rows = await rt.db.fetch(
        "list_attempted_messages",
        endpoint_id=endpoint.id,
        before=iterator or HIGHEST_KEY,
        status=_status_filter(status),
        limit=limit + 1,
    )

    def convert(row: Row) -> EndpointMessageOut:
        msg = message_out(typed_part(MessageRecord, row))
        return EndpointMessageOut(
            **msg.model_dump(),
            status=MessageStatus(row["delivery_status"]),
            status_text=STATUS_TEXT[row["delivery_status"]],
            next_attempt=_next_attempt(row),
        )

    return page(rows, limit, "id", convert)


async def list_attempted_destinations(
    rt: Runtime, app_key: str, msg_key: str, *, limit: int | None, iterator: str | None
) -> ListResponse:
    limit = check_limit(limit)
    app = await require_app(rt.db, app_key)
    msg = await require_message(rt.db, app.id, msg_key)
    rows = await rt.db.fetch(
        "list_attempted_destinations", msg_id=msg.id, after=iterator or "", limit=limit + 1
    )

    def convert(row: Row) -> MessageEndpointOut:
        return MessageEndpointOut(
            id=row["id"],
            uid=row["uid"],
            url=row["url"],
            description=row["description"],
            throttle_rate=row["throttle_rate"],
            disabled=bool(row["disabled"]),
            event_types=orjson.loads(row["event_types"]) if row["event_types"] else None,
            channels=orjson.loads(row["channels"]) if row["channels"] else None,
            created_at=to_datetime(row["created_at"]),
            updated_at=to_datetime(row["updated_at"]),
            status=MessageStatus(row["delivery_status"]),
            status_text=STATUS_TEXT[row["delivery_status"]],
            next_attempt=_next_attempt(row),
        )

    return page(rows, limit, "id", convert)


async def resend(rt: Runtime, app_key: str, msg_key: str, endpoint_key: str) -> None:
    """Queue the message for the endpoint again, now, as a manual attempt.

    A message whose content was expunged cannot be sent again: that is a 400, not a
    delivery that the worker would silently cancel.
    """
    async with rt.db.transaction() as tx:
        app, endpoint = await require_endpoint(tx, app_key, endpoint_key)
        msg = await require_message(tx, app.id, msg_key)
        if msg.payload is None:
            raise BadRequest(f"message {msg.id} has no content any more (expunged); it cannot be resent")
        await tx.execute(
            "requeue_delivery", msg_id=msg.id, endpoint_id=endpoint.id, app_id=app.id, now=now_ms()
        )
        await tx.notify_deliveries()
