"""Sources: where providers send webhooks, each with an unguessable ingest URL.

A source owns a hidden application; its ingest endpoints are that application's
endpoints, so forwards go through the delivery engine (signed, retried, logged).
The ingest token is stored as a SHA-256 for lookup and sealed for display.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

import orjson

from hookwire.clock import now_ms, to_datetime
from hookwire.errors import Conflict, NotFound, ValidationFailed
from hookwire.ids import new_id
from hookwire.ingest.models import (
    SECRET_FIELDS,
    IngestSourceIn,
    IngestSourceOut,
    RotateTokenOut,
    is_source_uid,
)
from hookwire.ingest.providers import PROVIDERS
from hookwire.ingest.records import SourceRecord
from hookwire.outbound import portal_access
from hookwire.outbound.json_values import encode_json
from hookwire.outbound.models import ListResponse
from hookwire.outbound.pagination import HIGHEST_KEY, check_limit, page
from hookwire.outbound.portal_access import PortalAccessIn, PortalAccessOut
from hookwire.runtime import Runtime
from hookwire.store import Executor, typed, typed_one


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def ingest_url(rt: Runtime, token: str) -> str:
    return f"{rt.settings.base_url}/in/{token}"


def _redacted(config: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in config.items():
        if key in SECRET_FIELDS:
            continue
        out[key] = _redacted(value) if isinstance(value, dict) else value
    return out


def source_config(rt: Runtime, row: SourceRecord) -> dict[str, Any]:
    """The source's full config, secrets included (for verification only)."""
    return orjson.loads(rt.box.open(row.config))


def source_out(rt: Runtime, row: SourceRecord) -> IngestSourceOut:
    return IngestSourceOut(
        id=row.id,
        uid=row.uid,
        name=row.name,
        type=row.type,
        config=_redacted(source_config(rt, row)),
        metadata=orjson.loads(row.metadata),
        ingest_url=ingest_url(rt, rt.box.open(row.token)),
        app_id=row.app_id,
        created_at=to_datetime(row.created_at),
        updated_at=to_datetime(row.updated_at),
    )


def _check_type(type_: str) -> None:
    if type_ not in PROVIDERS:
        known = ", ".join(sorted(PROVIDERS))
        raise ValidationFailed.field(["type"], f"unknown source type {type_!r}; known types: {known}")


async def require_source(db: Executor, key: str) -> SourceRecord:
    row = typed_one(SourceRecord, await db.fetchrow("get_source", key=key))
    if row is None:
        raise NotFound(f"source {key!r} not found")
    return row


async def create_source(rt: Runtime, data: IngestSourceIn) -> IngestSourceOut:
    _check_type(data.type)
    token = secrets.token_urlsafe(24)
    now = now_ms()
    source_id = new_id("src", now)
    app_id = new_id("app", now)
    async with rt.db.transaction() as tx:
        if data.uid is not None and await tx.fetchrow("get_source", key=data.uid) is not None:
            raise Conflict(f"a source with uid {data.uid!r} already exists")
        await tx.execute(
            "insert_source_app", id=app_id, name=f"source {data.name}", source_id=source_id, now=now
        )
        await tx.execute(
            "insert_source",
            id=source_id,
            uid=data.uid,
            name=data.name,
            type=data.type,
            config=rt.box.seal(encode_json(data.config, "config").decode()),
            metadata=orjson.dumps(data.metadata or {}).decode(),
            token_hash=token_hash(token),
            token=rt.box.seal(token),
            app_id=app_id,
            now=now,
        )
        return source_out(rt, await require_source(tx, source_id))


async def get_source(rt: Runtime, key: str) -> IngestSourceOut:
    return source_out(rt, await require_source(rt.db, key))


async def list_sources(
    rt: Runtime, *, limit: int | None, iterator: str | None, descending: bool
) -> ListResponse:
    limit = check_limit(limit)
    if descending:
        rows = await rt.db.fetch("list_sources_desc", before=iterator or HIGHEST_KEY, limit=limit + 1)
    else:
        rows = await rt.db.fetch("list_sources_asc", after=iterator or "", limit=limit + 1)
    return page(typed(SourceRecord, rows), limit, "id", lambda r: source_out(rt, r))


async def upsert_source(rt: Runtime, key: str, data: IngestSourceIn) -> tuple[IngestSourceOut, bool]:
    """PUT: replace the source's name, type and config (the ingest URL stays), or create it."""
    _check_type(data.type)
    async with rt.db.transaction() as tx:
        row = typed_one(SourceRecord, await tx.fetchrow("get_source", key=key))
        if row is not None:
            if data.uid and data.uid != row.uid:
                other = await tx.fetchrow("get_source", key=data.uid)
                if other is not None and other["id"] != row.id:
                    raise Conflict(f"a source with uid {data.uid!r} already exists")
            await tx.execute(
                "update_source",
                id=row.id,
                uid=data.uid if data.uid is not None else row.uid,
                name=data.name,
                type=data.type,
                config=rt.box.seal(encode_json(data.config, "config").decode()),
                metadata=orjson.dumps(data.metadata or {}).decode(),
                now=now_ms(),
            )
            return source_out(rt, await require_source(tx, row.id)), False
    if data.uid is None:
        if not is_source_uid(key):  # e.g. an unknown `src_...` ID: nothing to create it as
            raise NotFound(f"source {key!r} not found")
        data = data.model_copy(update={"uid": key})
    return await create_source(rt, data), True


async def delete_source(rt: Runtime, key: str) -> None:
    async with rt.db.transaction() as tx:
        row = await require_source(tx, key)
        await tx.execute("delete_source", id=row.id)
        await tx.execute("delete_source_app", id=row.app_id)


async def rotate_token(rt: Runtime, key: str) -> RotateTokenOut:
    """A new ingest URL; the old one stops working at once."""
    token = secrets.token_urlsafe(24)
    async with rt.db.transaction() as tx:
        row = await require_source(tx, key)
        await tx.execute(
            "update_source_token",
            id=row.id,
            token_hash=token_hash(token),
            token=rt.box.seal(token),
            now=now_ms(),
        )
    return RotateTokenOut(ingest_url=ingest_url(rt, token))


async def dashboard_access(
    rt: Runtime, key: str, *, expiry: int | None, read_only: bool | None
) -> PortalAccessOut:
    """Svix's `consumer-portal-access` for a source: a link to the source's request view.

    The URL is the dashboard's page for the source (`/ui/sources/{id}`); the token is a portal
    token scoped to the source's hidden application, expiring like any portal token."""
    row = await require_source(rt.db, key)
    access = await portal_access.issue(rt, row.app_id, PortalAccessIn(expiry=expiry, read_only=read_only))
    return PortalAccessOut(url=f"{rt.settings.base_url}/ui/sources/{row.id}", token=access.token)
