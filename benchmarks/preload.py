"""Queue a backlog fast: bulk-insert messages and their deliveries straight into the tables.

The rows are the ones `hookwire.outbound.messages.create_message` writes for a message
to an app's endpoints (a `msg_` ID from `hookwire.ids`, the compact JSON payload, one
`pending` delivery per endpoint, due now), only without the HTTP round trip per message,
so a million-message backlog takes seconds to build instead of minutes. The app and its
endpoints must already exist (created through the API, so their secrets are sealed).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from typing import Any

import asyncpg

from benchmarks.payloads import EVENT_TYPE, payload_bytes
from hookwire.clock import now_ms
from hookwire.ids import new_id

BATCH = 20_000


def _batches(
    app_id: str, endpoint_ids: Sequence[str], count: int
) -> Iterator[tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]]:
    body = payload_bytes()
    done = 0
    while done < count:
        size = min(BATCH, count - done)
        now = now_ms()
        messages: list[tuple[Any, ...]] = []
        deliveries: list[tuple[Any, ...]] = []
        for _ in range(size):
            msg_id = new_id("msg", now)
            messages.append((msg_id, app_id, EVENT_TYPE, body, now))
            deliveries += [(msg_id, ep, app_id, now) for ep in endpoint_ids]
        done += size
        yield messages, deliveries


def preload_sqlite(path: str, app_id: str, endpoint_ids: Sequence[str], count: int) -> None:
    """Insert `count` messages, each with one due delivery per endpoint, into a SQLite file."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA busy_timeout=10000")
        for messages, deliveries in _batches(app_id, endpoint_ids, count):
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(
                "INSERT INTO messages (id, app_id, event_type, payload, created_at) VALUES (?, ?, ?, ?, ?)",
                messages,
            )
            conn.executemany(
                "INSERT INTO deliveries (msg_id, endpoint_id, app_id, status, attempts, next_attempt_at,"
                " manual, created_at, updated_at) VALUES (?1, ?2, ?3, 1, 0, ?4, 0, ?4, ?4)",
                deliveries,
            )
            conn.execute("COMMIT")
    finally:
        conn.close()


async def preload_postgres(dsn: str, app_id: str, endpoint_ids: Sequence[str], count: int) -> None:
    """The same rows on PostgreSQL, with COPY."""
    conn = await asyncpg.connect(dsn)
    try:
        for messages, deliveries in _batches(app_id, endpoint_ids, count):
            async with conn.transaction():
                await conn.copy_records_to_table(
                    "messages",
                    records=messages,
                    columns=["id", "app_id", "event_type", "payload", "created_at"],
                )
                await conn.copy_records_to_table(
                    "deliveries",
                    records=[(m, e, a, 1, 0, t, 0, t, t) for m, e, a, t in deliveries],
                    columns=[
                        "msg_id",
                        "endpoint_id",
                        "app_id",
                        "status",
                        "attempts",
                        "next_attempt_at",
                        "manual",
                        "created_at",
                        "updated_at",
                    ],
                )
        await conn.execute("ANALYZE messages; ANALYZE deliveries")
    finally:
        await conn.close()
