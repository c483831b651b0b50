"""The customer portal's JSON API: the Svix endpoint and attempt operations, scoped to one application.

Every route takes its application from the portal token, never from the path, so
another application's IDs are simply not found (404). A capability the token lacks
answers 404 as well. The portal pages use these routes; so can a team's own UI (send
the token as `Authorization: Bearer appsk_...`). See docs/portal.md.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from hookwire.api.json_body import StrictJsonRoute
from hookwire.api.params import Order
from hookwire.api.responses import json_response, no_content
from hookwire.errors import ValidationFailed
from hookwire.outbound import attempts, endpoints, event_types, messages, recovery
from hookwire.outbound.models import (
    EndpointIn,
    EndpointOut,
    EndpointPatch,
    EndpointSecretOut,
    EventExampleIn,
    EventTypeOut,
    ListResponse,
    RecoverIn,
)
from hookwire.outbound.portal_access import Capability, PortalGrant, require
from hookwire.runtime import Runtime
from hookwire.store.statuses import MessageStatus
from hookwire.ui.portal_auth import portal_grant
from hookwire.ui.routing import CsrfRefused


class PortalApiRoute(StrictJsonRoute):
    """JSON routes: a missing CSRF header on a cookie-authenticated write is a JSON 403."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                response = await handler(request)
            except CsrfRefused:
                response = json_response(
                    {
                        "code": "csrf",
                        "detail": "send the X-CSRF-Token header (the page's csrf-token meta tag)",
                    },
                    403,
                )
            response.headers["Cache-Control"] = "no-store"
            return response

        return guarded


router = APIRouter(prefix="/portal/api/v1", tags=["Customer portal (app-scoped)"], route_class=PortalApiRoute)


def _rt(request: Request) -> Runtime:
    rt: Runtime = request.app.state.rt
    return rt


def visible(grant: PortalGrant, event_type: EventTypeOut) -> bool:
    """An event type behind feature flags shows only to tokens holding one of them."""
    if not event_type.feature_flags:
        return True
    return bool(grant.feature_flags and grant.feature_flags & set(event_type.feature_flags))


async def catalogue(rt: Runtime, grant: PortalGrant) -> list[EventTypeOut]:
    listed = await event_types.list_event_types(
        rt, limit=250, iterator=None, descending=False, include_archived=False
    )
    return [t for t in listed.data if visible(grant, t)]


@router.get("/event-type", response_model=ListResponse)
async def list_event_types(request: Request, grant: PortalGrant = Depends(portal_grant)) -> Response:
    shown = await catalogue(_rt(request), grant)
    return json_response(ListResponse(data=shown, done=True, iterator=None))


@router.get("/endpoint", response_model=ListResponse)
async def list_endpoints(
    request: Request,
    grant: PortalGrant = Depends(portal_grant),
    limit: int | None = None,
    iterator: str | None = None,
    order: Order = "ascending",
) -> Response:
    listed = await endpoints.list_endpoints(
        _rt(request), grant.app_id, limit=limit, iterator=iterator, descending=order == "descending"
    )
    return json_response(listed)


@router.post("/endpoint", response_model=EndpointOut, status_code=201)
async def create_endpoint(
    request: Request, data: EndpointIn, grant: PortalGrant = Depends(portal_grant)
) -> Response:
    require(grant, Capability.MANAGE_ENDPOINT)
    if data.secret is not None:
        raise ValidationFailed.field(["secret"], "the portal makes the secret itself")
    return json_response(await endpoints.create_endpoint(_rt(request), grant.app_id, data), 201)


@router.get("/endpoint/{endpoint_id}", response_model=EndpointOut)
async def get_endpoint(
    request: Request, endpoint_id: str, grant: PortalGrant = Depends(portal_grant)
) -> Response:
    return json_response(await endpoints.get_endpoint(_rt(request), grant.app_id, endpoint_id))


@router.patch("/endpoint/{endpoint_id}", response_model=EndpointOut)
async def patch_endpoint(
    request: Request, endpoint_id: str, patch: EndpointPatch, grant: PortalGrant = Depends(portal_grant)
) -> Response:
    require(grant, Capability.MANAGE_ENDPOINT)
    return json_response(await endpoints.patch_endpoint(_rt(request), grant.app_id, endpoint_id, patch))


@router.delete("/endpoint/{endpoint_id}", status_code=204)
async def delete_endpoint(
    request: Request, endpoint_id: str, grant: PortalGrant = Depends(portal_grant)
) -> Response:
    require(grant, Capability.MANAGE_ENDPOINT)
    await endpoints.delete_endpoint(_rt(request), grant.app_id, endpoint_id)
    return no_content()


@router.get("/endpoint/{endpoint_id}/secret", response_model=EndpointSecretOut)
async def get_secret(
    request: Request, endpoint_id: str, grant: PortalGrant = Depends(portal_grant)
) -> Response:
    require(grant, Capability.VIEW_ENDPOINT_SECRET)
    return json_response(
        EndpointSecretOut(key=await endpoints.get_secret(_rt(request), grant.app_id, endpoint_id))
    )


@router.post("/endpoint/{endpoint_id}/secret/rotate", status_code=204)
async def rotate_secret(
    request: Request, endpoint_id: str, grant: PortalGrant = Depends(portal_grant)
) -> Response:
    require(grant, Capability.MANAGE_ENDPOINT_SECRET)
    await endpoints.rotate_secret(
        _rt(request), grant.app_id, endpoint_id, new_secret=None, grace_period_seconds=None
    )
    return no_content()


@router.post("/endpoint/{endpoint_id}/send-example")
async def send_example(
    request: Request, endpoint_id: str, data: EventExampleIn, grant: PortalGrant = Depends(portal_grant)
) -> Response:
    require(grant, Capability.CREATE_ATTEMPTS)
    rt = _rt(request)
    if data.event_type not in {t.name for t in await catalogue(rt, grant)}:
        raise ValidationFailed.field(
            ["eventType"], f"event type {data.event_type!r} is not in your catalogue"
        )
    return json_response(await endpoints.send_example(rt, grant.app_id, endpoint_id, data), 202)


@router.post("/endpoint/{endpoint_id}/recover", status_code=202)
async def recover(
    request: Request, endpoint_id: str, data: RecoverIn, grant: PortalGrant = Depends(portal_grant)
) -> Response:
    require(grant, Capability.CREATE_ATTEMPTS)
    task = await recovery.recover(_rt(request), grant.app_id, endpoint_id, since=data.since, until=data.until)
    return json_response(task, 202)


@router.post("/endpoint/{endpoint_id}/replay-missing", status_code=202)
async def replay_missing(
    request: Request, endpoint_id: str, data: RecoverIn, grant: PortalGrant = Depends(portal_grant)
) -> Response:
    require(grant, Capability.CREATE_ATTEMPTS)
    task = await recovery.replay_missing(
        _rt(request), grant.app_id, endpoint_id, since=data.since, until=data.until
    )
    return json_response(task, 202)


@router.get("/endpoint/{endpoint_id}/attempt", response_model=ListResponse)
async def list_attempts(
    request: Request,
    endpoint_id: str,
    grant: PortalGrant = Depends(portal_grant),
    limit: int | None = None,
    iterator: str | None = None,
    status: MessageStatus | None = None,
) -> Response:
    listed = await attempts.list_by_endpoint(
        _rt(request), grant.app_id, endpoint_id, limit=limit, iterator=iterator, status=status
    )
    return json_response(listed)


@router.get("/msg/{msg_id}")
async def get_message(request: Request, msg_id: str, grant: PortalGrant = Depends(portal_grant)) -> Response:
    return json_response(await messages.get_message(_rt(request), grant.app_id, msg_id))


@router.get("/msg/{msg_id}/attempt/{attempt_id}")
async def get_attempt(
    request: Request, msg_id: str, attempt_id: str, grant: PortalGrant = Depends(portal_grant)
) -> Response:
    row = await attempts.get_attempt(_rt(request), grant.app_id, msg_id, attempt_id)
    return json_response(attempts.attempt_detail(row))


@router.post("/msg/{msg_id}/endpoint/{endpoint_id}/resend", status_code=202)
async def resend(
    request: Request, msg_id: str, endpoint_id: str, grant: PortalGrant = Depends(portal_grant)
) -> Response:
    require(grant, Capability.CREATE_ATTEMPTS)
    await attempts.resend(_rt(request), grant.app_id, msg_id, endpoint_id)
    return json_response({}, 202)
