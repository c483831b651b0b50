"""Inbound sources: the ingest URL, each received request with its verdict, live, copyable as curl."""

from __future__ import annotations

import shlex
from typing import Any

import orjson
from fastapi import APIRouter, Depends, Request
from pydantic import ValidationError
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from hookwire.errors import ApiError, ValidationFailed
from hookwire.ingest import replay, requests, sources
from hookwire.ingest.models import InboundRequestOut, IngestSourceIn
from hookwire.ingest.providers import PROVIDERS
from hookwire.ingest.replay import ReplayIn
from hookwire.runtime import Runtime
from hookwire.ui.forms import field_errors, text
from hookwire.ui.rendering import render
from hookwire.ui.routing import PageRoute, checked_form, operator

router = APIRouter(prefix="/ui/sources", route_class=PageRoute, include_in_schema=False)

_NOT_REPLAYED = {"host", "content-length", "connection", "accept-encoding", "transfer-encoding"}


def as_curl(ingest_url: str, req: InboundRequestOut) -> str:
    """The captured request as a curl command against the same ingest URL (to replay it by hand)."""
    url = ingest_url + req.path + (f"?{req.query}" if req.query else "")
    parts = ["curl", "-X", req.method, shlex.quote(url)]
    for name, value in req.headers.items():
        if name.lower() not in _NOT_REPLAYED:
            parts += ["-H", shlex.quote(f"{name}: {value}")]
    if req.body:
        parts += ["--data-raw", shlex.quote(req.body)]
    elif req.body_base64:
        parts = ["echo", shlex.quote(req.body_base64), "| base64 -d |", *parts, "--data-binary", "@-"]
    return " ".join(parts)


@router.get("")
async def list_sources(request: Request, rt: Runtime = Depends(operator)) -> Response:
    return await _list_page(request, rt)


async def _list_page(request: Request, rt: Runtime, status: int = 200, **extra: Any) -> Response:
    listed = await sources.list_sources(rt, limit=250, iterator=None, descending=True)
    context: dict[str, Any] = {"errors": {}, "values": {"type": "generic-webhook"}}
    context.update(extra)
    return render(
        request,
        "sources.html",
        status,
        nav="Sources",
        sources=listed.data,
        types=sorted(PROVIDERS),
        **context,
    )


@router.post("")
async def create_source(
    request: Request, rt: Runtime = Depends(operator), form: FormData = Depends(checked_form)
) -> Response:
    values = {"name": text(form, "name"), "type": text(form, "type"), "config": text(form, "config")}
    try:
        try:
            config = orjson.loads(values["config"]) if values["config"] else {}
        except orjson.JSONDecodeError as exc:
            raise ValidationFailed.field(["config"], f"not JSON: {exc}") from None
        created = await sources.create_source(
            rt,
            IngestSourceIn.model_validate({"name": values["name"], "type": values["type"], "config": config}),
        )
    except (ValidationError, ApiError) as exc:
        return await _list_page(request, rt, 422, errors=field_errors(exc), values=values)
    return RedirectResponse(f"/ui/sources/{created.id}", status_code=303)


@router.get("/{source_id}")
async def source_page(request: Request, source_id: str, rt: Runtime = Depends(operator)) -> Response:
    source = await sources.get_source(rt, source_id)
    return render(request, "source.html", nav="Sources", source=source)


@router.get("/{source_id}/requests")
async def source_requests(
    request: Request, source_id: str, rt: Runtime = Depends(operator), status: str = ""
) -> Response:
    """The live part of the source page: the newest captured requests."""
    source = await sources.get_source(rt, source_id)
    listed = await requests.list_requests(rt, source.id, limit=25, iterator=None, status=status or None)
    return render(
        request,
        "source_requests.html",
        source=source,
        captured=listed.data,
        curl={r.id: as_curl(source.ingest_url, r) for r in listed.data},
        pretty_body=_body_text,
    )


def _body_text(req: InboundRequestOut) -> str:
    return req.body if req.body else (f"(binary, base64) {req.body_base64}" if req.body_base64 else "(empty)")


@router.post("/{source_id}/requests/{request_id}/replay")
async def replay_request(
    request: Request,
    source_id: str,
    request_id: str,
    rt: Runtime = Depends(operator),
    form: FormData = Depends(checked_form),
) -> Response:
    """Replay to …: the same operation as `POST /ingest/api/v1/source/{id}/request/{id}/replay`."""
    try:
        result = await replay.replay_request(rt, source_id, request_id, ReplayIn(url=text(form, "url")))
    except (ValidationError, ApiError) as exc:
        return render(request, "replay_result.html", errors=field_errors(exc), result=None)
    return render(request, "replay_result.html", errors={}, result=result)
