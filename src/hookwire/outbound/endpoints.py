"""Endpoints: where an application's messages are delivered, with their secrets and headers."""

from __future__ import annotations

import re
from dataclasses import asdict
from typing import Any

import orjson

from hookwire.clock import now_ms, to_datetime
from hookwire.delivery.signing import generate_secret, is_valid_secret
from hookwire.delivery.ssrf import check_url_syntax
from hookwire.errors import Conflict, NotFound, ValidationFailed
from hookwire.ids import new_id
from hookwire.operations import operational_webhooks
from hookwire.operations.event_types import OPERATIONAL_APP_ID, OPERATIONAL_EVENT_TYPES
from hookwire.outbound.applications import require_app
from hookwire.outbound.keys import check_new_key
from hookwire.outbound.messages import create_message
from hookwire.outbound.models import (
    EndpointHeadersOut,
    EndpointIn,
    EndpointOut,
    EndpointPatch,
    EventExampleIn,
    ListResponse,
    MessageIn,
    MessageOut,
)
from hookwire.outbound.pagination import HIGHEST_KEY, check_limit, page
from hookwire.outbound.records import AppRecord, EndpointRecord
from hookwire.runtime import Runtime
from hookwire.secretbox import SecretBox
from hookwire.store import Executor, typed, typed_one

DEFAULT_GRACE_SECONDS = 24 * 3600
MAX_OLD_SECRETS = 10
# Headers hookwire sets itself; an endpoint's custom headers may not replace them.
_RESERVED_HEADERS = frozenset(
    {"content-type", "content-length", "host", "user-agent", "connection", "transfer-encoding"}
)
_RESERVED_PREFIXES = ("webhook-", "svix-")
_HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")  # an RFC 9110 token
_SENSITIVE_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "x-api-key"})


def json_list(value: str | None) -> list[str] | None:
    return orjson.loads(value) if value else None


def endpoint_out(row: EndpointRecord) -> EndpointOut:
    return EndpointOut(
        id=row.id,
        uid=row.uid,
        url=row.url,
        description=row.description,
        throttle_rate=row.throttle_rate,
        disabled=bool(row.disabled),
        event_types=json_list(row.event_types),
        channels=json_list(row.channels),
        metadata=orjson.loads(row.metadata),
        version=row.version,
        created_at=to_datetime(row.created_at),
        updated_at=to_datetime(row.updated_at),
    )


def check_endpoint_url(url: str, loc: str = "url") -> None:
    problem = check_url_syntax(url)
    if problem is not None:
        raise ValidationFailed.field([loc], problem)


def check_headers(headers: dict[str, str]) -> dict[str, str]:
    """Custom headers, validated: HTTP token names, no reserved or repeated names, no line breaks."""
    seen: set[str] = set()
    for name, value in headers.items():
        lower = name.lower()
        if lower in _RESERVED_HEADERS or lower.startswith(_RESERVED_PREFIXES):
            raise ValidationFailed.field(["headers", name], f"header {name!r} is set by hookwire itself")
        if not _HEADER_NAME.fullmatch(name) or any(c in value for c in "\r\n\x00"):
            raise ValidationFailed.field(["headers", name], f"header {name!r} has an invalid name or value")
        if lower in seen:
            raise ValidationFailed.field(["headers", name], f"header {name!r} is given twice")
        seen.add(lower)
    return headers


def _check_secret(secret: str, field: str = "secret") -> None:
    if not is_valid_secret(secret):
        raise ValidationFailed.field(
            [field], "secret must be whsec_ followed by base64 of 24 to 64 bytes (32-100 characters)"
        )


async def _check_event_types(db: Executor, names: list[str] | None, app_id: str) -> list[str] | None:
    if names is None:
        return None
    for name in names:
        if app_id == OPERATIONAL_APP_ID:  # operational endpoints filter hookwire's own event types
            if name not in OPERATIONAL_EVENT_TYPES:
                raise ValidationFailed.field(["eventTypes"], f"{name!r} is not an operational event type")
        elif await db.fetchrow("get_event_type", name=name) is None:
            raise ValidationFailed.field(["eventTypes"], f"event type {name!r} does not exist")
    return names or None


def open_headers(box: SecretBox, sealed: str) -> dict[str, str]:
    return orjson.loads(box.open(sealed))


async def find_endpoint(db: Executor, app_id: str, key: str) -> EndpointRecord | None:
    return typed_one(EndpointRecord, await db.fetchrow("get_endpoint", app_id=app_id, key=key))


async def require_endpoint(db: Executor, app_key: str, key: str) -> tuple[AppRecord, EndpointRecord]:
    app = await require_app(db, app_key)
    row = await find_endpoint(db, app.id, key)
    if row is None:
        raise NotFound(f"endpoint {key!r} not found")
    return app, row


def _check_new(data: EndpointIn) -> None:
    """What can be checked before the transaction: URL, headers and a given secret."""
    check_endpoint_url(data.url)
    check_headers(data.headers or {})
    if data.secret is not None:
        _check_secret(data.secret)


async def _insert(rt: Runtime, tx: Executor, app: AppRecord, data: EndpointIn) -> EndpointOut:
    if data.uid is not None and await find_endpoint(tx, app.id, data.uid) is not None:
        raise Conflict(f"an endpoint with uid {data.uid!r} already exists")
    event_types = await _check_event_types(tx, data.event_types, app.id)
    endpoint_id = new_id("ep")
    now = now_ms()
    inserted = await tx.execute(
        "insert_endpoint",
        id=endpoint_id,
        app_id=app.id,
        uid=data.uid,
        url=data.url,
        description=data.description,
        throttle_rate=data.throttle_rate,
        disabled=int(data.disabled),
        event_types=orjson.dumps(event_types).decode() if event_types else None,
        channels=orjson.dumps(data.channels).decode() if data.channels else None,
        metadata=orjson.dumps(data.metadata or {}).decode(),
        headers=rt.box.seal(orjson.dumps(data.headers or {}).decode()),
        now=now,
    )
    if inserted == 0:  # a concurrent request took the uid
        raise Conflict(f"an endpoint with uid {data.uid!r} already exists")
    secret = generate_secret() if data.secret is None else data.secret
    await tx.execute("insert_endpoint_secret", endpoint_id=endpoint_id, secret=rt.box.seal(secret), now=now)
    row = await find_endpoint(tx, app.id, endpoint_id)
    assert row is not None
    return endpoint_out(row)


async def create_endpoint(rt: Runtime, app_key: str, data: EndpointIn) -> EndpointOut:
    _check_new(data)
    async with rt.db.transaction() as tx:
        app = await require_app(tx, app_key)
        created = await _insert(rt, tx, app, data)
    await _announce(rt, app, None, created.id)
    return created


async def _announce(
    rt: Runtime, app: AppRecord, before: EndpointRecord | None, endpoint_id: str | None
) -> None:
    """Tell the operational webhooks about a committed change (see operations.operational_webhooks)."""
    after = await find_endpoint(rt.db, app.id, endpoint_id) if endpoint_id is not None else None
    await operational_webhooks.endpoint_changed(rt, app, before, after)


async def get_endpoint(rt: Runtime, app_key: str, key: str) -> EndpointOut:
    _, row = await require_endpoint(rt.db, app_key, key)
    return endpoint_out(row)


async def list_endpoints(
    rt: Runtime, app_key: str, *, limit: int | None, iterator: str | None, descending: bool
) -> ListResponse:
    limit = check_limit(limit)
    app = await require_app(rt.db, app_key)
    if descending:
        rows = await rt.db.fetch(
            "list_endpoints_desc", app_id=app.id, before=iterator or HIGHEST_KEY, limit=limit + 1
        )
    else:
        rows = await rt.db.fetch("list_endpoints_asc", app_id=app.id, after=iterator or "", limit=limit + 1)
    return page(typed(EndpointRecord, rows), limit, "id", endpoint_out)


async def _update(rt: Runtime, tx: Executor, row: EndpointRecord, changes: dict[str, Any]) -> EndpointOut:
    if "url" in changes:
        check_endpoint_url(changes["url"])
    if changes.get("uid") and changes["uid"] != row.uid:
        other = await find_endpoint(tx, row.app_id, changes["uid"])
        if other is not None and other.id != row.id:
            raise Conflict(f"an endpoint with uid {changes['uid']!r} already exists")
    if "event_types" in changes:
        types = await _check_event_types(tx, changes["event_types"], row.app_id)
        changes["event_types"] = orjson.dumps(types).decode() if types else None
    if "channels" in changes:
        changes["channels"] = orjson.dumps(changes["channels"]).decode() if changes["channels"] else None
    if "metadata" in changes:
        changes["metadata"] = orjson.dumps(changes["metadata"] or {}).decode()
    if "disabled" in changes:
        changes["disabled"] = int(bool(changes["disabled"]))
    merged = {**asdict(row), **changes}
    await tx.execute(
        "update_endpoint",
        id=row.id,
        uid=merged["uid"],
        url=merged["url"],
        description=merged["description"] or "",
        throttle_rate=merged["throttle_rate"],
        disabled=merged["disabled"],
        event_types=merged["event_types"],
        channels=merged["channels"],
        metadata=merged["metadata"],
        headers=merged["headers"],
        now=now_ms(),
    )
    if "secret" in changes:
        await _replace_secret(rt, tx, row.id, changes["secret"], grace_seconds=0)
    fresh = await find_endpoint(tx, row.app_id, row.id)
    assert fresh is not None
    return endpoint_out(fresh)


async def upsert_endpoint(rt: Runtime, app_key: str, key: str, data: EndpointIn) -> tuple[EndpointOut, bool]:
    """PUT: replace the endpoint, or create it with `key` as its uid when missing.

    A body without a uid keeps the current one (the endpoint stays reachable by `key`);
    a body without headers or a secret keeps those, as Svix's EndpointUpsertIn has neither.
    """
    _check_new(data)
    async with rt.db.transaction() as tx:
        app = await require_app(tx, app_key)
        row = await find_endpoint(tx, app.id, key)
        if row is None:
            if data.uid is None:
                data = data.model_copy(update={"uid": check_new_key(key, "endpoint_id")})
            result, created = await _insert(rt, tx, app, data), True
        else:
            changes = data.model_dump(exclude={"headers", "version", "secret"})
            if data.uid is None:
                changes["uid"] = row.uid
            if data.secret is not None:
                changes["secret"] = data.secret
            if data.headers is not None:
                changes["headers"] = rt.box.seal(orjson.dumps(data.headers).decode())
            result, created = await _update(rt, tx, row, changes), False
    await _announce(rt, app, row, result.id)
    return result, created


async def patch_endpoint(rt: Runtime, app_key: str, key: str, patch: EndpointPatch) -> EndpointOut:
    changes = patch.model_dump(exclude_unset=True)
    if changes.get("secret") is None:  # null leaves the secret as it is
        changes.pop("secret", None)
    else:
        _check_secret(changes["secret"])
    async with rt.db.transaction() as tx:
        app, row = await require_endpoint(tx, app_key, key)
        result = await _update(rt, tx, row, changes)
    await _announce(rt, app, row, result.id)
    return result


async def delete_endpoint(rt: Runtime, app_key: str, key: str) -> None:
    async with rt.db.transaction() as tx:
        app, row = await require_endpoint(tx, app_key, key)
        await tx.execute("delete_endpoint", id=row.id)
    await _announce(rt, app, row, None)


# ------------------------------------------------------------------ secrets


async def get_secret(rt: Runtime, app_key: str, key: str) -> str:
    _, row = await require_endpoint(rt.db, app_key, key)
    sealed = await rt.db.fetchrow("get_current_secret", endpoint_id=row.id)
    assert sealed is not None, "every endpoint has a current secret"
    return rt.box.open(sealed["secret"])


async def _replace_secret(
    rt: Runtime, tx: Executor, endpoint_id: str, secret: str, *, grace_seconds: int
) -> None:
    now = now_ms()
    await tx.execute("purge_expired_secrets", endpoint_id=endpoint_id, now=now)
    await tx.execute("expire_current_secret", endpoint_id=endpoint_id, expires_at=now + grace_seconds * 1000)
    await tx.execute("insert_endpoint_secret", endpoint_id=endpoint_id, secret=rt.box.seal(secret), now=now)
    await tx.execute("bump_endpoint_version", id=endpoint_id, now=now)


async def rotate_secret(
    rt: Runtime, app_key: str, key: str, *, new_secret: str | None, grace_period_seconds: int | None
) -> str:
    """Make a new current secret (returned); the old one keeps signing until the grace period ends."""
    secret = generate_secret() if new_secret is None else new_secret
    _check_secret(secret, "key")
    grace = DEFAULT_GRACE_SECONDS if grace_period_seconds is None else grace_period_seconds
    async with rt.db.transaction() as tx:
        _, row = await require_endpoint(tx, app_key, key)
        active = await tx.fetch("signing_secrets", ids=[row.id], now=now_ms())
        if len(active) > MAX_OLD_SECRETS:
            raise Conflict(f"an endpoint keeps at most {MAX_OLD_SECRETS} old secrets; wait for one to expire")
        await _replace_secret(rt, tx, row.id, secret, grace_seconds=grace)
    return secret


# ------------------------------------------------------------------ headers


def _headers_out(headers: dict[str, str]) -> EndpointHeadersOut:
    sensitive = sorted(name for name in headers if name.lower() in _SENSITIVE_HEADERS)
    shown = {name: value for name, value in headers.items() if name not in sensitive}
    return EndpointHeadersOut(headers=shown, sensitive=sensitive)


async def get_headers(rt: Runtime, app_key: str, key: str) -> EndpointHeadersOut:
    _, row = await require_endpoint(rt.db, app_key, key)
    return _headers_out(open_headers(rt.box, row.headers))


async def set_headers(
    rt: Runtime,
    app_key: str,
    key: str,
    headers: dict[str, str],
    *,
    merge: bool,
    delete: list[str] | None = None,
) -> None:
    """PUT replaces the custom headers; PATCH (merge) adds or replaces some and deletes others.

    Header names are case-insensitive: `x-a` replaces or deletes a stored `X-A`.
    """
    check_headers(headers)
    async with rt.db.transaction() as tx:
        _, row = await require_endpoint(tx, app_key, key)
        current = open_headers(rt.box, row.headers) if merge else {}
        deleted = {name.lower() for name in delete or ()}
        replaced = {name.lower() for name in headers} | deleted
        kept = {name: value for name, value in current.items() if name.lower() not in replaced}
        kept.update((name, value) for name, value in headers.items() if name.lower() not in deleted)
        sealed = rt.box.seal(orjson.dumps(kept).decode())
        await _update(rt, tx, row, {"headers": sealed})


# ------------------------------------------------------------------ examples


async def send_example(rt: Runtime, app_key: str, key: str, data: EventExampleIn) -> MessageOut:
    """Send an example message of an existing event type to this endpoint only.

    The example comes from the event type's schema (`examples[exampleIndex]` of its
    latest version) when it has one, else a small placeholder payload.
    """
    endpoint = await get_endpoint(rt, app_key, key)
    event_type = await rt.db.fetchrow("get_event_type", name=data.event_type)
    if event_type is None:
        raise NotFound(f"event type {data.event_type!r} not found")
    payload = data.payload or _schema_example(event_type["schemas"], data.example_index or 0)
    if payload is None:
        payload = {"type": data.event_type, "data": {"example": True}}
    message, _ = await create_message(
        rt, app_key, MessageIn(event_type=data.event_type, payload=payload), only_endpoint=endpoint.id
    )
    return message


def _schema_example(schemas: str | None, index: int) -> dict[str, Any] | None:
    versions: dict[str, Any] = orjson.loads(schemas) if schemas else {}
    if not versions:
        return None
    latest = versions[max(versions, key=lambda v: (len(v), v))]
    examples = latest.get("examples") if isinstance(latest, dict) else None
    if not examples:
        return None
    if not 0 <= index < len(examples):
        raise ValidationFailed.field(["exampleIndex"], f"the event type has {len(examples)} example(s)")
    example = examples[index]
    return example if isinstance(example, dict) else None
