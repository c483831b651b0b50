"""The router: turns accepted requests into forwards, application messages and automation runs.

It runs after the answer, woken by the `inbound.received` event of an accepted request
(and by a slow poll), in the queue core's loop (`hookwire.queue`). Each batch is routed in one
transaction that also marks the requests routed, so a crash re-routes nothing twice and
loses nothing; on PostgreSQL the batch is claimed with SKIP LOCKED so several servers
share the work. A request that cannot be routed for a reason of its own is marked
`failed` with that reason, and the batch goes on (`queue.isolating`).
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import orjson

from hookwire.clock import now_ms
from hookwire.errors import DatabaseUnavailable, PayloadTooLarge
from hookwire.events import INBOUND_RECEIVED, SubscriptionOverflow
from hookwire.ids import new_id
from hookwire.ingest import jmes
from hookwire.ingest.events import body_document, content_type_of, event_type_for
from hookwire.outbound.routing import endpoint_matches, select_endpoints
from hookwire.queue import RowFailed, claim_until_stopped, isolating
from hookwire.runtime import Runtime
from hookwire.store import Executor, typed

log = logging.getLogger("hookwire.ingest")

BATCH = 50


@dataclass(frozen=True, slots=True)
class UnroutedRequest:
    """An accepted inbound request waiting to be routed (`unrouted_requests`), with its source."""

    id: str
    source_id: str
    headers: str  # JSON
    body: bytes
    event_id: str | None
    event_type: str | None
    created_at: int
    source_type: str
    source_uid: str | None
    source_app_id: str  # the source's own application (ingest endpoints)


# Called inside the routing transaction for every accepted event (automations hook in here).
EventHook = Callable[[Executor, UnroutedRequest, str, Any, int], Awaitable[None]]


async def _insert_message(
    tx: Executor,
    *,
    app_id: str,
    event_type: str,
    event_id: str,
    payload: bytes,
    content_type: str | None,
    targets: list[str],
    now: int,
) -> None:
    msg_id = new_id("msg", now)
    inserted = await tx.execute(
        "insert_forward_message",
        id=msg_id,
        app_id=app_id,
        event_type=event_type,
        event_id=event_id,
        payload=payload,
        content_type=content_type,
        now=now,
    )
    if inserted and targets:
        await tx.executemany(
            "insert_delivery",
            [
                {"msg_id": msg_id, "endpoint_id": t, "app_id": app_id, "next_attempt_at": now, "now": now}
                for t in targets
            ],
        )


def _check_size(payload: bytes, max_bytes: int) -> bytes:
    if len(payload) > max_bytes:
        raise PayloadTooLarge(f"the transformed event is {len(payload)} bytes; the limit is {max_bytes}")
    return payload


def _reason(exc: Exception) -> str:
    """What an operator reads on the failed request: the error's own words, bounded."""
    text = str(exc) or type(exc).__name__
    return f"routing failed: {text}"[:1000]


def _json_list(value: str | None) -> list[str] | None:
    return orjson.loads(value) if value else None


async def _forward_to_endpoints(
    tx: Executor, request: UnroutedRequest, event_type: str, document: Any, max_bytes: int, now: int
) -> None:
    """Ingest endpoints: one message per distinct transformation, raw body when none."""
    groups: dict[str | None, list[str]] = defaultdict(list)
    for ep in await tx.fetch("list_source_endpoints", app_id=request.source_app_id):
        if endpoint_matches(_json_list(ep["event_types"]), None, event_type, None) and jmes.passes(
            ep["filter"], document
        ):
            groups[ep["transformation"]].append(ep["id"])
    headers = orjson.loads(request.headers)
    for n, (transformation, targets) in enumerate(sorted(groups.items(), key=lambda g: g[0] or "")):
        if transformation is None:
            payload, content_type = bytes(request.body), content_type_of(headers)
        else:
            payload, content_type = orjson.dumps(jmes.transform(transformation, document)), None
            _check_size(payload, max_bytes)
        await _insert_message(
            tx,
            app_id=request.source_app_id,
            event_type=event_type,
            event_id=f"{request.id}.{n}",
            payload=payload,
            content_type=content_type,
            targets=targets,
            now=now,
        )


async def _route_to_apps(
    tx: Executor, request: UnroutedRequest, event_type: str, document: Any, max_bytes: int, now: int
) -> None:
    """Application routes: each accepted event becomes a message of the target application."""
    for route in await tx.fetch("list_app_routes", source_id=request.source_id):
        wanted = _json_list(route["event_types"])
        if (wanted and event_type not in wanted) or not jmes.passes(route["filter"], document):
            continue
        body = jmes.transform(route["transformation"], document)
        if not isinstance(body, dict):
            body = {"body": body}
        mapped = (
            orjson.loads(route["event_type_map"]).get(event_type) or route["event_type_prefix"] + event_type
        )
        endpoints = await tx.fetch("list_fanout_endpoints", app_id=route["app_id"])
        targets = select_endpoints(
            ((e["id"], _json_list(e["event_types"]), _json_list(e["channels"])) for e in endpoints),
            mapped,
            None,
        )
        await _insert_message(
            tx,
            app_id=route["app_id"],
            event_type=mapped,
            event_id=f"{request.id}.{route['id']}",
            payload=_check_size(orjson.dumps(body), max_bytes),
            content_type=None,
            targets=targets,
            now=now,
        )


class IngestRouter:
    def __init__(self, rt: Runtime, hooks: tuple[EventHook, ...] = ()) -> None:
        self._rt = rt
        self._hooks = hooks
        self._wake = asyncio.Event()
        self._stopping = False

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()

    async def route_due(self) -> int:
        """Route one batch of accepted, unrouted requests; returns how many were handled.

        A request that fails for a reason of its own (a transformation that raises, a result
        too big to send) is marked `failed` with the reason and the others are routed (see
        `queue.isolating`). A database that is away is not such a reason: that error
        propagates and the batch is retried as a whole."""
        return await isolating(self._route, self._fail, BATCH, log, "routing inbound request")

    async def _fail(self, failed: RowFailed) -> None:
        await self._rt.db.write(
            [("mark_request_failed", {"id": failed.row_id, "reason": failed.reason, "now": now_ms()})]
        )

    async def _route(self, limit: int) -> int:
        now = now_ms()
        max_bytes = self._rt.settings.max_payload_bytes
        async with self._rt.db.transaction() as tx:
            requests = typed(UnroutedRequest, await tx.fetch("unrouted_requests", limit=limit))
            for request in requests:
                try:
                    await self._route_one(tx, request, max_bytes, now)
                except (DatabaseUnavailable, asyncio.CancelledError):
                    raise
                except Exception as exc:
                    raise RowFailed(request.id, _reason(exc)) from exc
                await tx.execute("mark_request_routed", id=request.id, now=now)
            if requests:
                await tx.notify_deliveries()
        return len(requests)

    async def _route_one(self, tx: Executor, request: UnroutedRequest, max_bytes: int, now: int) -> None:
        headers = orjson.loads(request.headers)
        document = body_document(content_type_of(headers), bytes(request.body))
        event_type = event_type_for(request.source_type, request.event_type)
        await _forward_to_endpoints(tx, request, event_type, document, max_bytes, now)
        await _route_to_apps(tx, request, event_type, document, max_bytes, now)
        for hook in self._hooks:
            await hook(tx, request, event_type, document, now)

    async def run(self) -> None:
        # Woken by the inbound requests accepted here (or, through the event link, elsewhere):
        # a message or attempt commit never concerns the router, so it does not look then.
        # The slow poll covers a wake-up that was lost.
        waker = asyncio.create_task(self._wake_on_inbound())

        async def step() -> float:
            routed = await self.route_due()
            return 0.0 if routed == BATCH else self._rt.settings.poll_interval * 5

        try:
            await claim_until_stopped(
                step,
                wake=self._wake,
                stopping=lambda: self._stopping,
                log=log,
                what="routing inbound requests",
            )
        finally:
            waker.cancel()
            await asyncio.gather(waker, return_exceptions=True)

    async def _wake_on_inbound(self) -> None:
        while True:
            inbound = self._rt.events.subscribe([INBOUND_RECEIVED])
            try:
                async for event in inbound:
                    if event.data.get("status") == "accepted":
                        self.wake()
            except SubscriptionOverflow:
                self.wake()  # fell behind: look now, then follow again
            finally:
                inbound.close()
