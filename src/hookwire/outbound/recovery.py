"""One endpoint's deliveries: counts by status, and re-queueing what failed, was never sent,
or matches a bulk-replay filter.

`recover`, `replay-missing` and `bulk-replay` each run as a background task (see
`outbound/background_tasks.py`): the work is done in one transaction while answering, and
the task that is returned (and can be looked up later) carries how many deliveries were
queued.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from hookwire.clock import now_ms, to_ms
from hookwire.outbound.background_tasks import BackgroundTaskOut, TaskType, run_task
from hookwire.outbound.endpoints import json_list, require_endpoint
from hookwire.outbound.models import BulkReplayIn, EndpointStats
from hookwire.outbound.routing import endpoint_matches
from hookwire.runtime import Runtime
from hookwire.store.statuses import MessageStatus

_FOREVER = 2**62


async def endpoint_stats(
    rt: Runtime, app_key: str, key: str, *, since: datetime | None, until: datetime | None
) -> EndpointStats:
    _, row = await require_endpoint(rt.db, app_key, key)
    rows = await rt.db.fetch(
        "endpoint_stats",
        endpoint_id=row.id,
        since=to_ms(since) if since else 0,
        until=to_ms(until) if until else _FOREVER,
    )
    counts = {r["status"]: r["n"] for r in rows}
    return EndpointStats(
        success=counts.get(0, 0),
        pending=counts.get(1, 0),
        fail=counts.get(2, 0),
        sending=counts.get(3, 0),
        canceled=counts.get(4, 0),
    )


async def recover(
    rt: Runtime, app_key: str, key: str, *, since: datetime, until: datetime | None
) -> BackgroundTaskOut:
    """Re-queue every failed delivery to this endpoint in the period."""
    await require_endpoint(rt.db, app_key, key)

    async def work() -> dict[str, Any]:
        async with rt.db.transaction() as tx:
            _, row = await require_endpoint(tx, app_key, key)
            queued = await tx.execute(
                "recover_failed_deliveries",
                endpoint_id=row.id,
                since=to_ms(since),
                until=to_ms(until) if until else _FOREVER,
                now=now_ms(),
            )
            await tx.notify_deliveries()
        return {"queued": queued}

    return await run_task(rt.db, TaskType.ENDPOINT_RECOVER, work)


async def replay_missing(
    rt: Runtime, app_key: str, key: str, *, since: datetime, until: datetime | None
) -> BackgroundTaskOut:
    """Queue the messages of the period that this endpoint would receive but never had a delivery for."""
    await require_endpoint(rt.db, app_key, key)

    async def work() -> dict[str, Any]:
        async with rt.db.transaction() as tx:
            _, row = await require_endpoint(tx, app_key, key)
            types = json_list(row.event_types)
            channels = json_list(row.channels)
            candidates = await tx.fetch(
                "list_undelivered_messages",
                endpoint_id=row.id,
                app_id=row.app_id,
                since=to_ms(since),
                until=to_ms(until) if until else _FOREVER,
                all_types=0 if types else 1,
                event_types=types or [],
            )
            now = now_ms()
            rows = [
                {"msg_id": m["id"], "endpoint_id": row.id, "app_id": row.app_id, "now": now}
                for m in candidates
                if endpoint_matches(types, channels, m["event_type"], json_list(m["channels"]))
            ]
            await tx.executemany("requeue_delivery", rows)
            await tx.notify_deliveries()
        return {"queued": len(rows)}

    return await run_task(rt.db, TaskType.ENDPOINT_REPLAY, work)


def _code_class(code: int | None) -> int:
    """Svix's StatusCodeClass of a response code: 0 for no response, else 100, 200, ... 500."""
    if not code or code < 100:
        return 0
    return min(code // 100, 5) * 100


def _wanted(delivery: dict[str, Any], data: BulkReplayIn) -> bool:
    if data.event_types and delivery["event_type"] not in data.event_types:
        return False
    if data.channel and data.channel not in (json_list(delivery["channels"]) or []):
        return False
    if data.tag and data.tag not in (json_list(delivery["tags"]) or []):
        return False
    if data.status is not None and delivery["status"] != data.status:
        return False
    return data.status_code_class is None or _code_class(delivery["last_code"]) == data.status_code_class


async def bulk_replay(rt: Runtime, app_key: str, key: str, data: BulkReplayIn) -> BackgroundTaskOut:
    """Send again every message this endpoint was sent in the period that matches the filters
    (event types, channel, tag, delivery status, class of the last response code)."""
    await require_endpoint(rt.db, app_key, key)

    async def work() -> dict[str, Any]:
        async with rt.db.transaction() as tx:
            _, row = await require_endpoint(tx, app_key, key)
            deliveries = await tx.fetch(
                "list_endpoint_deliveries_for_replay",
                endpoint_id=row.id,
                since=to_ms(data.since),
                until=to_ms(data.until) if data.until else _FOREVER,
            )
            now = now_ms()
            rows = [
                {"msg_id": d["msg_id"], "endpoint_id": row.id, "app_id": row.app_id, "now": now}
                for d in deliveries
                if d["status"] != MessageStatus.SENDING
                and _wanted(d, data)  # one being sent right now is not taken away
            ]
            await tx.executemany("requeue_delivery", rows)
            await tx.notify_deliveries()
        return {"queued": len(rows), "matched": len(deliveries)}

    return await run_task(rt.db, TaskType.ENDPOINT_BULK_REPLAY, work)
