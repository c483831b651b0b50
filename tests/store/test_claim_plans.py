"""A claim on PostgreSQL reads its window of due deliveries, whatever plan PostgreSQL keeps for it.

PostgreSQL may keep one generic plan for a prepared statement, costed for the tables as they
were when it was made. A worker prepares its claim within seconds of starting, so on a new
database that plan was made for an empty queue. The claim used to join its window to the
deliveries table in a way that such a plan ran as a walk over every due delivery, repeated
once per row of the window: with 20,000 deliveries queued, two workers drained 92 per second
instead of ~4,000 (docs/benchmarks.md, "a seventh look").

The test counts the rows the claim fetches rather than timing it: the count does not depend on
the machine.
"""

from __future__ import annotations

import asyncpg
import pytest

from hookwire.clock import now_ms
from hookwire.outbound.applications import create_app
from hookwire.outbound.endpoints import create_endpoint
from hookwire.outbound.models import ApplicationIn, EndpointIn
from hookwire.runtime import Runtime
from hookwire.store.queries import load_queries
from hookwire.store.statuses import MessageStatus

QUEUED = 3_000
SCAN = 200
LIMIT = 10

_FETCHED = """
SELECT coalesce(seq_tup_read, 0) + coalesce(idx_tup_fetch, 0)
FROM pg_stat_xact_user_tables WHERE relname = 'deliveries'
"""


async def _add_deliveries(
    conn: asyncpg.Connection, app_id: str, endpoint_id: str, first: int, count: int, status: int
) -> None:
    """`count` messages with one delivery each, due a minute ago."""
    await conn.execute(
        """
        INSERT INTO messages (id, app_id, event_type, payload, created_at)
        SELECT 'msg_plan' || n, $1, 'invoice.paid', '\\x7b7d'::bytea, $3::bigint
        FROM generate_series($2::int, $2::int + $4::int - 1) AS n
        """,
        app_id,
        first,
        now_ms(),
        count,
    )
    await conn.execute(
        """
        INSERT INTO deliveries (msg_id, endpoint_id, app_id, status, attempts, next_attempt_at, manual,
            created_at, updated_at)
        SELECT 'msg_plan' || n, $1, $2, $5::smallint, 0, $4::bigint - 60000, 0, $4::bigint, $4::bigint
        FROM generate_series($3::int, $3::int + $6::int - 1) AS n
        """,
        endpoint_id,
        app_id,
        first,
        now_ms(),
        status,
        count,
    )


async def test_a_claim_planned_on_an_empty_queue_reads_its_window_not_the_queue(runtime: Runtime) -> None:
    if runtime.db.dialect != "postgres":
        pytest.skip("PostgreSQL's plan cache; SQLite plans each statement as it prepares it")
    app, _ = await create_app(runtime, ApplicationIn(name="Acme"))
    endpoint = await create_endpoint(runtime, app.id, EndpointIn(url="http://127.0.0.1:9/hook"))
    query = load_queries("postgres")["claim_due_deliveries"]

    def args() -> list[object]:
        now = now_ms()
        params = {
            "now": now,
            "lease_until": now + 60_000,
            "limit": LIMIT,
            "scan": SCAN,
            "blocked": [],
            "open_circuits": [],
        }
        return [params[name] for name in query.params]

    conn = await asyncpg.connect(
        runtime.settings.database_url, server_settings={"plan_cache_mode": "force_generic_plan"}
    )
    try:
        # a new worker's first claims: the queue holds a few delivered messages and nothing due
        await _add_deliveries(conn, app.id, endpoint.id, 0, 50, MessageStatus.SUCCESS)
        assert await conn.fetch(query.sql, *args()) == []
        # then a burst: the queue is QUEUED deep, and the same prepared claim runs again
        await _add_deliveries(conn, app.id, endpoint.id, 50, QUEUED, MessageStatus.PENDING)
        async with conn.transaction():
            claimed = await conn.fetch(query.sql, *args())
            fetched = await conn.fetchval(_FETCHED)
    finally:
        await conn.close()
    assert len(claimed) == LIMIT
    # the window once by the due index, then its rows by primary key: about 2 x SCAN; the old
    # claim fetched every due delivery, and walked the window again for each of them
    assert fetched <= 3 * SCAN, f"a claim of {LIMIT} fetched {fetched} rows with {QUEUED} queued"
