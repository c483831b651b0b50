"""Event types: the catalogue of message types endpoints can filter on."""

from __future__ import annotations

from typing import Any

import orjson

from hookwire.clock import now_ms, to_datetime
from hookwire.errors import Conflict, NotFound
from hookwire.outbound.json_values import encode_json
from hookwire.outbound.keys import check_new_key
from hookwire.outbound.models import EventTypeIn, EventTypeOut, EventTypePatch, ListResponse
from hookwire.outbound.pagination import HIGHEST_KEY, check_limit, page
from hookwire.runtime import Runtime
from hookwire.store import Executor, Row


def _json_or_none(value: Any, field: str) -> str | None:
    return None if value is None else encode_json(value, field).decode()


def event_type_out(row: Row) -> EventTypeOut:
    return EventTypeOut(
        name=row["name"],
        description=row["description"],
        archived=bool(row["archived"]),
        deprecated=bool(row["deprecated"]),
        schemas=orjson.loads(row["schemas"]) if row["schemas"] else None,
        group_name=row["group_name"],
        feature_flags=orjson.loads(row["feature_flags"]) if row["feature_flags"] else None,
        created_at=to_datetime(row["created_at"]),
        updated_at=to_datetime(row["updated_at"]),
    )


async def _require(db: Executor, name: str) -> Row:
    row = await db.fetchrow("get_event_type", name=name)
    if row is None:
        raise NotFound(f"event type {name!r} not found")
    return row


def _columns(data: EventTypeIn | dict[str, Any]) -> dict[str, Any]:
    values = data.model_dump() if isinstance(data, EventTypeIn) else data
    return {
        "description": values.get("description") or "",
        "archived": int(bool(values.get("archived"))),
        "deprecated": int(bool(values.get("deprecated"))),
        "schemas": _json_or_none(values.get("schemas"), "schemas"),
        "group_name": values.get("group_name"),
        "feature_flags": _json_or_none(values.get("feature_flags"), "featureFlags"),
    }


async def create_event_type(rt: Runtime, data: EventTypeIn) -> EventTypeOut:
    async with rt.db.transaction() as tx:
        if await tx.execute("insert_event_type", name=data.name, now=now_ms(), **_columns(data)) == 0:
            raise Conflict(f"event type {data.name!r} already exists")
        return event_type_out(await _require(tx, data.name))


async def get_event_type(rt: Runtime, name: str) -> EventTypeOut:
    return event_type_out(await _require(rt.db, name))


async def list_event_types(
    rt: Runtime, *, limit: int | None, iterator: str | None, descending: bool, include_archived: bool
) -> ListResponse:
    limit = check_limit(limit)
    archived = int(include_archived)
    if descending:
        rows = await rt.db.fetch(
            "list_event_types_desc",
            before=iterator or HIGHEST_KEY,
            include_archived=archived,
            limit=limit + 1,
        )
    else:
        rows = await rt.db.fetch(
            "list_event_types_asc", after=iterator or "", include_archived=archived, limit=limit + 1
        )
    return page(rows, limit, "name", event_type_out)


async def upsert_event_type(
    rt: Runtime, name: str, data: EventTypeIn | EventTypePatch
) -> tuple[EventTypeOut, bool]:
    async with rt.db.transaction() as tx:
        row = await tx.fetchrow("get_event_type", name=name)
        if row is None:
            check_new_key(name, "event_type_name")
            values = _columns(data.model_dump())
            if await tx.execute("insert_event_type", name=name, now=now_ms(), **values) == 0:
                raise Conflict(f"event type {name!r} was created concurrently; retry")
            return event_type_out(await _require(tx, name)), True
        await tx.execute("update_event_type", name=name, now=now_ms(), **_columns(data.model_dump()))
        return event_type_out(await _require(tx, name)), False


async def patch_event_type(rt: Runtime, name: str, patch: EventTypePatch) -> EventTypeOut:
    async with rt.db.transaction() as tx:
        row = await _require(tx, name)
        current = event_type_out(row).model_dump()
        current.update(patch.model_dump(exclude_unset=True))
        await tx.execute("update_event_type", name=name, now=now_ms(), **_columns(current))
        return event_type_out(await _require(tx, name))


async def delete_event_type(rt: Runtime, name: str, *, expunge: bool) -> None:
    """Archive the event type (Svix's default), or remove it entirely with expunge."""
    async with rt.db.transaction() as tx:
        row = await _require(tx, name)
        if expunge:
            await tx.execute("delete_event_type", name=name)
            return
        values = event_type_out(row).model_dump()
        values["archived"] = True
        await tx.execute("update_event_type", name=name, now=now_ms(), **_columns(values))


async def all_event_type_names(rt: Runtime) -> list[str]:
    """Every event type's name, archived ones included (for imports that replace them all)."""
    return [row["name"] for row in await rt.db.fetch("all_event_type_names")]


async def all_event_types(rt: Runtime) -> list[EventTypeOut]:
    """Every event type, archived ones included, by name (for the environment export)."""
    return [event_type_out(row) for row in await rt.db.fetch("all_event_types")]
