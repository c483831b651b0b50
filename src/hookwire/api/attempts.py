"""Attempts: by message, by endpoint, attempted messages and destinations, resend."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from starlette.responses import Response

from hookwire.api.deps import require_admin
from hookwire.api.json_body import StrictJsonRoute
from hookwire.api.params import MessageStatusParam
from hookwire.api.responses import json_response, no_content
from hookwire.outbound import attempts
from hookwire.outbound.models import ListResponse, MessageAttemptOut
from hookwire.runtime import Runtime

router = APIRouter(prefix="/api/v1/app/{app_id}", tags=["Message Attempt"], route_class=StrictJsonRoute)


@router.get("/attempt/msg/{msg_id}", response_model=ListResponse)
async def list_by_msg(
    app_id: str,
    msg_id: str,
    rt: Runtime = Depends(require_admin),
    limit: int | None = None,
    iterator: str | None = None,
    status: MessageStatusParam | None = None,
    endpoint_id: str | None = None,
) -> Response:
    result = await attempts.list_by_msg(
        rt, app_id, msg_id, limit=limit, iterator=iterator, endpoint_id=endpoint_id, status=status
    )
    return json_response(result)


@router.get("/attempt/endpoint/{endpoint_id}", response_model=ListResponse)
async def list_by_endpoint(
    app_id: str,
    endpoint_id: str,
    rt: Runtime = Depends(require_admin),
    limit: int | None = None,
    iterator: str | None = None,
    status: MessageStatusParam | None = None,
) -> Response:
    result = await attempts.list_by_endpoint(
        rt, app_id, endpoint_id, limit=limit, iterator=iterator, status=status
    )
    return json_response(result)


@router.get("/endpoint/{endpoint_id}/msg", response_model=ListResponse)
async def list_attempted_messages(
    app_id: str,
    endpoint_id: str,
    rt: Runtime = Depends(require_admin),
    limit: int | None = None,
    iterator: str | None = None,
    status: MessageStatusParam | None = None,
) -> Response:
    result = await attempts.list_attempted_messages(
        rt, app_id, endpoint_id, limit=limit, iterator=iterator, status=status
    )
    return json_response(result)


@router.get("/msg/{msg_id}/endpoint", response_model=ListResponse)
async def list_attempted_destinations(
    app_id: str,
    msg_id: str,
    rt: Runtime = Depends(require_admin),
    limit: int | None = None,
    iterator: str | None = None,
) -> Response:
    result = await attempts.list_attempted_destinations(rt, app_id, msg_id, limit=limit, iterator=iterator)
    return json_response(result)


@router.get("/msg/{msg_id}/attempt/{attempt_id}", response_model=MessageAttemptOut)
async def get_attempt(
    app_id: str, msg_id: str, attempt_id: str, rt: Runtime = Depends(require_admin)
) -> Response:
    row = await attempts.get_attempt(rt, app_id, msg_id, attempt_id)
    return json_response(attempts.attempt_out(row))


@router.delete("/msg/{msg_id}/attempt/{attempt_id}/content", status_code=204)
async def expunge_attempt_content(
    app_id: str, msg_id: str, attempt_id: str, rt: Runtime = Depends(require_admin)
) -> Response:
    await attempts.expunge_attempt_content(rt, app_id, msg_id, attempt_id)
    return no_content()


@router.post("/msg/{msg_id}/endpoint/{endpoint_id}/resend", status_code=202)
async def resend(
    app_id: str, msg_id: str, endpoint_id: str, rt: Runtime = Depends(require_admin)
) -> Response:
    await attempts.resend(rt, app_id, msg_id, endpoint_id)
    return json_response({}, 202)
