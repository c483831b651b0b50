"""/api/v1/auth: customer-portal links (Svix's app-portal-access), logout and expire-all."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from hookwire.api.deps import get_runtime, require_admin
from hookwire.api.json_body import StrictJsonRoute
from hookwire.api.responses import json_response, no_content
from hookwire.errors import Unauthorized
from hookwire.outbound import portal_access
from hookwire.outbound.portal_access import PortalAccessIn, PortalAccessOut, TokenExpireIn
from hookwire.runtime import Runtime

router = APIRouter(prefix="/api/v1/auth", tags=["Authentication"], route_class=StrictJsonRoute)


@router.post("/app-portal-access/{app_id}", response_model=PortalAccessOut)
async def app_portal_access(
    app_id: str, data: PortalAccessIn, rt: Runtime = Depends(require_admin)
) -> Response:
    """A link that opens the customer portal for one application (the token is in the URL fragment)."""
    return json_response(await portal_access.issue(rt, app_id, data))


@router.post("/logout", status_code=204)
async def logout(request: Request) -> Response:
    """End the portal token sent as the bearer token; an admin token cannot be logged out."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("missing bearer token: send the portal token as 'Authorization: Bearer <token>'")
    await portal_access.logout(get_runtime(request), token.strip())
    return no_content()


@router.post("/app/{app_id}/expire-all", status_code=204)
async def expire_all(app_id: str, data: TokenExpireIn, rt: Runtime = Depends(require_admin)) -> Response:
    """End every portal token of the application, or only those of the given sessionIds."""
    await portal_access.expire_all(rt, app_id, data)
    return no_content()
