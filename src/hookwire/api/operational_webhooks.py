"""/api/v1/operational-webhook/endpoint: the operator's endpoints for hookwire's own events
(Svix's "Webhook Endpoint" tag)."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from starlette.responses import Response

from hookwire.api.deps import require_admin
from hookwire.api.json_body import StrictJsonRoute
from hookwire.api.params import Order
from hookwire.api.responses import json_response, no_content
from hookwire.operations import operational_endpoints as op
from hookwire.outbound.models import (
    EndpointHeadersIn,
    EndpointHeadersOut,
    EndpointIn,
    EndpointSecretOut,
    EndpointSecretRotateIn,
    ListResponse,
)
from hookwire.runtime import Runtime

router = APIRouter(
    prefix="/api/v1/operational-webhook/endpoint", tags=["Webhook Endpoint"], route_class=StrictJsonRoute
)


@router.get("", response_model=ListResponse)
async def list_operational_webhook_endpoints(
    rt: Runtime = Depends(require_admin),
    limit: int | None = None,
    iterator: str | None = None,
    order: Order = "ascending",
) -> Response:
    result = await op.list_all(rt, limit=limit, iterator=iterator, descending=order == "descending")
    return json_response(result)


@router.post("", response_model=op.OperationalEndpointOut, status_code=201)
async def create_operational_webhook_endpoint(
    data: EndpointIn, rt: Runtime = Depends(require_admin)
) -> Response:
    return json_response(await op.create(rt, data), 201)


@router.get("/{endpoint_id}", response_model=op.OperationalEndpointOut)
async def get_operational_webhook_endpoint(
    endpoint_id: str, rt: Runtime = Depends(require_admin)
) -> Response:
    return json_response(await op.get(rt, endpoint_id))


@router.put("/{endpoint_id}", response_model=op.OperationalEndpointOut)
async def upsert_operational_webhook_endpoint(
    endpoint_id: str, data: EndpointIn, rt: Runtime = Depends(require_admin)
) -> Response:
    result, _ = await op.upsert(rt, endpoint_id, data)
    return json_response(result)  # Svix answers 200 whether it created or replaced


@router.delete("/{endpoint_id}", status_code=204)
async def delete_operational_webhook_endpoint(
    endpoint_id: str, rt: Runtime = Depends(require_admin)
) -> Response:
    await op.delete(rt, endpoint_id)
    return no_content()


@router.get("/{endpoint_id}/secret", response_model=EndpointSecretOut)
async def get_operational_webhook_endpoint_secret(
    endpoint_id: str, rt: Runtime = Depends(require_admin)
) -> Response:
    return json_response(EndpointSecretOut(key=await op.get_secret(rt, endpoint_id)))


@router.post("/{endpoint_id}/secret/rotate", status_code=204)
async def rotate_operational_webhook_endpoint_secret(
    endpoint_id: str, data: EndpointSecretRotateIn, rt: Runtime = Depends(require_admin)
) -> Response:
    await op.rotate_secret(
        rt, endpoint_id, new_secret=data.key, grace_period_seconds=data.grace_period_seconds
    )
    return no_content()


@router.get("/{endpoint_id}/headers", response_model=EndpointHeadersOut)
async def get_operational_webhook_endpoint_headers(
    endpoint_id: str, rt: Runtime = Depends(require_admin)
) -> Response:
    return json_response(await op.get_headers(rt, endpoint_id))


@router.put("/{endpoint_id}/headers", status_code=204)
async def update_operational_webhook_endpoint_headers(
    endpoint_id: str, data: EndpointHeadersIn, rt: Runtime = Depends(require_admin)
) -> Response:
    await op.set_headers(rt, endpoint_id, data.headers)
    return no_content()
