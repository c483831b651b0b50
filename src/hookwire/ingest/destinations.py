"""Where a source's events go: ingest endpoints (HTTP forwards) and application routes.

Ingest endpoints are endpoints of the source's hidden application, managed with the
outbound endpoint use-cases; this module adds their filter and transformation and the
application routes.
"""

from __future__ import annotations

import orjson

from hookwire.clock import now_ms, to_datetime
from hookwire.errors import NotFound
from hookwire.ids import new_id
from hookwire.ingest import jmes
from hookwire.ingest.models import AppRouteIn, AppRouteOut, IngestEndpointIn, IngestEndpointOut
from hookwire.ingest.sources import require_source
from hookwire.outbound import endpoints
from hookwire.outbound.applications import require_app
from hookwire.runtime import Runtime
from hookwire.store import Row


async def source_app(rt: Runtime, source_key: str) -> str:
    """The id of the hidden application that holds the source's ingest endpoints."""
    return str((await require_source(rt.db, source_key)).app_id)


async def _with_routing(rt: Runtime, app_id: str, endpoint_id: str) -> IngestEndpointOut:
    row = await endpoints.find_endpoint(rt.db, app_id, endpoint_id)
    if row is None:
        raise NotFound(f"endpoint {endpoint_id!r} not found")
    out = endpoints.endpoint_out(row)
    return IngestEndpointOut(**out.model_dump(), filter=row.filter, transformation=row.transformation)


async def _set_routing(rt: Runtime, endpoint_id: str, data: IngestEndpointIn) -> None:
    await rt.db.execute(
        "set_endpoint_routing",
        id=endpoint_id,
        filter=jmes.check_expression(data.filter, "filter"),
        transformation=jmes.check_expression(data.transformation, "transformation"),
        now=now_ms(),
    )


async def create_ingest_endpoint(rt: Runtime, source_key: str, data: IngestEndpointIn) -> IngestEndpointOut:
    jmes.check_expression(data.filter, "filter")
    jmes.check_expression(data.transformation, "transformation")
    app_id = await source_app(rt, source_key)
    created = await endpoints.create_endpoint(rt, app_id, data)
    await _set_routing(rt, created.id, data)
    return await _with_routing(rt, app_id, created.id)


async def upsert_ingest_endpoint(
    rt: Runtime, source_key: str, key: str, data: IngestEndpointIn
) -> tuple[IngestEndpointOut, bool]:
    jmes.check_expression(data.filter, "filter")
    jmes.check_expression(data.transformation, "transformation")
    app_id = await source_app(rt, source_key)
    result, created = await endpoints.upsert_endpoint(rt, app_id, key, data)
    await _set_routing(rt, result.id, data)
    return await _with_routing(rt, app_id, result.id), created


async def get_ingest_endpoint(rt: Runtime, source_key: str, key: str) -> IngestEndpointOut:
    app_id = await source_app(rt, source_key)
    _, row = await endpoints.require_endpoint(rt.db, app_id, key)
    return await _with_routing(rt, app_id, row.id)


def route_out(row: Row) -> AppRouteOut:
    return AppRouteOut(
        id=row["id"],
        app_id=row["app_id"],
        event_types=orjson.loads(row["event_types"]) if row["event_types"] else None,
        event_type_map=orjson.loads(row["event_type_map"]),
        event_type_prefix=row["event_type_prefix"],
        filter=row["filter"],
        transformation=row["transformation"],
        created_at=to_datetime(row["created_at"]),
    )


async def create_app_route(rt: Runtime, source_key: str, data: AppRouteIn) -> AppRouteOut:
    jmes.check_expression(data.filter, "filter")
    jmes.check_expression(data.transformation, "transformation")
    async with rt.db.transaction() as tx:
        source = await require_source(tx, source_key)
        app = await require_app(tx, data.app_id)
        route_id = new_id("route")
        await tx.execute(
            "insert_app_route",
            id=route_id,
            source_id=source.id,
            app_id=app.id,
            event_types=orjson.dumps(data.event_types).decode() if data.event_types else None,
            event_type_map=orjson.dumps(data.event_type_map).decode(),
            event_type_prefix=data.event_type_prefix,
            filter=data.filter or None,
            transformation=data.transformation or None,
            now=now_ms(),
        )
        row = await tx.fetchrow("get_app_route", source_id=source.id, id=route_id)
        assert row is not None
        return route_out(row)


async def list_app_routes(rt: Runtime, source_key: str) -> list[AppRouteOut]:
    source = await require_source(rt.db, source_key)
    return [route_out(r) for r in await rt.db.fetch("list_app_routes", source_id=source.id)]


async def delete_app_route(rt: Runtime, source_key: str, route_id: str) -> None:
    async with rt.db.transaction() as tx:
        source = await require_source(tx, source_key)
        if await tx.execute("delete_app_route", source_id=source.id, id=route_id) == 0:
            raise NotFound(f"route {route_id!r} not found")
