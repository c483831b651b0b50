"""Captured requests: the request bin and the inbound log, newest first."""

from __future__ import annotations

import base64

import orjson

from hookwire.clock import to_datetime
from hookwire.errors import NotFound
from hookwire.ingest.listeners import forwards_of
from hookwire.ingest.models import InboundRequestOut
from hookwire.ingest.sources import require_source
from hookwire.outbound.models import ListResponse
from hookwire.outbound.pagination import HIGHEST_KEY, check_limit, page
from hookwire.runtime import Runtime
from hookwire.store import Row


def request_out(row: Row) -> InboundRequestOut:
    raw = bytes(row["body"])
    try:
        body, body_b64 = raw.decode("utf-8"), None
    except UnicodeDecodeError:
        body, body_b64 = "", base64.b64encode(raw).decode()
    return InboundRequestOut(
        id=row["id"],
        source_id=row["source_id"],
        method=row["method"],
        path=row["path"],
        query=row["query"],
        headers=orjson.loads(row["headers"]),
        body=body,
        body_base64=body_b64,
        status=row["status"],
        reason=row["reason"],
        event_id=row["event_id"],
        event_type=row["event_type"],
        routed_at=to_datetime(row["routed_at"]) if row["routed_at"] else None,
        created_at=to_datetime(row["created_at"]),
    )


async def list_requests(
    rt: Runtime, source_key: str, *, limit: int | None, iterator: str | None, status: str | None = None
) -> ListResponse:
    limit = check_limit(limit)
    source = await require_source(rt.db, source_key)
    rows = await rt.db.fetch(
        "list_inbound_requests",
        source_id=source.id,
        before=iterator or HIGHEST_KEY,
        status=status or "",
        limit=limit + 1,
    )
    return page(rows, limit, "id", request_out)


async def get_request(rt: Runtime, source_key: str, request_id: str) -> InboundRequestOut:
    source = await require_source(rt.db, source_key)
    row = await rt.db.fetchrow("get_inbound_request", source_id=source.id, id=request_id)
    if row is None:
        raise NotFound(f"request {request_id!r} not found")
    return request_out(row).model_copy(update={"listener_forwards": await forwards_of(rt, row["id"])})
