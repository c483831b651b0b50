"""`hookwire listen`, server side: listeners, their durable cursors, and the events they read.

A listener is known by a stable id (derived from what it listens to and the name the CLI
sends), so one that comes back after a laptop slept reads on from its cursor: every event
that arrived meanwhile is still stored, and it gets them in id order. The cursor moves only
when the CLI has answered for an event, so an event in flight when the connection drops is
sent again after the reconnect (at most one duplicate per lost connection).

Two kinds: `source` listeners read the accepted inbound requests of one or more ingest sources;
`app` listeners read the messages of one application and act as an endpoint of it while they
run (the CLI signs what it forwards with the server's stable listen secret).
"""

from __future__ import annotations

import base64
import fnmatch
import hashlib
import heapq
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import orjson

from hookwire.clock import now_ms, to_datetime
from hookwire.errors import ValidationFailed
from hookwire.ids import new_id
from hookwire.ingest.models import ListenerForwardOut
from hookwire.ingest.sources import require_source
from hookwire.outbound.applications import require_app
from hookwire.runtime import Runtime
from hookwire.store import Row

Kind = Literal["source", "app"]
_SECRET_KEY = "listen_secret"
BODY_KEPT = 1024  # bytes of the local answer stored with the event


@dataclass(frozen=True)
class Target:
    id: str
    name: str


@dataclass
class Listener:
    id: str
    kind: Kind
    targets: tuple[Target, ...]
    cursor: str
    event_types: tuple[str, ...]  # fnmatch patterns; empty means every type

    def wants(self, event_type: str | None) -> bool:
        if not self.event_types:
            return True
        return event_type is not None and any(fnmatch.fnmatchcase(event_type, p) for p in self.event_types)


@dataclass(frozen=True)
class ListenEvent:
    """One event as the CLI gets it: an inbound request, or an application's message."""

    id: str
    kind: Kind
    target_id: str
    event_type: str | None
    event_id: str | None
    method: str
    path: str
    query: str
    headers: Sequence[tuple[str, str]]
    body: bytes
    created_at: int

    def frame(self, *, replay: bool = False) -> dict[str, Any]:
        return {
            "type": "event",
            "id": self.id,
            "kind": self.kind,
            "targetId": self.target_id,
            "eventType": self.event_type,
            "eventId": self.event_id,
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "headers": [list(h) for h in self.headers],
            "body": base64.b64encode(self.body).decode(),
            "createdAt": self.created_at,
            "replay": replay,
        }


def _from_request(row: Row) -> ListenEvent:
    headers = orjson.loads(row["headers"])
    pairs = headers.items() if isinstance(headers, dict) else headers
    return ListenEvent(
        id=row["id"],
        kind="source",
        target_id=row["source_id"],
        event_type=row["event_type"],
        event_id=row["event_id"],
        method=row["method"],
        path=row["path"],
        query=row["query"],
        headers=[(str(k), str(v)) for k, v in pairs],
        body=bytes(row["body"]),
        created_at=row["created_at"],
    )


def _from_message(row: Row) -> ListenEvent:
    return ListenEvent(
        id=row["id"],
        kind="app",
        target_id=row["app_id"],
        event_type=row["event_type"],
        event_id=row["event_id"],
        method="POST",
        path="",
        query="",
        headers=[("content-type", "application/json")],
        body=bytes(row["payload"]) if row["payload"] is not None else b"",
        created_at=row["created_at"],
    )


_READ = {
    "source": ("listen_inbound", "source_id", _from_request),
    "app": ("listen_messages", "app_id", _from_message),
}


def listener_id(kind: Kind, target_ids: Sequence[str], name: str) -> str:
    """The same listener on every reconnect: what it listens to plus the name the CLI sends."""
    digest = hashlib.sha256(orjson.dumps([kind, sorted(target_ids), name])).hexdigest()
    return "lst_" + digest[:24]


async def open_listener(
    rt: Runtime, kind: Kind, keys: Sequence[str], name: str, event_types: Sequence[str] = ()
) -> Listener:
    """Resolve the targets (ids or uids; NotFound names a missing one) and load or create the
    listener. A new listener starts at the newest event: history comes only with replay."""
    if not keys:
        raise ValidationFailed("listen to at least one source, or to one application")
    if kind == "app" and len(keys) != 1:
        raise ValidationFailed("an app listener listens to exactly one application")
    if kind == "source":
        named = [((source := await require_source(rt.db, k)).id, source.name) for k in keys]
    else:
        named = [((app := await require_app(rt.db, k)).id, app.name) for k in keys]
    targets = tuple(dict.fromkeys(Target(i, n) for i, n in named))
    lid = listener_id(kind, [t.id for t in targets], name)
    now = now_ms()
    prefix, column, _ = _READ[kind]
    latest = ""
    for target in targets:
        row = await rt.db.fetchrow(f"{prefix}_latest_id", **{column: target.id})
        latest = max(latest, (row or {}).get("id") or "")
    stored_targets = orjson.dumps([t.id for t in targets]).decode()
    await rt.db.execute("insert_listener", id=lid, kind=kind, targets=stored_targets, cursor=latest, now=now)
    await rt.db.execute("listener_connected", id=lid, targets=stored_targets, now=now)
    row = await rt.db.fetchrow("get_listener", id=lid)
    assert row is not None
    return Listener(lid, kind, targets, row["cursor"], tuple(event_types))


async def disconnected(rt: Runtime, listener: Listener) -> None:
    await rt.db.execute("listener_disconnected", id=listener.id, now=now_ms())


async def events_after_cursor(rt: Runtime, listener: Listener, limit: int = 100) -> list[ListenEvent]:
    """The next events after the cursor, oldest first, across every target."""
    prefix, column, convert = _READ[listener.kind]
    per_target = [
        await rt.db.fetch(f"{prefix}_after", **{column: t.id}, after=listener.cursor, limit=limit)
        for t in listener.targets
    ]
    merged = heapq.merge(*per_target, key=lambda r: r["id"])
    return [convert(row) for _, row in zip(range(limit), merged, strict=False)]


async def history(
    rt: Runtime, listener: Listener, *, count: int | None, since_ms: int | None, limit: int = 1000
) -> list[ListenEvent]:
    """Events up to the cursor, for `--replay N` (the last N) or `--since` (newer than that),
    oldest first. Events after the cursor are not here: they come anyway."""
    if count is None and since_ms is None:
        return []
    want = min(count if count is not None else limit, limit)
    prefix, column, convert = _READ[listener.kind]
    rows: list[Row] = []
    for target in listener.targets:
        rows += await rt.db.fetch(
            f"{prefix}_before",
            **{column: target.id},
            before=listener.cursor,
            since=since_ms or 0,
            limit=want,
        )
    chosen = sorted(rows, key=lambda r: r["id"])[-want:] if want else []
    return [e for e in map(convert, chosen) if listener.wants(e.event_type)]


async def late_event(rt: Runtime, listener: Listener, event_id: str) -> ListenEvent | None:
    """An event announced live whose id sorts at or before the cursor (ids are ordered by
    millisecond; two in one millisecond, or a commit that lost a race, can land behind it):
    it is still forwarded once, unless this listener already answered for it."""
    if event_id > listener.cursor:
        return None  # events_after_cursor reads it
    if await rt.db.fetchrow("listener_forwarded", listener_id=listener.id, event_id=event_id):
        return None
    prefix, _, convert = _READ[listener.kind]
    row = await rt.db.fetchrow(f"{prefix}_get", id=event_id)
    if row is None:
        return None
    event = convert(row)
    if event.target_id not in {t.id for t in listener.targets} or not listener.wants(event.event_type):
        return None
    return event


async def skip(rt: Runtime, listener: Listener, event: ListenEvent) -> None:
    """An event the listener filters out (`--events`): the cursor moves past it."""
    await _advance(rt, listener, event.id)


async def record_forward(rt: Runtime, listener: Listener, event: ListenEvent, result: dict[str, Any]) -> None:
    """Keep what the local receiver answered (shown with the event in the API), then move the
    cursor past the event."""
    status = result.get("status")
    now = now_ms()
    await rt.db.execute(
        "insert_listener_forward",
        id=new_id("lfwd", now),
        listener_id=listener.id,
        event_id=event.id,
        url=str(result.get("url") or "")[:2048],
        status=int(status) if isinstance(status, int) else None,
        duration_ms=max(0, int(result.get("durationMs") or 0)),
        body=str(result.get("body") or "")[:BODY_KEPT],
        error=(str(result["error"])[:1024] if result.get("error") else None),
        now=now,
    )
    await _advance(rt, listener, event.id)


async def _advance(rt: Runtime, listener: Listener, event_id: str) -> None:
    if event_id > listener.cursor:
        listener.cursor = event_id
        await rt.db.execute("advance_listener", id=listener.id, cursor=event_id, now=now_ms())


async def forwards_of(rt: Runtime, event_id: str) -> list[ListenerForwardOut]:
    """What each listener's local receiver answered for one event, oldest first."""
    rows = await rt.db.fetch("list_event_forwards", event_id=event_id)
    return [
        ListenerForwardOut(
            listener_id=r["listener_id"],
            url=r["url"],
            status=r["status"],
            duration_ms=r["duration_ms"],
            body=r["body"],
            error=r["error"],
            created_at=to_datetime(r["created_at"]),
        )
        for r in rows
    ]


async def listen_secret(rt: Runtime) -> str:
    """The stable `whsec_` secret `hookwire listen --app` signs with: made once, kept sealed in the
    database, the same for every listener and every restart, so scripts can keep it."""
    row = await rt.db.fetchrow("get_meta", key=_SECRET_KEY)
    if row is None:
        fresh = "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
        await rt.db.execute("insert_meta_if_absent", key=_SECRET_KEY, value=rt.box.seal(fresh))
        row = await rt.db.fetchrow("get_meta", key=_SECRET_KEY)  # another process may have won
        assert row is not None
    return rt.box.open(row["value"])
