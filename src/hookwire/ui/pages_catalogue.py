"""The event-type catalogue: names, descriptions, JSON Schemas and example payloads."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Depends, Request
from pydantic import ValidationError
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from hookwire.errors import ApiError, ValidationFailed
from hookwire.outbound import event_types
from hookwire.outbound.models import EventTypeIn
from hookwire.runtime import Runtime
from hookwire.ui.forms import field_errors, text
from hookwire.ui.rendering import render
from hookwire.ui.routing import PageRoute, checked_form, operator

router = APIRouter(prefix="/ui/event-types", route_class=PageRoute, include_in_schema=False)


def examples(schemas: dict[str, Any] | None) -> list[Any]:
    """The examples of the newest schema version (what "send example" sends)."""
    if not schemas:
        return []
    latest = schemas[max(schemas, key=lambda v: (len(v), v))]
    return list(latest.get("examples") or []) if isinstance(latest, dict) else []


async def _page(request: Request, rt: Runtime, status: int = 200, **extra: Any) -> Response:
    listed = await event_types.list_event_types(
        rt, limit=250, iterator=None, descending=False, include_archived=False
    )
    context: dict[str, Any] = {"errors": {}, "values": {}}
    context.update(extra)
    return render(
        request,
        "event_types.html",
        status,
        nav="Event types",
        types=listed.data,
        examples=examples,
        **context,
    )


@router.get("")
async def catalogue(request: Request, rt: Runtime = Depends(operator)) -> Response:
    return await _page(request, rt)


@router.post("")
async def create(
    request: Request, rt: Runtime = Depends(operator), form: FormData = Depends(checked_form)
) -> Response:
    values = {
        "name": text(form, "name"),
        "description": text(form, "description"),
        "schema": text(form, "schema"),
    }
    try:
        schema = None
        if values["schema"]:
            try:
                schema = orjson.loads(values["schema"])
            except orjson.JSONDecodeError as exc:
                raise ValidationFailed.field(["schema"], f"not JSON: {exc}") from None
        data = EventTypeIn.model_validate(
            {
                "name": values["name"],
                "description": values["description"],
                "schemas": {"1": schema} if schema else None,
            }
        )
        await event_types.create_event_type(rt, data)
    except (ValidationError, ApiError) as exc:
        errors = field_errors(exc)
        if "schemas" in errors:
            errors["schema"] = errors.pop("schemas")
        return await _page(request, rt, 422, errors=errors, values=values)
    return RedirectResponse("/ui/event-types", status_code=303)
