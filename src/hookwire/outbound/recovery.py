"""One endpoint's deliveries: counts by status, and re-queueing what failed or was never sent.

`recover` and `replay-missing` work synchronously inside one transaction and answer
with a finished background task, the shape the Svix SDK expects.
"""

from __future__ import annotations

from datetime import datetime

from hookwire.clock import now_ms, to_datetime, to_ms
from hookwire.ids import new_id
from hookwire.outbound.endpoints import json_list, require_endpoint
from hookwire.outbound.models import BackgroundTaskOut, EndpointStats
from hookwire.outbound.routing import endpoint_matches
from hookwire.runtime import Runtime


async def endpoint_stats(
    rt: Runtime, app_key: str, key: str, *, since: datetime | None, until: datetime | None
) -> EndpointStats:
    _, row = await require_endpoint(rt.db, app_key, key)
    rows = await rt.db.fetch(
        "endpoint_stats",
        endpoint_id=row["id"],
        since=to_ms(since) if since else 0,
        until=to_ms(until) if until else 2**62,
    )
    counts = {r["status"]: r["n"] for r in rows}
    return EndpointStats(
        success=counts.get(0, 0),
        pending=counts.get(1, 0),
        fail=counts.get(2, 0),
        sending=counts.get(3, 0),
        canceled=counts.get(4, 0),
    )


def _finished_task(task: str) -> BackgroundTaskOut:
    return BackgroundTaskOut(
        id=new_id("qtask"), status="finished", task=task, updated_at=to_datetime(now_ms())
    )


async def recover(
    rt: Runtime, app_key: str, key: str, *, since: datetime, until: datetime | None
) -> BackgroundTaskOut:
    """Re-queue every failed delivery to this endpoint in the period."""
    async with rt.db.transaction() as tx:
        _, row = await require_endpoint(tx, app_key, key)
        await tx.execute(
            "recover_failed_deliveries",
            endpoint_id=row["id"],
            since=to_ms(since),
            until=to_ms(until) if until else 2**62,
            now=now_ms(),
        )
        await tx.notify_deliveries()
    return _finished_task("endpoint.recover")


async def replay_missing(
    rt: Runtime, app_key: str, key: str, *, since: datetime, until: datetime | None
) -> BackgroundTaskOut:
    """Queue the messages of the period that this endpoint would receive but never had a delivery for."""
    async with rt.db.transaction() as tx:
        _, row = await require_endpoint(tx, app_key, key)
        types = json_list(row["event_types"])
        channels = json_list(row["channels"])
        candidates = await tx.fetch(
            "list_undelivered_messages",
            endpoint_id=row["id"],
            app_id=row["app_id"],
            since=to_ms(since),
            until=to_ms(until) if until else 2**62,
            all_types=0 if types else 1,
            event_types=types or [],
        )
        now = now_ms()
        await tx.executemany(
            "requeue_delivery",
            [
                {"msg_id": m["id"], "endpoint_id": row["id"], "app_id": row["app_id"], "now": now}
                for m in candidates
                if endpoint_matches(types, channels, m["event_type"], json_list(m["channels"]))
            ],
        )
        await tx.notify_deliveries()
    return _finished_task("endpoint.replay")
