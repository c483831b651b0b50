"""The receive path: verify, store, answer. Nothing slow happens before the answer.

Every request is stored before it is answered: accepted ones (deduplicated on the
provider's event id by a unique index, in the same statement), duplicates, handshakes
and forged ones (kept as `rejected` so the dashboard can show them). Routing happens
afterwards in the router, which the commit wakes.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass

import orjson

from hookwire.clock import now_ms
from hookwire.events import INBOUND_RECEIVED
from hookwire.ids import new_id
from hookwire.ingest.providers import InboundRequest, Verdict, get_provider
from hookwire.ingest.providers.salesforce import salesforce_ack
from hookwire.ingest.records import SourceRecord
from hookwire.ingest.sources import source_config, token_hash
from hookwire.runtime import Runtime
from hookwire.store import Executor, typed_one

ACCEPTED, DUPLICATE, REJECTED, CHALLENGE = "accepted", "duplicate", "rejected", "challenge"


@dataclass(frozen=True)
class Answer:
    status: int
    content_type: str
    body: bytes


def _json(status: int, document: dict[str, object]) -> Answer:
    return Answer(status, "application/json", orjson.dumps(document))


def _success(source_type: str, request_id: str, status: str) -> Answer:
    """What the provider expects on success; anything else may make it retry."""
    if source_type == "salesforce":
        ack = salesforce_ack()
        return Answer(ack.status, ack.content_type, ack.body)
    if source_type == "twilio":
        return Answer(200, "text/xml", b'<?xml version="1.0" encoding="UTF-8"?><Response/>')
    return _json(200, {"id": request_id, "status": status})


async def _store(
    tx: Executor,
    source: SourceRecord,
    request: InboundRequest,
    verdict: Verdict,
    where: tuple[str, str],
    status: str,
    reason: str | None = None,
) -> tuple[str, bool]:
    """Insert the captured request; False when an accepted one with this event id exists."""
    request_id = new_id("req")
    now = now_ms()
    inserted = await tx.execute(
        "insert_inbound_request",
        id=request_id,
        source_id=source.id,
        method=request.method,
        path=where[0],
        query=where[1],
        headers=orjson.dumps(dict(request.headers)).decode(),
        body=request.body,
        status=status,
        reason=reason,
        event_id=verdict.event_id,
        event_type=verdict.event_type,
        routed_at=None if status == ACCEPTED else now,
        now=now,
    )
    return request_id, inserted > 0


async def receive(
    rt: Runtime,
    *,
    token: str,
    method: str,
    path: str,
    query: str,
    headers: Mapping[str, str],
    body: bytes,
) -> Answer:
    """Handle one request to `/in/{token}{path}?{query}` and say what to answer."""
    source = typed_one(
        SourceRecord, await rt.db.fetchrow("get_source_by_token_hash", token_hash=token_hash(token))
    )
    if source is None:
        return _json(404, {"code": "not_found", "detail": "no source has this ingest URL"})
    url = f"{rt.settings.base_url}/in/{token}{path}" + (f"?{query}" if query else "")
    request = InboundRequest(method=method, url=url, headers=headers, body=body)
    verdict = get_provider(source.type).verify(request, source_config(rt, source), time.time())
    where = (path, query)
    if verdict.challenge is not None:
        async with rt.db.transaction() as tx:
            request_id, _ = await _store(tx, source, request, verdict, where, CHALLENGE)
        _announce(rt, source, request_id, CHALLENGE)
        c = verdict.challenge
        return Answer(c.status, c.content_type, c.body)
    if not verdict.ok:
        async with rt.db.transaction() as tx:
            request_id, _ = await _store(tx, source, request, verdict, where, REJECTED, verdict.reason)
        _announce(rt, source, request_id, REJECTED)
        return _json(401, {"code": "authentication_failed", "detail": verdict.reason})
    async with rt.db.transaction() as tx:
        request_id, inserted = await _store(tx, source, request, verdict, where, ACCEPTED)
        if not inserted:  # the provider's event id was seen before: keep it as a duplicate
            request_id, _ = await _store(tx, source, request, verdict, where, DUPLICATE, "duplicate event id")
            status = DUPLICATE
        else:
            status = ACCEPTED
            await tx.notify_deliveries()
    _announce(rt, source, request_id, status)
    return _success(source.type, request_id, status)


def _announce(rt: Runtime, source: SourceRecord, request_id: str, status: str) -> None:
    """Tell live readers (dashboard request bin, `hookwire listen`) once the request is committed."""
    rt.events.publish(INBOUND_RECEIVED, {"requestId": request_id, "sourceId": source.id, "status": status})
    rt.metrics.inbound.labels(source.type, status).inc()
