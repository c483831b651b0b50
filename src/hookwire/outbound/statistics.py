"""Svix's Statistics tag: usage per application and the event types in use, as background tasks.

Both are computed while answering, from the messages and attempts tables, and the
result is the task's `data` (look it up with `GET /api/v1/background-task/{id}`):

* `application.stats`: for each application, the messages created and the delivery
  attempts made in [since, until);
* `event-type.aggregate`: every event type name that messages have used, with whether it
  is declared (`/api/v1/event-type`) or only seen in messages.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from hookwire.clock import to_ms
from hookwire.errors import ValidationFailed
from hookwire.outbound.applications import find_app
from hookwire.outbound.background_tasks import BackgroundTaskOut, TaskType, run_task
from hookwire.runtime import Runtime


async def app_usage(
    rt: Runtime, *, since: datetime, until: datetime, app_keys: list[str] | None
) -> tuple[BackgroundTaskOut, list[str]]:
    """The task and the requested app IDs/uids that were not found (Svix's `unresolvedAppIds`)."""
    app_ids: list[str] | None = None
    unresolved: list[str] = []
    if app_keys:
        app_ids = []
        for key in app_keys:
            row = await find_app(rt.db, key)
            if row is None:
                unresolved.append(key)
            else:
                app_ids.append(row.id)
        if not app_ids:
            raise ValidationFailed.field(["appIds"], "none of the given application IDs or uids exist")

    async def work() -> dict[str, Any]:
        params = {"since": to_ms(since), "until": to_ms(until), "all_apps": 0 if app_ids else 1}
        messages = await rt.db.fetch("count_messages_per_app", **params, app_ids=app_ids or [])
        attempts = await rt.db.fetch("count_attempts_per_app", **params, app_ids=app_ids or [])
        usage: dict[str, dict[str, Any]] = {}
        for row in messages:
            usage.setdefault(row["app_id"], {"appId": row["app_id"], "messages": 0, "attempts": 0})
            usage[row["app_id"]]["messages"] = row["n"]
        for row in attempts:
            usage.setdefault(row["app_id"], {"appId": row["app_id"], "messages": 0, "attempts": 0})
            usage[row["app_id"]]["attempts"] = row["n"]
        return {
            "since": since.isoformat(),
            "until": until.isoformat(),
            "apps": [usage[key] for key in sorted(usage)],
        }

    return await run_task(rt.db, TaskType.APPLICATION_STATS, work), unresolved


async def aggregate_event_types(rt: Runtime) -> BackgroundTaskOut:
    async def work() -> dict[str, Any]:
        used = [row["event_type"] for row in await rt.db.fetch("distinct_message_event_types")]
        declared = {row["name"] for row in await rt.db.fetch("all_event_type_names")}
        return {
            "eventTypes": [{"name": name, "declared": name in declared} for name in sorted(used)],
        }

    return await run_task(rt.db, TaskType.EVENT_TYPE_AGGREGATE, work)
