"""/api/v1/app/{app}/msg: create (fan-out), list, get, expunge content."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, Header, Query
from starlette.responses import Response

from hookwire.api.deps import require_admin
from hookwire.api.json_body import StrictJsonRoute
from hookwire.api.message_fast_path import accept_message
from hookwire.api.params import split_list
from hookwire.api.responses import json_response, no_content
from hookwire.outbound import messages, precheck
from hookwire.outbound.models import (
    ListResponse,
    MessageIn,
    MessageOut,
    MessagePrecheckIn,
    MessagePrecheckOut,
)
from hookwire.runtime import Runtime

router = APIRouter(prefix="/api/v1/app/{app_id}/msg", tags=["Message"], route_class=StrictJsonRoute)


@router.post("", response_model=MessageOut, status_code=202)
async def create_message(
    app_id: str,
    data: MessageIn,
    rt: Runtime = Depends(require_admin),
    with_content: bool = True,
    idempotency_key: str | None = Header(default=None, max_length=256),
) -> Response:
    """Store the message and queue one delivery per matching endpoint; 202 means it is on disk.

    The plain case of this request is answered by `message_fast_path` without FastAPI's
    machinery; both end in `accept_message`."""
    return await accept_message(rt, app_id, data, idempotency_key, with_content=with_content)


@router.post("/precheck/active", response_model=MessagePrecheckOut)
async def precheck_active(
    app_id: str, data: MessagePrecheckIn, rt: Runtime = Depends(require_admin)
) -> Response:
    """Whether a message of this type and channels would reach any enabled endpoint."""
    active = await precheck.has_active_endpoint(rt, app_id, data.event_type, data.channels)
    return json_response(MessagePrecheckOut(active=active))


@router.get("", response_model=ListResponse)
async def list_messages(
    app_id: str,
    rt: Runtime = Depends(require_admin),
    limit: int | None = None,
    iterator: str | None = None,
    channel: str | None = None,
    before: datetime | None = None,
    after: datetime | None = None,
    tag: str | None = None,
    with_content: bool = True,
    event_types: list[str] | None = Query(None),
) -> Response:
    result = await messages.list_messages(
        rt,
        app_id,
        limit=limit,
        iterator=iterator,
        event_types=split_list(event_types),
        channel=channel,
        tag=tag,
        before=before,
        after=after,
        with_content=with_content,
    )
    return json_response(result)


@router.get("/{msg_id}", response_model=MessageOut)
async def get_message(
    app_id: str, msg_id: str, rt: Runtime = Depends(require_admin), with_content: bool = True
) -> Response:
    return json_response(await messages.get_message(rt, app_id, msg_id, with_content=with_content))


@router.delete("/{msg_id}/content", status_code=204)
async def expunge_content(app_id: str, msg_id: str, rt: Runtime = Depends(require_admin)) -> Response:
    await messages.expunge_content(rt, app_id, msg_id)
    return no_content()
