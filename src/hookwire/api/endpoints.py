"""/api/v1/app/{app}/endpoint: endpoints, their secrets, headers, stats and recovery."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, Header
from starlette.responses import Response

from hookwire.api.deps import require_admin
from hookwire.api.json_body import StrictJsonRoute
from hookwire.api.params import Order
from hookwire.api.responses import json_response, no_content
from hookwire.outbound import endpoints, recovery
from hookwire.outbound.background_tasks import BackgroundTaskOut
from hookwire.outbound.models import (
    BulkReplayIn,
    EndpointHeadersIn,
    EndpointHeadersOut,
    EndpointHeadersPatchIn,
    EndpointIn,
    EndpointOut,
    EndpointPatch,
    EndpointSecretOut,
    EndpointSecretRotateIn,
    EndpointStats,
    EventExampleIn,
    ListResponse,
    MessageOut,
    RecoverIn,
)
from hookwire.runtime import Runtime

router = APIRouter(prefix="/api/v1/app/{app_id}/endpoint", tags=["Endpoint"], route_class=StrictJsonRoute)


@router.get("", response_model=ListResponse)
async def list_endpoints(
    app_id: str,
    rt: Runtime = Depends(require_admin),
    limit: int | None = None,
    iterator: str | None = None,
    order: Order = "ascending",
) -> Response:
    result = await endpoints.list_endpoints(
        rt, app_id, limit=limit, iterator=iterator, descending=order == "descending"
    )
    return json_response(result)


@router.post("", response_model=EndpointOut, status_code=201)
async def create_endpoint(app_id: str, data: EndpointIn, rt: Runtime = Depends(require_admin)) -> Response:
    return json_response(await endpoints.create_endpoint(rt, app_id, data), 201)


@router.get("/{endpoint_id}", response_model=EndpointOut)
async def get_endpoint(app_id: str, endpoint_id: str, rt: Runtime = Depends(require_admin)) -> Response:
    return json_response(await endpoints.get_endpoint(rt, app_id, endpoint_id))


@router.put("/{endpoint_id}", response_model=EndpointOut)
async def upsert_endpoint(
    app_id: str, endpoint_id: str, data: EndpointIn, rt: Runtime = Depends(require_admin)
) -> Response:
    result, created = await endpoints.upsert_endpoint(rt, app_id, endpoint_id, data)
    return json_response(result, 201 if created else 200)


@router.patch("/{endpoint_id}", response_model=EndpointOut)
async def patch_endpoint(
    app_id: str, endpoint_id: str, patch: EndpointPatch, rt: Runtime = Depends(require_admin)
) -> Response:
    return json_response(await endpoints.patch_endpoint(rt, app_id, endpoint_id, patch))


@router.delete("/{endpoint_id}", status_code=204)
async def delete_endpoint(app_id: str, endpoint_id: str, rt: Runtime = Depends(require_admin)) -> Response:
    await endpoints.delete_endpoint(rt, app_id, endpoint_id)
    return no_content()


@router.get("/{endpoint_id}/secret", response_model=EndpointSecretOut)
async def get_secret(app_id: str, endpoint_id: str, rt: Runtime = Depends(require_admin)) -> Response:
    return json_response(EndpointSecretOut(key=await endpoints.get_secret(rt, app_id, endpoint_id)))


def _expects_rotated_key(user_agent: str | None) -> bool:
    """The 2.x generation of the official SDKs (`svix-libs/2.…`) parses the new key from the
    answer to a rotation; Svix's current document answers 204 with no body. Both work: the
    key for the clients that read it, 204 for everyone else."""
    return (user_agent or "").startswith("svix-libs/2.")


@router.post("/{endpoint_id}/secret/rotate", status_code=204)
async def rotate_secret(
    app_id: str,
    endpoint_id: str,
    data: EndpointSecretRotateIn,
    rt: Runtime = Depends(require_admin),
    user_agent: str | None = Header(default=None, include_in_schema=False),
) -> Response:
    """204 as in Svix's document (`GET …/secret` shows the new key); see `_expects_rotated_key`."""
    secret = await endpoints.rotate_secret(
        rt, app_id, endpoint_id, new_secret=data.key, grace_period_seconds=data.grace_period_seconds
    )
    if _expects_rotated_key(user_agent):
        return json_response(EndpointSecretOut(key=secret))
    return no_content()


@router.get("/{endpoint_id}/headers", response_model=EndpointHeadersOut)
async def get_headers(app_id: str, endpoint_id: str, rt: Runtime = Depends(require_admin)) -> Response:
    return json_response(await endpoints.get_headers(rt, app_id, endpoint_id))


@router.put("/{endpoint_id}/headers", status_code=204)
async def set_headers(
    app_id: str, endpoint_id: str, data: EndpointHeadersIn, rt: Runtime = Depends(require_admin)
) -> Response:
    await endpoints.set_headers(rt, app_id, endpoint_id, data.headers, merge=False)
    return no_content()


@router.patch("/{endpoint_id}/headers", status_code=204)
async def patch_headers(
    app_id: str, endpoint_id: str, data: EndpointHeadersPatchIn, rt: Runtime = Depends(require_admin)
) -> Response:
    given = {name: value for name, value in data.headers.items() if value is not None}
    removed = [name for name, value in data.headers.items() if value is None] + (data.delete_headers or [])
    await endpoints.set_headers(rt, app_id, endpoint_id, given, merge=True, delete=removed)
    return no_content()


@router.get("/{endpoint_id}/stats", response_model=EndpointStats)
async def get_stats(
    app_id: str,
    endpoint_id: str,
    rt: Runtime = Depends(require_admin),
    since: datetime | None = None,
    until: datetime | None = None,
) -> Response:
    return json_response(await recovery.endpoint_stats(rt, app_id, endpoint_id, since=since, until=until))


@router.post("/{endpoint_id}/recover", response_model=BackgroundTaskOut, status_code=202)
async def recover(
    app_id: str, endpoint_id: str, data: RecoverIn, rt: Runtime = Depends(require_admin)
) -> Response:
    task = await recovery.recover(rt, app_id, endpoint_id, since=data.since, until=data.until)
    return json_response(task, 202)


@router.post("/{endpoint_id}/replay-missing", response_model=BackgroundTaskOut, status_code=202)
async def replay_missing(
    app_id: str, endpoint_id: str, data: RecoverIn, rt: Runtime = Depends(require_admin)
) -> Response:
    task = await recovery.replay_missing(rt, app_id, endpoint_id, since=data.since, until=data.until)
    return json_response(task, 202)


@router.post("/{endpoint_id}/bulk-replay", response_model=BackgroundTaskOut, status_code=202)
async def bulk_replay(
    app_id: str, endpoint_id: str, data: BulkReplayIn, rt: Runtime = Depends(require_admin)
) -> Response:
    """Send again the messages of the period that match the filters; the task counts them."""
    return json_response(await recovery.bulk_replay(rt, app_id, endpoint_id, data), 202)


@router.post("/{endpoint_id}/send-example", response_model=MessageOut, status_code=202)
async def send_example(
    app_id: str, endpoint_id: str, data: EventExampleIn, rt: Runtime = Depends(require_admin)
) -> Response:
    """Send an example message of the event type to this endpoint only."""
    return json_response(await endpoints.send_example(rt, app_id, endpoint_id, data), 202)
