"""Turning submitted HTML forms into the API's models, and errors back into per-field messages."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError
from starlette.datastructures import FormData

from hookwire.errors import ApiError, ValidationFailed

# API field name (camelCase, as in error locations) -> form field name
_FIELD_NAMES = {"eventTypes": "event_types", "throttleRate": "throttle_rate", "filterTypes": "event_types"}


def text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def parse_headers(raw: str) -> dict[str, str]:
    """`Name: value` per line; blank lines are ignored."""
    headers = {}
    for line in raw.splitlines():
        if line.strip():
            name, sep, value = line.partition(":")
            if not sep:
                raise ValidationFailed.field(["headers"], f"line {line.strip()!r} is not 'Name: value'")
            headers[name.strip()] = value.strip()
    return headers


def endpoint_fields(form: FormData) -> dict[str, Any]:
    """The endpoint form as the API's JSON body (camelCase): empty event types mean all of them."""
    throttle = text(form, "throttle_rate")
    channels = [c.strip() for c in text(form, "channels").split(",") if c.strip()]
    types = [t for t in form.getlist("event_types") if isinstance(t, str) and t]
    return {
        "url": text(form, "url"),
        "description": text(form, "description"),
        "eventTypes": types or None,
        "channels": channels or None,
        "throttleRate": int(throttle) if throttle.isdigit() else (throttle or None),
    }


def field_errors(exc: ValidationError | ApiError) -> dict[str, str]:
    """{form field: message}; problems that belong to no field go under "_form"."""
    if isinstance(exc, ValidationError):
        items: list[Any] = [{"loc": e["loc"], "msg": e["msg"]} for e in exc.errors()]
    elif isinstance(exc.detail, list):
        items = exc.detail
    else:
        return {"_form": str(exc.detail)}
    errors: dict[str, str] = {}
    for item in items:
        loc = [str(p) for p in item.get("loc", ()) if p != "body"]
        name = _FIELD_NAMES.get(loc[0], loc[0]) if loc else "_form"
        errors.setdefault(name, str(item.get("msg", "not valid")).removeprefix("Value error, "))
    return errors


def parse_utc_datetime(raw: str, field: str) -> datetime | None:
    """A `datetime-local` form value, read as UTC (the form labels it so)."""
    if not raw:
        return None
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise ValidationFailed.field([field], "not a date and time (YYYY-MM-DDTHH:MM)") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
