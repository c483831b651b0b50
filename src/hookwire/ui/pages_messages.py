"""Messages with filters, one message's attempts per endpoint, and the attempt detail with resend."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import ValidationError
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from hookwire.errors import ApiError
from hookwire.outbound import applications, attempts, endpoints, messages
from hookwire.runtime import Runtime
from hookwire.store.statuses import MessageStatus
from hookwire.ui.forms import field_errors, parse_utc_datetime
from hookwire.ui.pages_apps import catalogue_names
from hookwire.ui.rendering import render
from hookwire.ui.routing import PageRoute, checked_form, operator

router = APIRouter(prefix="/ui/apps/{app_id}/messages", route_class=PageRoute, include_in_schema=False)

_SENSITIVE = ("authorization", "cookie", "x-api-key", "api-key", "proxy-authorization")


def mask(value: str) -> str:
    return value[:4] + "••••••" if len(value) > 8 else "••••••"


def request_headers(
    msg_id: str, sent_at: datetime, custom: dict[str, str], sensitive: list[str]
) -> dict[str, str]:
    """The headers the attempt carried, rebuilt from what is stored; signatures and secrets masked."""
    headers = {
        "content-type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": "v1,•••••• (masked)",
    }
    headers.update({k: (mask(v) if k.lower() in _SENSITIVE else v) for k, v in custom.items()})
    headers.update({name: "•••••• (masked)" for name in sensitive})
    return headers


# The messages page's status filter: a message matches when one of its deliveries is in that state.
DELIVERY_STATUS_FILTERS: dict[str, int | None] = {
    "": None,
    "succeeded": MessageStatus.SUCCESS,
    "pending": MessageStatus.PENDING,
    "failed": MessageStatus.FAIL,
}


@router.get("")
async def list_messages(
    request: Request,
    app_id: str,
    rt: Runtime = Depends(operator),
    event_type: str = "",
    channel: str = "",
    since: str = "",
    until: str = "",
    status: str = "",
    iterator: str | None = None,
) -> Response:
    app = await applications.get_app(rt, app_id)
    if status not in DELIVERY_STATUS_FILTERS:
        status = ""
    filters = {"event_type": event_type, "channel": channel, "since": since, "until": until, "status": status}
    errors: dict[str, str] = {}
    listed = None
    try:
        listed = await messages.list_messages(
            rt,
            app.id,
            limit=50,
            iterator=iterator,
            event_types=[event_type] if event_type else None,
            channel=channel or None,
            after=parse_utc_datetime(since, "since"),
            before=parse_utc_datetime(until, "until"),
            delivery_status=DELIVERY_STATUS_FILTERS[status],
        )
    except (ValidationError, ApiError) as exc:
        errors = field_errors(exc)
    return render(
        request,
        "messages.html",
        200 if not errors else 422,
        nav="Applications",
        app=app,
        listed=listed,
        filters=filters,
        errors=errors,
        catalogue=await catalogue_names(rt),
    )


@router.get("/{msg_id}")
async def message_page(
    request: Request, app_id: str, msg_id: str, rt: Runtime = Depends(operator)
) -> Response:
    app = await applications.get_app(rt, app_id)
    msg = await messages.get_message(rt, app.id, msg_id)
    destinations = await attempts.list_attempted_destinations(rt, app.id, msg.id, limit=250, iterator=None)
    tried = await attempts.list_by_msg(rt, app.id, msg.id, limit=250, iterator=None)
    by_endpoint: dict[str, list[Any]] = {}
    for attempt in tried.data:
        by_endpoint.setdefault(attempt.endpoint_id, []).append(attempt)
    return render(
        request,
        "message.html",
        nav="Applications",
        app=app,
        msg=msg,
        destinations=destinations.data,
        by_endpoint=by_endpoint,
    )


@router.get("/{msg_id}/attempts/{attempt_id}")
async def attempt_page(
    request: Request, app_id: str, msg_id: str, attempt_id: str, rt: Runtime = Depends(operator)
) -> Response:
    app = await applications.get_app(rt, app_id)
    row = await attempts.get_attempt(rt, app.id, msg_id, attempt_id)
    detail = attempts.attempt_detail(row)
    msg = await messages.get_message(rt, app.id, msg_id)
    endpoint = await endpoints.get_endpoint(rt, app.id, detail["endpointId"])
    custom = await endpoints.get_headers(rt, app.id, endpoint.id)
    attempt = attempts.attempt_out(row)
    return render(
        request,
        "attempt.html",
        nav="Applications",
        app=app,
        msg=msg,
        endpoint=endpoint,
        attempt=attempt,
        detail=detail,
        sent_headers=request_headers(msg.id, attempt.timestamp, custom.headers, custom.sensitive),
        response_body=row.response_body or "",
    )


@router.post("/{msg_id}/resend/{endpoint_id}")
async def resend(
    request: Request,
    app_id: str,
    msg_id: str,
    endpoint_id: str,
    rt: Runtime = Depends(operator),
    form: FormData = Depends(checked_form),
) -> Response:
    await attempts.resend(rt, app_id, msg_id, endpoint_id)
    back = form.get("back")
    target = (
        back if isinstance(back, str) and back.startswith("/ui/") else f"/ui/apps/{app_id}/messages/{msg_id}"
    )
    return RedirectResponse(target + "?notice=Resent%3A%20a%20new%20attempt%20is%20queued.", status_code=303)
