"""Applications and their endpoints: create, edit, secrets, enable/disable, send example, recovery."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from pydantic import ValidationError
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from hookwire.errors import ApiError, NotFound
from hookwire.outbound import (
    applications,
    endpoints,
    event_types,
    overview,
    portal_access,
    recovery,
)
from hookwire.outbound.models import ApplicationIn, EndpointIn, EndpointPatch, EventExampleIn
from hookwire.outbound.portal_access import PortalAccessIn
from hookwire.runtime import Runtime
from hookwire.ui import activity
from hookwire.ui.chart import sparkline
from hookwire.ui.forms import endpoint_fields, field_errors, parse_headers, parse_utc_datetime, text
from hookwire.ui.rendering import render
from hookwire.ui.routing import PageRoute, checked_form, operator

router = APIRouter(prefix="/ui/apps", route_class=PageRoute, include_in_schema=False)


def _back(path: str, notice: str | None = None) -> Response:
    return RedirectResponse(path + (f"?notice={quote(notice)}" if notice else ""), status_code=303)


async def catalogue_names(rt: Runtime) -> list[str]:
    listed = await event_types.list_event_types(
        rt, limit=250, iterator=None, descending=False, include_archived=False
    )
    return [t.name for t in listed.data]


@router.get("")
async def list_apps(
    request: Request, rt: Runtime = Depends(operator), iterator: str | None = None
) -> Response:
    listed = await applications.list_apps(rt, limit=50, iterator=iterator, descending=True)
    return render(request, "apps.html", nav="Applications", apps=listed, errors={}, values={})


@router.post("")
async def create_app(
    request: Request, rt: Runtime = Depends(operator), form: FormData = Depends(checked_form)
) -> Response:
    values = {"name": text(form, "name"), "uid": text(form, "uid") or None}
    try:
        app, _ = await applications.create_app(rt, ApplicationIn.model_validate(values))
    except (ValidationError, ApiError) as exc:
        listed = await applications.list_apps(rt, limit=50, iterator=None, descending=True)
        return render(
            request,
            "apps.html",
            422,
            nav="Applications",
            apps=listed,
            errors=field_errors(exc),
            values=values,
        )
    return _back(f"/ui/apps/{app.id}", "Application created. Add an endpoint next.")


async def _app_page(request: Request, rt: Runtime, app_id: str, status: int = 200, **extra: Any) -> Response:
    app = await applications.get_app(rt, app_id)
    listed = await endpoints.list_endpoints(rt, app.id, limit=250, iterator=None, descending=False)
    health = await overview.endpoint_health(rt, app.id, listed.data)
    context: dict[str, Any] = {"errors": {}, "values": {}}
    context.update(extra)
    return render(
        request,
        "app.html",
        status,
        nav="Applications",
        app=app,
        endpoints=listed.data,
        health=health,
        sparkline=sparkline,
        catalogue=await catalogue_names(rt),
        notice=request.query_params.get("notice"),
        **context,
    )


@router.get("/{app_id}")
async def app_page(request: Request, app_id: str, rt: Runtime = Depends(operator)) -> Response:
    return await _app_page(request, rt, app_id)


@router.post("/{app_id}/endpoints")
async def create_endpoint(
    request: Request, app_id: str, rt: Runtime = Depends(operator), form: FormData = Depends(checked_form)
) -> Response:
    values = endpoint_fields(form)
    try:
        values["headers"] = parse_headers(text(form, "headers")) or None
        created = await endpoints.create_endpoint(rt, app_id, EndpointIn.model_validate(values))
    except (ValidationError, ApiError) as exc:
        return await _app_page(
            request,
            rt,
            app_id,
            422,
            errors=field_errors(exc),
            values={**values, "headers": text(form, "headers")},
        )
    return _back(f"/ui/apps/{app_id}/endpoints/{created.id}", "Endpoint created.")


@router.post("/{app_id}/portal")
async def open_portal(
    request: Request, app_id: str, rt: Runtime = Depends(operator), form: FormData = Depends(checked_form)
) -> Response:
    """A one-hour portal link for this application, opened in place (handy to see what customers see)."""
    access = await portal_access.issue(rt, app_id, PortalAccessIn(expiry=3600))
    return RedirectResponse(access.url.removeprefix(rt.settings.base_url), status_code=303)


# ------------------------------------------------------------------ one endpoint


async def _endpoint_page(
    request: Request, rt: Runtime, app_id: str, ep_id: str, status: int = 200, **extra: Any
) -> Response:
    app = await applications.get_app(rt, app_id)
    endpoint = await endpoints.get_endpoint(rt, app.id, ep_id)
    headers = await endpoints.get_headers(rt, app.id, endpoint.id)
    context: dict[str, Any] = {
        "errors": {},
        "values": {
            **endpoint.model_dump(),
            "headers": "\n".join(f"{k}: {v}" for k, v in headers.headers.items()),
            "channels": ", ".join(endpoint.channels or []),
        },
    }
    context.update(extra)
    return render(
        request,
        "endpoint.html",
        status,
        nav="Applications",
        app=app,
        endpoint=endpoint,
        sensitive_headers=headers.sensitive,
        shown_headers=",".join(headers.headers),
        catalogue=await catalogue_names(rt),
        notice=request.query_params.get("notice"),
        default_since=(datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
        **context,
    )


@router.get("/{app_id}/endpoints/{ep_id}")
async def endpoint_page(
    request: Request, app_id: str, ep_id: str, rt: Runtime = Depends(operator)
) -> Response:
    return await _endpoint_page(request, rt, app_id, ep_id)


@router.get("/{app_id}/endpoints/{ep_id}/activity")
async def endpoint_activity(
    request: Request, app_id: str, ep_id: str, rt: Runtime = Depends(operator), status: str = ""
) -> Response:
    """The live part of the endpoint page: health badge, sparkline and the newest attempts."""
    context = await activity.endpoint_activity(rt, app_id, ep_id, status)
    return render(request, "endpoint_activity.html", link_base=f"/ui/apps/{app_id}/messages", **context)


@router.get("/{app_id}/endpoints/{ep_id}/secret")
async def reveal_secret(
    request: Request, app_id: str, ep_id: str, rt: Runtime = Depends(operator)
) -> Response:
    secret = await endpoints.get_secret(rt, app_id, ep_id)
    return render(request, "secret.html", secret=secret)


@router.post("/{app_id}/endpoints/{ep_id}/edit")
async def edit_endpoint(
    request: Request,
    app_id: str,
    ep_id: str,
    rt: Runtime = Depends(operator),
    form: FormData = Depends(checked_form),
) -> Response:
    values = endpoint_fields(form)
    try:
        patch = EndpointPatch.model_validate(values)
        headers = parse_headers(text(form, "headers"))
        shown = [h for h in text(form, "shown_headers").split(",") if h]
        removed = [h for h in shown if h.lower() not in {n.lower() for n in headers}]
        await endpoints.set_headers(rt, app_id, ep_id, headers, merge=True, delete=removed)
        await endpoints.patch_endpoint(rt, app_id, ep_id, patch)
    except (ValidationError, ApiError) as exc:
        return await _endpoint_page(
            request,
            rt,
            app_id,
            ep_id,
            422,
            errors=field_errors(exc),
            values={**values, "headers": text(form, "headers"), "channels": text(form, "channels")},
        )
    return _back(f"/ui/apps/{app_id}/endpoints/{ep_id}", "Endpoint saved.")


@router.post("/{app_id}/endpoints/{ep_id}/{action}")
async def endpoint_action(
    request: Request,
    app_id: str,
    ep_id: str,
    action: str,
    rt: Runtime = Depends(operator),
    form: FormData = Depends(checked_form),
) -> Response:
    here = f"/ui/apps/{app_id}/endpoints/{ep_id}"
    in_place = bool(request.headers.get("hx-request"))  # "send example" stays on the page
    try:
        notice = await _act(rt, app_id, ep_id, action, form)
    except (ValidationError, ApiError) as exc:
        if in_place:
            return render(request, "notice.html", errors=field_errors(exc))
        return await _endpoint_page(request, rt, app_id, ep_id, 422, errors=field_errors(exc))
    if in_place:
        return render(request, "notice.html", notice=notice, errors={})
    if action == "delete":
        return _back(f"/ui/apps/{app_id}", notice)
    return _back(here, notice)


async def _act(rt: Runtime, app_id: str, ep_id: str, action: str, form: FormData) -> str:
    if action in ("enable", "disable"):
        await endpoints.patch_endpoint(rt, app_id, ep_id, EndpointPatch(disabled=action == "disable"))
        return f"Endpoint {action}d."
    if action == "rotate-secret":
        await endpoints.rotate_secret(rt, app_id, ep_id, new_secret=None, grace_period_seconds=None)
        return "Secret rotated; the old one keeps signing for 24 hours."
    if action == "send-example":
        msg = await endpoints.send_example(
            rt, app_id, ep_id, EventExampleIn(event_type=text(form, "event_type"))
        )
        return f"Example {msg.event_type} sent as message {msg.id}."
    if action == "delete":
        await endpoints.delete_endpoint(rt, app_id, ep_id)
        return "Endpoint deleted."
    if action in ("recover", "replay-missing"):
        since = parse_utc_datetime(text(form, "since"), "since") or datetime.now(UTC) - timedelta(days=1)
        if action == "recover":
            await recovery.recover(rt, app_id, ep_id, since=since, until=None)
            return "Failed deliveries since then are queued again."
        await recovery.replay_missing(rt, app_id, ep_id, since=since, until=None)
        return "Messages this endpoint never received since then are queued."
    raise NotFound(f"no such action {action!r}")


@router.get("/{app_id}/endpoints/{ep_id}/recover")
async def recover_preview(
    request: Request, app_id: str, ep_id: str, rt: Runtime = Depends(operator), since: str = ""
) -> Response:
    """Before retrying every failed delivery: how many that is."""
    moment = parse_utc_datetime(since, "since") or datetime.now(UTC) - timedelta(days=1)
    stats = await recovery.endpoint_stats(rt, app_id, ep_id, since=moment, until=None)
    endpoint = await endpoints.get_endpoint(rt, app_id, ep_id)
    return render(
        request,
        "recover.html",
        nav="Applications",
        app_id=app_id,
        endpoint=endpoint,
        since=moment,
        since_raw=moment.strftime("%Y-%m-%dT%H:%M"),
        count=stats.fail,
    )
