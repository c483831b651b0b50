"""/api/v1/app: applications."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query
from starlette.responses import Response

from hookwire.api.deps import require_admin
from hookwire.api.json_body import StrictJsonRoute
from hookwire.api.params import Order
from hookwire.api.responses import json_response, no_content
from hookwire.outbound import applications
from hookwire.outbound.models import ApplicationIn, ApplicationOut, ApplicationPatch, ListResponse
from hookwire.runtime import Runtime

router = APIRouter(prefix="/api/v1/app", tags=["Application"], route_class=StrictJsonRoute)


@router.get("", response_model=ListResponse)
async def list_apps(
    rt: Runtime = Depends(require_admin),
    limit: int | None = None,
    iterator: str | None = None,
    order: Order = "ascending",
) -> Response:
    result = await applications.list_apps(
        rt, limit=limit, iterator=iterator, descending=order == "descending"
    )
    return json_response(result)


@router.post("", response_model=ApplicationOut, status_code=201)
async def create_app(
    data: ApplicationIn, rt: Runtime = Depends(require_admin), get_if_exists: bool = Query(False)
) -> Response:
    app, created = await applications.create_app(rt, data, get_if_exists=get_if_exists)
    return json_response(app, 201 if created else 200)


@router.get("/{app_id}", response_model=ApplicationOut)
async def get_app(app_id: str, rt: Runtime = Depends(require_admin)) -> Response:
    return json_response(await applications.get_app(rt, app_id))


@router.put("/{app_id}", response_model=ApplicationOut)
async def upsert_app(app_id: str, data: ApplicationIn, rt: Runtime = Depends(require_admin)) -> Response:
    app, created = await applications.upsert_app(rt, app_id, data)
    return json_response(app, 201 if created else 200)


@router.patch("/{app_id}", response_model=ApplicationOut)
async def patch_app(app_id: str, patch: ApplicationPatch, rt: Runtime = Depends(require_admin)) -> Response:
    return json_response(await applications.patch_app(rt, app_id, patch))


@router.delete("/{app_id}", status_code=204)
async def delete_app(app_id: str, rt: Runtime = Depends(require_admin)) -> Response:
    await applications.delete_app(rt, app_id)
    return no_content()
