"""Expunging message contents on request: one message's list (`msg/bulk-expunge`) or a whole
application's (`msg/expunge-all-contents`, recorded as an `application.purge_content` task).

Like retention, an expunge drops a message's payload and its attempts' response bodies and
headers; the rows (ids, times, statuses) stay listable. Deliveries still pending for an
expunged message are canceled when a worker reaches them (there is nothing left to send).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from hookwire.operations.retention import purge_messages
from hookwire.outbound.applications import require_app
from hookwire.outbound.background_tasks import BackgroundTaskOut, TaskType, run_task
from hookwire.outbound.models import Model
from hookwire.runtime import Runtime

BATCH = 500
MAX_IDS = 1000


class BulkExpungeContentsIn(Model):
    ids: list[str] = Field(default_factory=list, max_length=MAX_IDS)


class BulkExpungeContentsOut(Model):
    results: dict[str, Literal["expunged", "not-found"]]


async def bulk_expunge(rt: Runtime, app_key: str, keys: list[str]) -> BulkExpungeContentsOut:
    """Expunge the messages named by id or eventId; each key is answered `expunged` or `not-found`."""
    app = await require_app(rt.db, app_key)
    wanted = list(dict.fromkeys(keys))
    rows = await rt.db.fetch("app_messages_by_key", app_id=app.id, keys=wanted) if wanted else []
    found: dict[str, str] = {}
    for row in rows:
        found[row["id"]] = row["id"]
        if row["event_id"] is not None:
            found[row["event_id"]] = row["id"]
    await purge_messages(rt, sorted(set(found.values())))
    return BulkExpungeContentsOut(results={k: "expunged" if k in found else "not-found" for k in wanted})


async def expunge_all(rt: Runtime, app_key: str) -> BackgroundTaskOut:
    """Expunge every message of the application, batch by batch, as a recorded background task."""
    app = await require_app(rt.db, app_key)  # a 404 is not recorded as a task

    async def work() -> dict[str, Any]:
        after, messages = "", 0
        while True:
            rows = await rt.db.fetch("app_message_ids", app_id=app.id, after=after, limit=BATCH)
            if not rows:
                return {"messagesExpunged": messages}
            ids = [r["id"] for r in rows]
            messages += await purge_messages(rt, ids)
            after = ids[-1]

    return await run_task(rt.db, TaskType.APPLICATION_PURGE_CONTENT, work)
