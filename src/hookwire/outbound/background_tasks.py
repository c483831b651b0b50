"""Background tasks: the record of bulk work (recover, replay, bulk replay, statistics, expunges).

Svix answers such requests with a task (`qtask_...`) that the caller looks up later with
`GET /api/v1/background-task/{id}`. hookwire does the work while answering, so a task is
normally `finished` (with its counts in `data`) by the time its ID is returned; it is
recorded as `running` first, so a concurrent listing sees work in progress, and as
`failed` with the reason when the work breaks.

Use `run_task` from any use-case that starts bulk work:

    task = await run_task(rt.db, TaskType.ENDPOINT_RECOVER, lambda: do_the_work())

The work returns its counts as a dict, which becomes the task's `data`. Resolve what the
request names (application, endpoint) before calling, so a 404 is not recorded as a task.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

import orjson
from pydantic import Field

from hookwire.clock import now_ms, to_datetime
from hookwire.errors import ApiError, NotFound
from hookwire.ids import new_id
from hookwire.outbound.models import ListResponse, Model
from hookwire.outbound.pagination import HIGHEST_KEY, check_limit, page
from hookwire.store import Database, Row
from hookwire.store.statuses import TaskStatus

log = logging.getLogger("hookwire.background_tasks")

TASK_PREFIX = "qtask"


class TaskType(StrEnum):
    """Svix's BackgroundTaskType values."""

    ENDPOINT_REPLAY = "endpoint.replay"
    ENDPOINT_RECOVER = "endpoint.recover"
    ENDPOINT_BULK_REPLAY = "endpoint.bulk-replay"
    APPLICATION_STATS = "application.stats"
    EVENT_TYPE_AGGREGATE = "event-type.aggregate"
    APPLICATION_PURGE_CONTENT = "application.purge_content"
    MESSAGE_BROADCAST = "message.broadcast"
    SDK_GENERATE = "sdk.generate"


StatusText = Literal["running", "finished", "failed"]


class BackgroundTaskOut(Model):
    """Svix's BackgroundTaskOut; also serves as ReplayOut, RecoverOut, ExpungeAllContentsOut,
    AggregateEventTypesOut (which are the same without `data`)."""

    id: str
    status: StatusText
    task: TaskType
    updated_at: datetime
    data: dict[str, Any] = Field(default_factory=dict)


def task_out(row: Row) -> BackgroundTaskOut:
    return BackgroundTaskOut(
        id=row["id"],
        status=TaskStatus(row["status"]).name.lower(),  # type: ignore[arg-type]
        task=TaskType(row["task"]),
        updated_at=to_datetime(row["updated_at"]),
        data=orjson.loads(row["data"]),
    )


async def run_task(
    db: Database, task: TaskType, work: Callable[[], Awaitable[dict[str, Any]]]
) -> BackgroundTaskOut:
    """Record the task as running, do the work, and record how it ended.

    A request error raised by the work (an `ApiError`) marks the task failed and is raised
    again, so the caller still answers 4xx; any other exception is a bug in the work: it is
    logged and the task is returned `failed` with a short reason, never a 500 to a client
    that only asked for bulk work to start."""
    task_id = new_id(TASK_PREFIX)
    await db.execute(
        "insert_background_task",
        id=task_id,
        task=task.value,
        status=TaskStatus.RUNNING,
        data="{}",
        now=now_ms(),
    )
    status, data, raise_after = TaskStatus.FINISHED, {}, None
    try:
        data = await work()
    except ApiError as exc:
        status, data, raise_after = TaskStatus.FAILED, {"error": str(exc.detail)}, exc
    except Exception as exc:
        log.exception("background task %s (%s) failed", task_id, task.value)
        status, data = (
            TaskStatus.FAILED,
            {"error": f"{type(exc).__name__}: the work failed; see the server log"},
        )
    await db.execute(
        "finish_background_task", id=task_id, status=status, data=orjson.dumps(data).decode(), now=now_ms()
    )
    if raise_after is not None:
        raise raise_after
    return await get_task(db, task_id)


async def get_task(db: Database, task_id: str) -> BackgroundTaskOut:
    row = await db.fetchrow("get_background_task", id=task_id)
    if row is None:
        raise NotFound(f"background task {task_id!r} not found")
    return task_out(row)


async def list_tasks(
    db: Database,
    *,
    status: StatusText | None,
    task: TaskType | None,
    limit: int | None,
    iterator: str | None,
    descending: bool,
) -> ListResponse:
    """Tasks newest first (Svix's default) or oldest first, optionally of one status or type."""
    n = check_limit(limit)
    status_value = TaskStatus[status.upper()].value if status else None
    if descending:
        rows = await db.fetch(
            "list_background_tasks_desc",
            iterator=iterator or HIGHEST_KEY,
            status=status_value,
            task=task.value if task else None,
            limit=n + 1,
        )
    else:
        rows = await db.fetch(
            "list_background_tasks_asc",
            iterator=iterator or "",
            status=status_value,
            task=task.value if task else None,
            limit=n + 1,
        )
    return page(rows, n, "id", task_out)
