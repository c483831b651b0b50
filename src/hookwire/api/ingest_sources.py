"""/ingest/api/v1/source: Svix Ingest's sources and their endpoints."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from pydantic import Field
from starlette.responses import Response

from hookwire.api.deps import require_admin
from hookwire.api.json_body import StrictJsonRoute
from hookwire.api.params import Order
from hookwire.api.responses import json_response, no_content
from hookwire.ingest import destinations, sources
from hookwire.ingest.models import (
    IngestEndpointIn,
    IngestEndpointOut,
    IngestSourceIn,
    IngestSourceOut,
    RotateTokenOut,
)
from hookwire.outbound import endpoints
from hookwire.outbound.models import (
    EndpointHeadersIn,
    EndpointHeadersOut,
    EndpointSecretOut,
    EndpointSecretRotateIn,
    ListResponse,
    Model,
)
from hookwire.outbound.portal_access import PortalAccessOut
from hookwire.runtime import Runtime

router = APIRouter(prefix="/ingest/api/v1/source", tags=["Ingest Source"], route_class=StrictJsonRoute)


@router.get("", response_model=ListResponse)
async def list_sources(
    rt: Runtime = Depends(require_admin),
    limit: int | None = None,
    iterator: str | None = None,
    order: Order = "ascending",
) -> Response:
    return json_response(
        await sources.list_sources(rt, limit=limit, iterator=iterator, descending=order == "descending")
    )


@router.post("", response_model=IngestSourceOut, status_code=201)
async def create_source(data: IngestSourceIn, rt: Runtime = Depends(require_admin)) -> Response:
    return json_response(await sources.create_source(rt, data), 201)


@router.get("/{source_id}", response_model=IngestSourceOut)
async def get_source(source_id: str, rt: Runtime = Depends(require_admin)) -> Response:
    return json_response(await sources.get_source(rt, source_id))


@router.put("/{source_id}", response_model=IngestSourceOut)
async def upsert_source(
    source_id: str, data: IngestSourceIn, rt: Runtime = Depends(require_admin)
) -> Response:
    result, created = await sources.upsert_source(rt, source_id, data)
    return json_response(result, 201 if created else 200)


@router.delete("/{source_id}", status_code=204)
async def delete_source(source_id: str, rt: Runtime = Depends(require_admin)) -> Response:
    await sources.delete_source(rt, source_id)
    return no_content()


@router.post("/{source_id}/token/rotate", response_model=RotateTokenOut)
async def rotate_token(source_id: str, rt: Runtime = Depends(require_admin)) -> Response:
    return json_response(await sources.rotate_token(rt, source_id))


class SourcePortalAccessIn(Model):
    expiry: int | None = Field(default=None, ge=3600, le=7 * 86400)
    read_only: bool | None = None


@router.post("/{source_id}/dashboard", response_model=PortalAccessOut)
async def dashboard(
    source_id: str, data: SourcePortalAccessIn, rt: Runtime = Depends(require_admin)
) -> Response:
    """A link to this source's request view in the dashboard, with a token for it (Svix's
    consumer-portal-access)."""
    access = await sources.dashboard_access(rt, source_id, expiry=data.expiry, read_only=data.read_only)
    return json_response(access)


@router.get("/{source_id}/endpoint", response_model=ListResponse)
async def list_endpoints(
    source_id: str,
    rt: Runtime = Depends(require_admin),
    limit: int | None = None,
    iterator: str | None = None,
    order: Order = "ascending",
) -> Response:
    app_id = await destinations.source_app(rt, source_id)
    result = await endpoints.list_endpoints(
        rt, app_id, limit=limit, iterator=iterator, descending=order == "descending"
    )
    return json_response(result)


@router.post("/{source_id}/endpoint", response_model=IngestEndpointOut, status_code=201)
async def create_endpoint(
    source_id: str, data: IngestEndpointIn, rt: Runtime = Depends(require_admin)
) -> Response:
    return json_response(await destinations.create_ingest_endpoint(rt, source_id, data), 201)


@router.get("/{source_id}/endpoint/{endpoint_id}", response_model=IngestEndpointOut)
async def get_endpoint(source_id: str, endpoint_id: str, rt: Runtime = Depends(require_admin)) -> Response:
    return json_response(await destinations.get_ingest_endpoint(rt, source_id, endpoint_id))


@router.put("/{source_id}/endpoint/{endpoint_id}", response_model=IngestEndpointOut)
async def upsert_endpoint(
    source_id: str, endpoint_id: str, data: IngestEndpointIn, rt: Runtime = Depends(require_admin)
) -> Response:
    """200 whether it was replaced or created: Svix's document lists no 201 here."""
    result, _ = await destinations.upsert_ingest_endpoint(rt, source_id, endpoint_id, data)
    return json_response(result)


@router.delete("/{source_id}/endpoint/{endpoint_id}", status_code=204)
async def delete_endpoint(source_id: str, endpoint_id: str, rt: Runtime = Depends(require_admin)) -> Response:
    await endpoints.delete_endpoint(rt, await destinations.source_app(rt, source_id), endpoint_id)
    return no_content()


@router.get("/{source_id}/endpoint/{endpoint_id}/secret", response_model=EndpointSecretOut)
async def get_secret(source_id: str, endpoint_id: str, rt: Runtime = Depends(require_admin)) -> Response:
    secret = await endpoints.get_secret(rt, await destinations.source_app(rt, source_id), endpoint_id)
    return json_response(EndpointSecretOut(key=secret))


@router.post("/{source_id}/endpoint/{endpoint_id}/secret/rotate", status_code=204)
async def rotate_secret(
    source_id: str, endpoint_id: str, data: EndpointSecretRotateIn, rt: Runtime = Depends(require_admin)
) -> Response:
    app_id = await destinations.source_app(rt, source_id)
    await endpoints.rotate_secret(
        rt, app_id, endpoint_id, new_secret=data.key, grace_period_seconds=data.grace_period_seconds
    )
    return no_content()


@router.get("/{source_id}/endpoint/{endpoint_id}/headers", response_model=EndpointHeadersOut)
async def get_headers(source_id: str, endpoint_id: str, rt: Runtime = Depends(require_admin)) -> Response:
    return json_response(
        await endpoints.get_headers(rt, await destinations.source_app(rt, source_id), endpoint_id)
    )


@router.put("/{source_id}/endpoint/{endpoint_id}/headers", status_code=204)
async def set_headers(
    source_id: str, endpoint_id: str, data: EndpointHeadersIn, rt: Runtime = Depends(require_admin)
) -> Response:
    app_id = await destinations.source_app(rt, source_id)
    await endpoints.set_headers(rt, app_id, endpoint_id, data.headers, merge=False)
    return no_content()
