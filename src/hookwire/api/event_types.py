"""/api/v1/event-type: the event type catalogue."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from starlette.responses import Response

from hookwire.api.deps import require_admin
from hookwire.api.json_body import StrictJsonRoute
from hookwire.api.params import Order
from hookwire.api.responses import json_response, no_content
from hookwire.outbound import event_types
from hookwire.outbound.models import EventTypeIn, EventTypeOut, EventTypePatch, ListResponse
from hookwire.runtime import Runtime

router = APIRouter(prefix="/api/v1/event-type", tags=["Event Type"], route_class=StrictJsonRoute)


@router.get("", response_model=ListResponse)
async def list_event_types(
    rt: Runtime = Depends(require_admin),
    limit: int | None = None,
    iterator: str | None = None,
    order: Order = "ascending",
    include_archived: bool = False,
    with_content: bool = True,
) -> Response:
    result = await event_types.list_event_types(
        rt,
        limit=limit,
        iterator=iterator,
        descending=order == "descending",
        include_archived=include_archived,
    )
    return json_response(result)


@router.post("", response_model=EventTypeOut, status_code=201)
async def create_event_type(data: EventTypeIn, rt: Runtime = Depends(require_admin)) -> Response:
    return json_response(await event_types.create_event_type(rt, data), 201)


@router.get("/{name}", response_model=EventTypeOut)
async def get_event_type(name: str, rt: Runtime = Depends(require_admin)) -> Response:
    return json_response(await event_types.get_event_type(rt, name))


@router.put("/{name}", response_model=EventTypeOut)
async def upsert_event_type(
    name: str, data: EventTypePatch, rt: Runtime = Depends(require_admin)
) -> Response:
    result, created = await event_types.upsert_event_type(rt, name, data)
    return json_response(result, 201 if created else 200)


@router.patch("/{name}", response_model=EventTypeOut)
async def patch_event_type(
    name: str, patch: EventTypePatch, rt: Runtime = Depends(require_admin)
) -> Response:
    return json_response(await event_types.patch_event_type(rt, name, patch))


@router.delete("/{name}", status_code=204)
async def delete_event_type(
    name: str, rt: Runtime = Depends(require_admin), expunge: bool = False
) -> Response:
    await event_types.delete_event_type(rt, name, expunge=expunge)
    return no_content()
