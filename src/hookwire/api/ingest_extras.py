"""hookwire's additions to ingest — captured requests and application routes — under Svix's
`/ingest/api/v1/source/{source_id}/...`, the one ingest prefix.

They once lived under `/api/v1/ingest/source/...` too. That prefix now answers 308 Permanent
Redirect to the same path here (method and body kept), rather than 404: scripts written
against it keep working, while the OpenAPI document and the docs name only one path."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from starlette.responses import RedirectResponse, Response

from hookwire.api.deps import require_admin
from hookwire.api.json_body import StrictJsonRoute
from hookwire.api.responses import json_response, no_content
from hookwire.ingest import destinations, replay, requests
from hookwire.ingest.models import AppRouteIn, AppRouteOut, InboundRequestOut
from hookwire.outbound.models import ListResponse
from hookwire.runtime import Runtime

router = APIRouter(
    prefix="/ingest/api/v1/source/{source_id}", tags=["Ingest (hookwire)"], route_class=StrictJsonRoute
)
OLD_PREFIX = "/api/v1/ingest/source/"
NEW_PREFIX = "/ingest/api/v1/source/"
old_prefix_router = APIRouter(route_class=StrictJsonRoute)


@old_prefix_router.api_route(
    OLD_PREFIX + "{rest:path}",
    methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
    include_in_schema=False,
)
async def moved(rest: str, request: Request) -> Response:
    """The old prefix: 308 to the canonical path (keeps the method and the body)."""
    query = request.url.query
    return RedirectResponse(NEW_PREFIX + rest + (f"?{query}" if query else ""), status_code=308)


@router.get("/request", response_model=ListResponse)
async def list_requests(
    source_id: str,
    rt: Runtime = Depends(require_admin),
    limit: int | None = None,
    iterator: str | None = None,
    status: str | None = None,
) -> Response:
    """Every request the source captured, newest first (the request bin)."""
    return json_response(
        await requests.list_requests(rt, source_id, limit=limit, iterator=iterator, status=status)
    )


@router.get("/request/{request_id}", response_model=InboundRequestOut)
async def get_request(source_id: str, request_id: str, rt: Runtime = Depends(require_admin)) -> Response:
    return json_response(await requests.get_request(rt, source_id, request_id))


@router.get("/app-route", response_model=list[AppRouteOut])
async def list_app_routes(source_id: str, rt: Runtime = Depends(require_admin)) -> Response:
    routes = await destinations.list_app_routes(rt, source_id)
    return json_response([r.model_dump(by_alias=True, mode="json") for r in routes])


@router.post("/app-route", response_model=AppRouteOut, status_code=201)
async def create_app_route(
    source_id: str, data: AppRouteIn, rt: Runtime = Depends(require_admin)
) -> Response:
    """Turn the source's accepted events into messages of an outbound application."""
    return json_response(await destinations.create_app_route(rt, source_id, data), 201)


@router.delete("/app-route/{route_id}", status_code=204)
async def delete_app_route(source_id: str, route_id: str, rt: Runtime = Depends(require_admin)) -> Response:
    await destinations.delete_app_route(rt, source_id, route_id)
    return no_content()


@router.post("/request/{request_id}/replay", response_model=replay.ReplayOut)
async def replay_request(
    source_id: str, request_id: str, data: replay.ReplayIn, rt: Runtime = Depends(require_admin)
) -> Response:
    """Send a captured request once more, as it came in, to another URL (the SSRF guard applies)."""
    return json_response(await replay.replay_request(rt, source_id, request_id, data))
