"""Applications: the tenants that messages are sent for, addressed by id or uid."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import orjson

from hookwire.clock import now_ms, to_datetime
from hookwire.errors import Conflict, NotFound
from hookwire.ids import new_id
from hookwire.outbound.keys import check_new_key
from hookwire.outbound.models import ApplicationIn, ApplicationOut, ApplicationPatch, ListResponse
from hookwire.outbound.pagination import HIGHEST_KEY, check_limit, page
from hookwire.outbound.records import AppRecord
from hookwire.runtime import Runtime
from hookwire.store import Executor, typed, typed_one


def app_out(row: AppRecord) -> ApplicationOut:
    return ApplicationOut(
        id=row.id,
        uid=row.uid,
        name=row.name,
        throttle_rate=row.throttle_rate,
        metadata=orjson.loads(row.metadata),
        created_at=to_datetime(row.created_at),
        updated_at=to_datetime(row.updated_at),
    )


async def find_app(db: Executor, key: str) -> AppRecord | None:
    return typed_one(AppRecord, await db.fetchrow("get_app", key=key))


async def require_app(db: Executor, key: str) -> AppRecord:
    row = await find_app(db, key)
    if row is None:
        raise NotFound(f"application {key!r} not found")
    return row


async def _insert(db: Executor, data: ApplicationIn, app_id: str | None = None) -> AppRecord:
    if data.uid is not None and await find_app(db, data.uid) is not None:
        raise Conflict(f"an application with uid {data.uid!r} already exists")
    params: dict[str, Any] = {
        "id": app_id or new_id("app"),
        "uid": data.uid,
        "name": data.name,
        "throttle_rate": data.throttle_rate,
        "metadata": orjson.dumps(data.metadata or {}).decode(),
        "now": now_ms(),
    }
    if await db.execute("insert_app", **params) == 0:  # a concurrent request took the uid
        raise Conflict(f"an application with uid {data.uid!r} already exists")
    row = await find_app(db, params["id"])
    assert row is not None
    return row


async def create_app(
    rt: Runtime, data: ApplicationIn, *, get_if_exists: bool = False
) -> tuple[ApplicationOut, bool]:
    """Create an application; with get_if_exists, return the one with the same uid instead.

    Returns the application and whether it was created.
    """
    async with rt.db.transaction() as tx:
        if data.uid is not None and get_if_exists:
            existing = await find_app(tx, data.uid)
            if existing is not None:
                return app_out(existing), False
        return app_out(await _insert(tx, data)), True


async def get_or_create_in_tx(tx: Executor, key: str, data: ApplicationIn) -> AppRecord:
    """The application with id or uid `key`; when missing, created from `data` with `key` as uid.

    Used by message creation (`MessageIn.application`), inside its transaction.
    """
    existing = await find_app(tx, key)
    if existing is not None:
        return existing
    return await _insert(tx, data.model_copy(update={"uid": check_new_key(key, "app_id")}))


async def get_app(rt: Runtime, key: str) -> ApplicationOut:
    return app_out(await require_app(rt.db, key))


async def list_apps(
    rt: Runtime, *, limit: int | None, iterator: str | None, descending: bool
) -> ListResponse:
    limit = check_limit(limit)
    if descending:
        rows = await rt.db.fetch("list_apps_desc", before=iterator or HIGHEST_KEY, limit=limit + 1)
    else:
        rows = await rt.db.fetch("list_apps_asc", after=iterator or "", limit=limit + 1)
    return page(typed(AppRecord, rows), limit, "id", app_out)


async def _update(tx: Executor, row: AppRecord, changes: dict[str, Any]) -> ApplicationOut:
    merged = {**asdict(row), **changes}
    if changes.get("uid") and changes["uid"] != row.uid:
        other = await find_app(tx, changes["uid"])
        if other is not None and other.id != row.id:
            raise Conflict(f"an application with uid {changes['uid']!r} already exists")
    await tx.execute(
        "update_app",
        id=row.id,
        uid=merged["uid"],
        name=merged["name"],
        throttle_rate=merged["throttle_rate"],
        metadata=merged["metadata"],
        now=now_ms(),
    )
    return app_out(await require_app(tx, row.id))


async def upsert_app(rt: Runtime, key: str, data: ApplicationIn) -> tuple[ApplicationOut, bool]:
    """PUT: replace the application, or create it with `key` as its uid when missing.

    A body without a uid keeps the current one: the application stays reachable by the
    key it was just addressed with.
    """
    async with rt.db.transaction() as tx:
        row = await find_app(tx, key)
        if row is None:
            if data.uid is None:
                data = data.model_copy(update={"uid": check_new_key(key, "app_id")})
            return app_out(await _insert(tx, data)), True
        changes = {
            "uid": data.uid if data.uid is not None else row.uid,
            "name": data.name,
            "throttle_rate": data.throttle_rate,
            "metadata": orjson.dumps(data.metadata or {}).decode(),
        }
        return await _update(tx, row, changes), False


async def patch_app(rt: Runtime, key: str, patch: ApplicationPatch) -> ApplicationOut:
    async with rt.db.transaction() as tx:
        row = await require_app(tx, key)
        changes = patch.model_dump(exclude_unset=True)
        if "metadata" in changes:
            changes["metadata"] = orjson.dumps(changes["metadata"] or {}).decode()
        return await _update(tx, row, changes)


async def delete_app(rt: Runtime, key: str) -> None:
    """Delete an application; refused (409, naming the source) while an ingest source delivers
    through it, since deleting the source's application silently would break its ingest URL."""
    async with rt.db.transaction() as tx:
        row = await require_app(tx, key)
        backing = await tx.fetch("sources_backed_by_app", app_id=row.id)
        if backing:
            names = ", ".join(s["uid"] or s["id"] for s in backing)
            raise Conflict(
                f"application {key!r} backs the ingest source {names}; delete the source "
                "first (DELETE /ingest/api/v1/source/{id})"
            )
        await tx.execute("delete_app", id=row.id)
