"""An endpoint's JavaScript transformation: read, change, and try it out (`simulate`).

The code and its variables are stored sealed together (variables often hold API keys, and
code can embed them too) in `endpoints.transformation_code`; `transformation_enabled` says
whether the worker runs it. Running is `delivery/transformations.py`'s job; this module is
the API's side.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
from pydantic import Field

from hookwire.clock import now_ms, to_datetime
from hookwire.delivery import transformations
from hookwire.delivery.transformations import Limits, Transformation, Webhook
from hookwire.errors import TransformationFailed, ValidationFailed
from hookwire.outbound.endpoints import open_headers, require_endpoint
from hookwire.outbound.models import EventTypeName, Model
from hookwire.outbound.records import EndpointRecord
from hookwire.runtime import Runtime

Code = Field(default=None, min_length=10, max_length=51200)


class EndpointTransformationOut(Model):
    code: str | None = None
    enabled: bool = False
    variables: dict[str, str] | None = None
    updated_at: datetime | None = None


class EndpointTransformationPatch(Model):
    code: str | None = Code
    enabled: bool | None = None
    variables: dict[str, str] | None = None


class TransformationSimulateIn(Model):
    code: str = Field(min_length=10, max_length=51200)
    event_type: EventTypeName
    payload: dict[str, Any]
    channels: list[str] | None = None
    variables: dict[str, str] | None = None


class TransformationSimulateOut(Model):
    url: str
    payload: str
    method: str | None = None
    cancel: bool


def _stored(rt: Runtime, row: EndpointRecord) -> dict[str, Any]:
    sealed = row.transformation_code
    return orjson.loads(rt.box.open(sealed)) if sealed else {}


def _out(rt: Runtime, row: EndpointRecord) -> EndpointTransformationOut:
    stored = _stored(rt, row)
    return EndpointTransformationOut(
        code=stored.get("code"),
        enabled=bool(row.transformation_enabled),
        variables=stored.get("variables"),
        updated_at=to_datetime(row.updated_at) if stored else None,
    )


async def get_transformation(rt: Runtime, app_key: str, key: str) -> EndpointTransformationOut:
    _, row = await require_endpoint(rt.db, app_key, key)
    return _out(rt, row)


async def patch_transformation(
    rt: Runtime, app_key: str, key: str, patch: EndpointTransformationPatch
) -> None:
    """Change what is given: `code` or `variables` null clears them; `enabled` switches running."""
    async with rt.db.transaction() as tx:
        _, row = await require_endpoint(tx, app_key, key)
        stored = _stored(rt, row)
        given = patch.model_fields_set
        if "code" in given:
            stored["code"] = patch.code
        if "variables" in given:
            stored["variables"] = patch.variables
        enabled = bool(row.transformation_enabled) if patch.enabled is None else patch.enabled
        if enabled and not stored.get("code"):
            raise ValidationFailed.field(["enabled"], "a transformation without code cannot be enabled")
        sealed = (
            rt.box.seal(orjson.dumps(stored).decode())
            if stored.get("code") or stored.get("variables")
            else None
        )
        await tx.execute(
            "update_endpoint_transformation", id=row.id, code=sealed, enabled=int(enabled), now=now_ms()
        )


async def simulate(
    rt: Runtime, app_key: str, key: str, data: TransformationSimulateIn
) -> TransformationSimulateOut:
    """Run the given code on the given payload as the worker would for this endpoint; nothing is sent."""
    _, row = await require_endpoint(rt.db, app_key, key)
    webhook = Webhook(
        method="POST",
        url=row.url,
        payload=data.payload,
        event_type=data.event_type,
        headers=open_headers(rt.box, row.headers),
    )
    limits = Limits(rt.settings.transformation_time_limit, rt.settings.transformation_memory_limit)
    try:
        out = await transformations.run_async(
            Transformation(data.code, data.variables or {}), webhook, limits
        )
        body = transformations.body_of(out)
    except TransformationFailed as exc:
        raise ValidationFailed.field(["code"], str(exc)) from None
    return TransformationSimulateOut(url=out.url, payload=body.decode(), method=out.method, cancel=out.cancel)
