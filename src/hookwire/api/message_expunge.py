"""/api/v1/app/{app}/msg/bulk-expunge and /expunge-all-contents: drop message contents on request."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from starlette.responses import Response

from hookwire.api.deps import require_admin
from hookwire.api.json_body import StrictJsonRoute
from hookwire.api.responses import json_response
from hookwire.operations import expunge
from hookwire.outbound.background_tasks import BackgroundTaskOut
from hookwire.runtime import Runtime

router = APIRouter(prefix="/api/v1/app/{app_id}/msg", tags=["Message"], route_class=StrictJsonRoute)


@router.post("/bulk-expunge", response_model=expunge.BulkExpungeContentsOut)
async def bulk_expunge_content(
    app_id: str, data: expunge.BulkExpungeContentsIn, rt: Runtime = Depends(require_admin)
) -> Response:
    """Delete the payloads (and attempt response bodies) of the messages given by id or eventId."""
    return json_response(await expunge.bulk_expunge(rt, app_id, data.ids))


@router.post("/expunge-all-contents", response_model=BackgroundTaskOut, status_code=202)
async def expunge_all_contents(app_id: str, rt: Runtime = Depends(require_admin)) -> Response:
    """Delete the payloads of every message of the application (an `application.purge_content` task)."""
    return json_response(await expunge.expunge_all(rt, app_id), 202)
