"""Who a portal request is: the portal token from its cookie or bearer header, checked every time."""

from __future__ import annotations

from fastapi import Request

from hookwire.errors import Unauthorized
from hookwire.outbound import portal_access
from hookwire.outbound.portal_access import TOKEN_PREFIX, PortalGrant
from hookwire.ui.routing import CsrfRefused, PageRoute
from hookwire.ui.security import CSRF_HEADER, PORTAL_COOKIE, csrf_ok


def portal_token(request: Request) -> tuple[str | None, bool]:
    """(token, came from the cookie). A bearer header wins, for teams calling the JSON API."""
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value.strip().startswith(TOKEN_PREFIX):
        return value.strip(), False
    return request.cookies.get(PORTAL_COOKIE), True


async def portal_grant(request: Request) -> PortalGrant:
    """The grant behind this request. Cookie-authenticated writes must carry the CSRF header."""
    token, from_cookie = portal_token(request)
    if not token:
        raise Unauthorized("open the portal from the link you were given")
    grant = await portal_access.authenticate(request.app.state.rt, token)
    writes = request.method not in ("GET", "HEAD", "OPTIONS")
    if from_cookie and writes and not csrf_ok(request, request.headers.get(CSRF_HEADER)):
        raise CsrfRefused()
    return grant


def portal_frame_ancestors(request: Request) -> str:
    return str(request.app.state.rt.settings.portal_frame_ancestors)


class PortalPageRoute(PageRoute):
    """Portal pages may be framed by the origins the operator allowed."""

    frame_ancestors = staticmethod(portal_frame_ancestors)
    portal = True
