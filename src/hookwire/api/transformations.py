"""An endpoint's JavaScript transformation: /api/v1/app/{app}/endpoint/{ep}/transformation, and the
same for an ingest endpoint under /ingest/api/v1/source/{src}/endpoint/{ep}/transformation."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from starlette.responses import Response

from hookwire.api.deps import require_admin
from hookwire.api.json_body import StrictJsonRoute
from hookwire.api.responses import json_response, no_content
from hookwire.ingest import destinations
from hookwire.outbound import endpoint_transformations as transformation
from hookwire.outbound.endpoint_transformations import (
    EndpointTransformationOut,
    EndpointTransformationPatch,
    TransformationSimulateIn,
    TransformationSimulateOut,
)
from hookwire.runtime import Runtime

router = APIRouter(
    prefix="/api/v1/app/{app_id}/endpoint/{endpoint_id}/transformation",
    tags=["Endpoint"],
    route_class=StrictJsonRoute,
)


@router.get("", response_model=EndpointTransformationOut)
async def get_transformation(app_id: str, endpoint_id: str, rt: Runtime = Depends(require_admin)) -> Response:
    return json_response(await transformation.get_transformation(rt, app_id, endpoint_id))


@router.patch("", status_code=204)
async def patch_transformation(
    app_id: str, endpoint_id: str, data: EndpointTransformationPatch, rt: Runtime = Depends(require_admin)
) -> Response:
    await transformation.patch_transformation(rt, app_id, endpoint_id, data)
    return no_content()


@router.post("/simulate", response_model=TransformationSimulateOut)
async def simulate(
    app_id: str, endpoint_id: str, data: TransformationSimulateIn, rt: Runtime = Depends(require_admin)
) -> Response:
    """Run the code on the payload as a delivery would; 422 with the reason when it fails."""
    return json_response(await transformation.simulate(rt, app_id, endpoint_id, data))


ingest_router = APIRouter(
    prefix="/ingest/api/v1/source/{source_id}/endpoint/{endpoint_id}/transformation",
    tags=["Ingest Endpoint"],
    route_class=StrictJsonRoute,
)


@ingest_router.get("", response_model=EndpointTransformationOut)
async def get_ingest_transformation(
    source_id: str, endpoint_id: str, rt: Runtime = Depends(require_admin)
) -> Response:
    """An ingest endpoint's JavaScript transformation (it runs on the forwarded request's JSON body)."""
    app_id = await destinations.source_app(rt, source_id)
    return json_response(await transformation.get_transformation(rt, app_id, endpoint_id))


@ingest_router.patch("", status_code=204)
async def patch_ingest_transformation(
    source_id: str, endpoint_id: str, data: EndpointTransformationPatch, rt: Runtime = Depends(require_admin)
) -> Response:
    app_id = await destinations.source_app(rt, source_id)
    await transformation.patch_transformation(rt, app_id, endpoint_id, data)
    return no_content()
