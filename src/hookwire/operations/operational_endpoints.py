"""Operational webhook endpoints: the operator's endpoints for hookwire's own events.

They are endpoints of the internal operational application, so every rule of ordinary
endpoints (URL checks, secrets at rest, rotation, custom headers) holds for them through
the same use-cases; only their event-type filter names operational event types.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from hookwire.clock import now_ms
from hookwire.operations.event_types import OPERATIONAL_APP_ID
from hookwire.outbound import endpoints
from hookwire.outbound.models import EndpointHeadersOut, EndpointIn, EndpointOut, ListResponse, Model
from hookwire.runtime import Runtime


class OperationalEndpointOut(Model):
    """Svix's OperationalWebhookEndpointOut: an endpoint without channels or version."""

    id: str
    uid: str | None = None
    url: str
    description: str
    throttle_rate: int | None = None
    disabled: bool = False
    event_types: list[str] | None = None
    metadata: dict[str, str] = Field(default_factory=dict)
    created_at: datetime
    updated_at: datetime


def _out(endpoint: EndpointOut) -> OperationalEndpointOut:
    return OperationalEndpointOut(**endpoint.model_dump(exclude={"channels", "version"}))


def _without_channels(data: EndpointIn) -> EndpointIn:
    return data.model_copy(update={"channels": None})


async def _app(rt: Runtime) -> str:
    """The internal application's id, created on first use (a read once it exists)."""
    if await rt.db.fetchrow("get_app", key=OPERATIONAL_APP_ID) is None:
        await rt.db.execute("insert_operational_app", id=OPERATIONAL_APP_ID, now=now_ms())
    return OPERATIONAL_APP_ID


async def create(rt: Runtime, data: EndpointIn) -> OperationalEndpointOut:
    return _out(await endpoints.create_endpoint(rt, await _app(rt), _without_channels(data)))


async def get(rt: Runtime, key: str) -> OperationalEndpointOut:
    return _out(await endpoints.get_endpoint(rt, await _app(rt), key))


async def list_all(rt: Runtime, *, limit: int | None, iterator: str | None, descending: bool) -> ListResponse:
    page = await endpoints.list_endpoints(
        rt, await _app(rt), limit=limit, iterator=iterator, descending=descending
    )
    return page.model_copy(update={"data": [_out(e) for e in page.data]})


async def upsert(rt: Runtime, key: str, data: EndpointIn) -> tuple[OperationalEndpointOut, bool]:
    result, created = await endpoints.upsert_endpoint(rt, await _app(rt), key, _without_channels(data))
    return _out(result), created


async def delete(rt: Runtime, key: str) -> None:
    await endpoints.delete_endpoint(rt, await _app(rt), key)


async def get_secret(rt: Runtime, key: str) -> str:
    return await endpoints.get_secret(rt, await _app(rt), key)


async def rotate_secret(
    rt: Runtime, key: str, *, new_secret: str | None, grace_period_seconds: int | None
) -> None:
    await endpoints.rotate_secret(
        rt, await _app(rt), key, new_secret=new_secret, grace_period_seconds=grace_period_seconds
    )


async def get_headers(rt: Runtime, key: str) -> EndpointHeadersOut:
    return await endpoints.get_headers(rt, await _app(rt), key)


async def set_headers(rt: Runtime, key: str, headers: dict[str, str]) -> None:
    await endpoints.set_headers(rt, await _app(rt), key, headers, merge=False)
