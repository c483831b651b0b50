"""What the dashboard's home and application pages summarise: traffic, queue, endpoint health.

Read-only counts over the last day. Attempts are selected by an ID floor (IDs sort by
creation time), so the primary key bounds the scan to the period asked for.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hookwire.clock import now_ms
from hookwire.ids import lowest_id
from hookwire.outbound.applications import require_app
from hookwire.runtime import Runtime
from hookwire.store.statuses import MessageStatus

DAY_MS = 86_400_000


@dataclass(frozen=True)
class Bucket:
    """One slice of time: when it starts (ms), how many attempts, how many succeeded."""

    start_ms: int
    attempts: int
    succeeded: int

    @property
    def success_rate(self) -> float | None:
        return self.succeeded / self.attempts if self.attempts else None


@dataclass(frozen=True)
class Overview:
    buckets: list[Bucket]
    bucket_ms: int
    queue_depth: int
    oldest_due_ms: int | None
    troubled_endpoints: list[dict[str, Any]]
    recent_rejects: list[dict[str, Any]]
    now_ms: int

    @property
    def total_attempts(self) -> int:
        return sum(b.attempts for b in self.buckets)

    @property
    def success_rate(self) -> float | None:
        total = self.total_attempts
        return sum(b.succeeded for b in self.buckets) / total if total else None


@dataclass(frozen=True)
class EndpointHealth:
    """`state` is healthy, failing, disabled or idle (no attempt yet)."""

    state: str
    last_status_code: int | None = None
    hourly: list[Bucket] = field(default_factory=list)


def _fill(counts: dict[int, tuple[int, int]], start_bucket: int, n: int, bucket_ms: int) -> list[Bucket]:
    return [Bucket((start_bucket + i) * bucket_ms, *counts.get(start_bucket + i, (0, 0))) for i in range(n)]


async def overview(rt: Runtime, *, buckets: int = 96, troubled_limit: int = 10) -> Overview:
    """The last 24 h of attempts in `buckets` slices, the queue, and what needs attention."""
    now = now_ms()
    bucket_ms = DAY_MS // buckets
    first = (now - DAY_MS) // bucket_ms + 1
    rows = await rt.db.fetch(
        "overview_attempt_buckets", since_id=lowest_id("atmpt", first * bucket_ms), bucket_ms=bucket_ms
    )
    counts = {int(r["bucket"]): (int(r["n"]), int(r["ok"] or 0)) for r in rows}
    queue = await rt.db.fetchrow("overview_queue", now=now)
    troubled = await rt.db.fetch("overview_troubled_endpoints", limit=troubled_limit)
    rejects = await rt.db.fetch(
        "overview_recent_rejects", since_id=lowest_id("req", now - DAY_MS), limit=troubled_limit
    )
    return Overview(
        buckets=_fill(counts, first, buckets, bucket_ms),
        bucket_ms=bucket_ms,
        queue_depth=int(queue["depth"]) if queue else 0,
        oldest_due_ms=int(queue["oldest_due"]) if queue and queue["oldest_due"] is not None else None,
        troubled_endpoints=troubled,
        recent_rejects=rejects,
        now_ms=now,
    )


async def endpoint_health(
    rt: Runtime, app_key: str, endpoints: list[Any], *, hours: int = 24
) -> dict[str, EndpointHealth]:
    """Each endpoint's badge (from its newest attempt) and hourly success counts for a sparkline."""
    app = await require_app(rt.db, app_key)
    now = now_ms()
    hour = 3_600_000
    first = now // hour - hours + 1
    rows = await rt.db.fetch(
        "overview_endpoint_buckets",
        since_id=lowest_id("atmpt", first * hour),
        app_id=app.id,
        bucket_ms=hour,
    )
    per_endpoint: dict[str, dict[int, tuple[int, int]]] = {}
    for r in rows:
        per_endpoint.setdefault(r["endpoint_id"], {})[int(r["bucket"])] = (int(r["n"]), int(r["ok"] or 0))
    last = {r["endpoint_id"]: r for r in await rt.db.fetch("overview_last_attempts", app_id=app.id)}
    health = {}
    for endpoint in endpoints:
        newest = last.get(endpoint.id)
        if endpoint.disabled:
            state = "disabled"
        elif newest is None:
            state = "idle"
        else:
            state = "healthy" if newest["status"] == MessageStatus.SUCCESS else "failing"
        health[endpoint.id] = EndpointHealth(
            state=state,
            last_status_code=newest["response_status_code"] if newest else None,
            hourly=_fill(per_endpoint.get(endpoint.id, {}), first, hours, hour),
        )
    return health
