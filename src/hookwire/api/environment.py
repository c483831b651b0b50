"""/api/v1/environment/export and /import, and event types from an OpenAPI document."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from starlette.responses import Response

from hookwire.api.deps import require_admin
from hookwire.api.json_body import StrictJsonRoute
from hookwire.api.responses import json_response, no_content
from hookwire.outbound import environment, event_type_import
from hookwire.outbound.environment import EnvironmentIn, EnvironmentOut
from hookwire.outbound.event_type_import import EventTypeImportOpenApiIn, EventTypeImportOpenApiOut
from hookwire.runtime import Runtime

router = APIRouter(prefix="/api/v1", route_class=StrictJsonRoute)


@router.post("/environment/export", response_model=EnvironmentOut, tags=["Environment"])
async def export_environment(rt: Runtime = Depends(require_admin)) -> Response:
    """This installation's event types, to import into another one."""
    return json_response(await environment.export_environment(rt))


@router.post("/environment/import", status_code=204, tags=["Environment"])
async def import_environment(data: EnvironmentIn, rt: Runtime = Depends(require_admin)) -> Response:
    """Create or update the exported event types by name; importing twice changes nothing."""
    await environment.import_environment(rt, data)
    return no_content()


@router.post("/event-type/import/openapi", response_model=EventTypeImportOpenApiOut, tags=["Event Type"])
async def import_openapi(data: EventTypeImportOpenApiIn, rt: Runtime = Depends(require_admin)) -> Response:
    """Event types from the `webhooks` of an OpenAPI document (`spec`, or `specRaw` as YAML/JSON)."""
    result = await event_type_import.import_openapi(rt, data)
    return Response(
        result.model_dump_json(by_alias=True, exclude_none=True).encode(), media_type="application/json"
    )
