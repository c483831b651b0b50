"""What every dashboard and portal route shares: HTML errors, security headers, sign-in, CSRF.

A page never answers with the API's JSON error: `PageRoute` turns an `ApiError` into an
HTML page with the same status, so a missing application is a readable 404.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.routing import APIRoute
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from hookwire.errors import ApiError, NotFound
from hookwire.runtime import Runtime
from hookwire.ui.rendering import render
from hookwire.ui.security import (
    CSRF_FIELD,
    CSRF_HEADER,
    PORTAL_COOKIE,
    SESSION_COOKIE,
    csrf_ok,
    session_valid,
)


class SignInRequired(Exception):
    """No operator session: pages redirect to the sign-in form; scripts get 401."""


class CsrfRefused(Exception):
    """A state-changing request without this browser's CSRF token."""


def frame_policy(request: Request) -> str:
    return "'none'"


class PageRoute(APIRoute):
    """Route class of the operator pages: HTML errors, no framing, no caching of private pages."""

    frame_ancestors: Callable[[Request], str] = staticmethod(frame_policy)
    sign_in_path = "/ui/signin"
    portal = False  # portal routes show errors in the portal's own frame, never the operator's

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        frame_ancestors = self.frame_ancestors
        sign_in_path = self.sign_in_path
        portal = self.portal

        def error_page(request: Request, status: int, title: str, detail: str) -> Response:
            rt = request.app.state.rt
            operator_view = not portal and session_valid(rt.settings, request.cookies.get(SESSION_COOKIE))
            template = "error.html" if operator_view else "portal/error.html"
            if portal and status == 401:
                title = "This portal session has ended"
            return render(request, template, status, title=title, detail=detail)

        async def page_handler(request: Request) -> Response:
            try:
                response = await handler(request)
            except SignInRequired:
                if request.headers.get("hx-request") or request.method != "GET":
                    response = Response("sign in again", status_code=401)
                else:
                    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                    response = RedirectResponse(f"{sign_in_path}?next={quote(target)}", status_code=303)
            except CsrfRefused:
                response = error_page(
                    request,
                    403,
                    title="Form expired",
                    detail="This form was sent without its security token (CSRF). "
                    "Reload the page and try again.",
                )
            except ApiError as exc:
                detail = exc.detail if isinstance(exc.detail, str) else "the request was not valid"
                response = error_page(
                    request,
                    exc.status_code,
                    title=_TITLES.get(exc.status_code, "Error"),
                    detail=detail,
                )
            response.headers["Content-Security-Policy"] = f"frame-ancestors {frame_ancestors(request)}"
            response.headers["X-Content-Type-Options"] = "nosniff"
            response.headers["Referrer-Policy"] = "same-origin"
            response.headers.setdefault("Cache-Control", "no-store")
            return response

        return page_handler


_TITLES = {400: "Bad request", 401: "Not signed in", 404: "Not found", 409: "Conflict", 422: "Not valid"}


async def operator(request: Request) -> Runtime:
    """The operator's Runtime; a portal session sees operator pages as missing (404)."""
    rt: Runtime = request.app.state.rt
    if session_valid(rt.settings, request.cookies.get(SESSION_COOKIE)):
        return rt
    if request.cookies.get(PORTAL_COOKIE):
        raise NotFound("not found")
    raise SignInRequired()


async def checked_form(request: Request) -> FormData:
    """The submitted form, once its CSRF token matched this browser's."""
    form = await request.form()
    given = form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER)
    if not csrf_ok(request, given if isinstance(given, str) else None):
        raise CsrfRefused()
    return form
