"""/api/v1/background-task: the tasks that bulk operations started, and the Statistics tag."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path
from pydantic import Field
from starlette.responses import Response

from hookwire.api.deps import require_admin
from hookwire.api.json_body import StrictJsonRoute
from hookwire.api.params import Order
from hookwire.api.responses import json_response
from hookwire.outbound import background_tasks, statistics
from hookwire.outbound.background_tasks import BackgroundTaskOut, StatusText, TaskType
from hookwire.outbound.models import UID_PATTERN, ListResponse, Model
from hookwire.runtime import Runtime

router = APIRouter(prefix="/api/v1", route_class=StrictJsonRoute)

_TASK_ID = r"^qtask_[A-Za-z0-9]{27}$"


class AppUsageStatsIn(Model):
    since: datetime
    until: datetime
    app_ids: list[Annotated[str, Field(min_length=1, max_length=256, pattern=UID_PATTERN)]] | None = None

    def keys(self) -> list[str] | None:
        return list(dict.fromkeys(self.app_ids)) if self.app_ids else None


class AppUsageStatsOut(BackgroundTaskOut):
    unresolved_app_ids: list[str]


@router.get("/background-task", response_model=ListResponse, tags=["Background Task"])
async def list_background_tasks(
    rt: Runtime = Depends(require_admin),
    status: StatusText | None = None,
    task: TaskType | None = None,
    limit: int | None = None,
    iterator: str | None = None,
    order: Order = "descending",
) -> Response:
    result = await background_tasks.list_tasks(
        rt.db, status=status, task=task, limit=limit, iterator=iterator, descending=order == "descending"
    )
    return json_response(result)


@router.get("/background-task/{task_id}", response_model=BackgroundTaskOut, tags=["Background Task"])
async def get_background_task(
    task_id: str = Path(pattern=_TASK_ID), rt: Runtime = Depends(require_admin)
) -> Response:
    return json_response(await background_tasks.get_task(rt.db, task_id))


@router.post("/stats/usage/app", response_model=AppUsageStatsOut, status_code=202, tags=["Statistics"])
async def aggregate_app_stats(data: AppUsageStatsIn, rt: Runtime = Depends(require_admin)) -> Response:
    """Messages and attempts per application in [since, until); the result is the task's `data`."""
    task, unresolved = await statistics.app_usage(
        rt, since=data.since, until=data.until, app_keys=data.keys()
    )
    out = AppUsageStatsOut(**task.model_dump(), unresolved_app_ids=unresolved)
    return json_response(out, 202)


@router.put(
    "/stats/usage/event-types", response_model=BackgroundTaskOut, status_code=202, tags=["Statistics"]
)
async def aggregate_event_types(rt: Runtime = Depends(require_admin)) -> Response:
    """Every event type that messages used; the result is the task's `data`."""
    return json_response(await statistics.aggregate_event_types(rt), 202)
