"""Sign-in, sign-out and the home page (traffic, queue, what needs attention, first steps)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from hookwire.api.deps import token_matches
from hookwire.outbound import applications, overview
from hookwire.runtime import Runtime
from hookwire.ui.chart import traffic_chart
from hookwire.ui.rendering import render
from hookwire.ui.routing import PageRoute, checked_form, operator
from hookwire.ui.security import SESSION_COOKIE, SESSION_SECONDS, new_session, set_cookie

router = APIRouter(route_class=PageRoute, include_in_schema=False)


def _safe_next(value: object) -> str:
    """Only a path on this server: never an open redirect to another site."""
    text = value if isinstance(value, str) else ""
    return text if text.startswith("/ui") and not text.startswith("//") else "/ui"


@router.get("/ui/signin")
async def signin_form(request: Request, next: str = "/ui") -> Response:
    return render(request, "signin.html", next=_safe_next(next), errors={})


@router.post("/ui/signin")
async def signin(request: Request, form: FormData = Depends(checked_form)) -> Response:
    rt: Runtime = request.app.state.rt
    token = form.get("token")
    expected = rt.settings.api_token
    if not isinstance(token, str) or not token or expected is None or not token_matches(token, expected):
        errors = {"token": "That is not the admin token. Check HOOKWIRE_API_TOKEN and try again."}
        return render(request, "signin.html", 401, next=_safe_next(form.get("next")), errors=errors)
    response = RedirectResponse(_safe_next(form.get("next")), status_code=303)
    set_cookie(response, request, rt.settings, SESSION_COOKIE, new_session(rt.settings), SESSION_SECONDS)
    return response


@router.post("/ui/signout")
async def signout(request: Request, form: FormData = Depends(checked_form)) -> Response:
    response = RedirectResponse("/ui/signin", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/ui")
async def home(request: Request, rt: Runtime = Depends(operator)) -> Response:
    summary = await overview.overview(rt)
    apps = await applications.list_apps(rt, limit=1, iterator=None, descending=False)
    return render(
        request,
        "home.html",
        nav="Home",
        summary=summary,
        chart=traffic_chart(summary.buckets, summary.bucket_ms),
        first_time=not apps.data,
        base_url=rt.settings.base_url,
    )
