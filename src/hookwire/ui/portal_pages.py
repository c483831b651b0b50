"""The customer portal's pages: one application's endpoints, catalogue, logs and attempts.

Pages read through the same use-cases as the portal's JSON API; their buttons and forms
call that API (static/app.js, `form[data-api]`), so what the portal can do is exactly
what the API allows for the token.
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from hookwire.errors import Unauthorized
from hookwire.outbound import attempts, endpoints, messages, overview, portal_access
from hookwire.outbound.portal_access import Capability, PortalGrant
from hookwire.ui import activity
from hookwire.ui.chart import sparkline
from hookwire.ui.pages_catalogue import examples
from hookwire.ui.pages_messages import request_headers
from hookwire.ui.portal_api import catalogue
from hookwire.ui.portal_auth import PortalPageRoute, portal_grant
from hookwire.ui.rendering import render
from hookwire.ui.routing import checked_form
from hookwire.ui.security import PORTAL_COOKIE, set_cookie

router = APIRouter(prefix="/portal", route_class=PortalPageRoute, include_in_schema=False)


class SessionIn(BaseModel):
    token: str


def _page(request: Request, template: str, grant: PortalGrant, **context: Any) -> Response:
    caps = {c.value for c in grant.capabilities}
    return render(request, template, grant=grant, caps=caps, **context)


@router.get("/login")
async def login(request: Request) -> Response:
    """The link's landing page: its script trades the token in the URL fragment for a cookie."""
    return render(request, "portal/login.html")


@router.post("/session")
async def open_session(request: Request, data: SessionIn) -> Response:
    rt = request.app.state.rt
    grant = await portal_access.authenticate(rt, data.token)
    response = Response(b'{"next": "/portal"}', media_type="application/json")
    max_age = max(1, (grant.expires_at_ms - int(datetime.now(UTC).timestamp() * 1000)) // 1000)
    set_cookie(response, request, rt.settings, PORTAL_COOKIE, data.token, max_age)
    return response


@router.post("/logout")
async def logout(request: Request, form: FormData = Depends(checked_form)) -> Response:
    """End this portal session: the token is revoked, not only forgotten by the browser."""
    token = request.cookies.get(PORTAL_COOKIE)
    if token:
        with contextlib.suppress(Unauthorized):  # already expired or revoked: nothing left to end
            await portal_access.logout(request.app.state.rt, token)
    response = RedirectResponse("/portal/login", status_code=303)
    response.delete_cookie(PORTAL_COOKIE, path="/")
    return response


@router.get("")
async def home(request: Request, grant: PortalGrant = Depends(portal_grant)) -> Response:
    rt = request.app.state.rt
    listed = await endpoints.list_endpoints(rt, grant.app_id, limit=250, iterator=None, descending=False)
    health = await overview.endpoint_health(rt, grant.app_id, listed.data)
    return _page(
        request,
        "portal/endpoints.html",
        grant,
        nav="Endpoints",
        endpoints=listed.data,
        health=health,
        sparkline=sparkline,
        catalogue=[t.name for t in await catalogue(rt, grant)],
    )


@router.get("/event-types")
async def event_catalogue(request: Request, grant: PortalGrant = Depends(portal_grant)) -> Response:
    types = await catalogue(request.app.state.rt, grant)
    return _page(
        request, "portal/event_types.html", grant, nav="Event catalogue", types=types, examples=examples
    )


@router.get("/endpoints/{endpoint_id}")
async def endpoint_page(
    request: Request, endpoint_id: str, grant: PortalGrant = Depends(portal_grant), tab: str = "overview"
) -> Response:
    rt = request.app.state.rt
    endpoint = await endpoints.get_endpoint(rt, grant.app_id, endpoint_id)
    return _page(
        request,
        "portal/endpoint.html",
        grant,
        nav="Endpoints",
        endpoint=endpoint,
        tab=tab if tab in ("overview", "testing", "logs") else "overview",
        catalogue=[t.name for t in await catalogue(rt, grant)],
        default_since=(datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
    )


@router.get("/endpoints/{endpoint_id}/activity")
async def endpoint_activity(
    request: Request, endpoint_id: str, grant: PortalGrant = Depends(portal_grant), status: str = ""
) -> Response:
    context = await activity.endpoint_activity(
        request.app.state.rt, grant.app_id, endpoint_id, status, limit=25
    )
    return _page(request, "endpoint_activity.html", grant, link_base="/portal/messages", **context)


@router.get("/messages/{msg_id}/attempts/{attempt_id}")
async def attempt_page(
    request: Request, msg_id: str, attempt_id: str, grant: PortalGrant = Depends(portal_grant)
) -> Response:
    rt = request.app.state.rt
    row = await attempts.get_attempt(rt, grant.app_id, msg_id, attempt_id)
    attempt = attempts.attempt_out(row)
    msg = await messages.get_message(rt, grant.app_id, msg_id)
    endpoint = await endpoints.get_endpoint(rt, grant.app_id, attempt.endpoint_id)
    custom = await endpoints.get_headers(rt, grant.app_id, endpoint.id)
    return _page(
        request,
        "portal/attempt.html",
        grant,
        nav="Endpoints",
        attempt=attempt,
        detail=attempts.attempt_detail(row),
        msg=msg,
        endpoint=endpoint,
        sent_headers=request_headers(msg.id, attempt.timestamp, custom.headers, custom.sensitive),
        response_body=row.response_body or "",
        can_resend=grant.can(Capability.CREATE_ATTEMPTS),
    )
