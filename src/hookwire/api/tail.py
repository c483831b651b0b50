"""`/api/v1/tail`: a live stream of delivery attempts and inbound requests for `hookwire tail`.

It follows the event channel (`attempt.recorded`, `inbound.received`) and looks up each
announced row once, only while someone is watching; nothing is added to the worker's path.

    CLI -> server  {"type": "start", "app"?: "...", "source"?: "...", "status"?: "failed"|"success"}
    server -> CLI  {"type": "ready"}, then {"type": "attempt", ...} / {"type": "inbound", ...}
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from hookwire.api.deps import token_matches
from hookwire.api.listen import refuse
from hookwire.errors import ApiError, ValidationFailed
from hookwire.events import ATTEMPT_RECORDED, INBOUND_RECEIVED, SubscriptionOverflow
from hookwire.ingest.sources import require_source
from hookwire.outbound.applications import require_app
from hookwire.runtime import Runtime
from hookwire.store.statuses import MessageStatus

router = APIRouter(tags=["Listen (hookwire)"])
STATUSES = ("failed", "success")


@router.websocket("/api/v1/tail")
async def tail(ws: WebSocket) -> None:
    rt: Runtime = ws.app.state.rt
    await ws.accept()
    given = ws.headers.get("authorization", "").removeprefix("Bearer ").strip()
    if not given or rt.settings.api_token is None or not token_matches(given, rt.settings.api_token):
        await refuse(ws, "authentication_failed", "invalid or missing token", 4401)
        return
    try:
        start = await asyncio.wait_for(ws.receive_json(), 10)
        app_id, source_id, status = await _filters(rt, start if isinstance(start, dict) else {})
    except (TimeoutError, WebSocketDisconnect, ValueError):
        return
    except ApiError as exc:
        await refuse(ws, exc.code, exc.detail, 4404 if exc.status_code == 404 else 4400)
        return
    topics = set()
    if source_id is None:
        topics.add(ATTEMPT_RECORDED)
    if app_id is None:
        topics.add(INBOUND_RECEIVED)
    sub = rt.events.subscribe(topics, maxsize=10_000)
    reader = asyncio.create_task(_drain(ws))
    try:
        await ws.send_json({"type": "ready"})
        while not reader.done():
            getter = asyncio.ensure_future(sub.get())
            done, _ = await asyncio.wait({getter, reader}, return_when=asyncio.FIRST_COMPLETED)
            if getter not in done:
                getter.cancel()
                break
            try:
                event = getter.result()
            except SubscriptionOverflow:
                await ws.send_json(
                    {"type": "overflow", "detail": "too many events to show; some were skipped"}
                )
                sub = rt.events.subscribe(topics, maxsize=10_000)
                continue
            except StopAsyncIteration:
                break
            if event is None:
                continue
            line = await _line(rt, event.topic, event.data, app_id, source_id, status)
            if line is not None:
                await ws.send_json(line)
    except WebSocketDisconnect:
        pass
    finally:
        sub.close()
        reader.cancel()


async def _drain(ws: WebSocket) -> None:
    with contextlib.suppress(WebSocketDisconnect):
        while True:
            await ws.receive_text()


async def _filters(rt: Runtime, start: dict[str, Any]) -> tuple[str | None, str | None, str | None]:
    app_id = (await require_app(rt.db, str(start["app"]))).id if start.get("app") else None
    source_id = (await require_source(rt.db, str(start["source"]))).id if start.get("source") else None
    status = start.get("status")
    if status is not None and status not in STATUSES:
        raise ValidationFailed(f"status {status!r}: use failed or success")
    return app_id, source_id, status


async def _line(
    rt: Runtime,
    topic: str,
    data: dict[str, Any],
    app_id: str | None,
    source_id: str | None,
    status: str | None,
) -> dict[str, Any] | None:
    if topic == ATTEMPT_RECORDED:
        if app_id is not None and data.get("appId") != app_id:
            return None
        failed = data.get("status") != MessageStatus.SUCCESS
        if status is not None and failed != (status == "failed"):
            return None
        row = await rt.db.fetchrow("tail_attempt", id=data.get("attemptId"))
        if row is None:
            return None
        return {
            "type": "attempt",
            "id": row["msg_id"],
            "attemptId": row["id"],
            "appId": row["app_id"],
            "endpointId": row["endpoint_id"],
            "method": "POST",
            "url": row["url"],
            "status": row["response_status_code"] or None,
            "failed": failed,
            "durationMs": row["duration_ms"],
            "eventType": row["event_type"],
            "error": row["error"],
        }
    if source_id is not None and data.get("sourceId") != source_id:
        return None
    failed = data.get("status") == "rejected"
    if status is not None and failed != (status == "failed"):
        return None
    row = await rt.db.fetchrow("tail_inbound", id=data.get("requestId"))
    if row is None:
        return None
    return {
        "type": "inbound",
        "id": row["id"],
        "sourceId": row["source_id"],
        "source": row["source_name"],
        "method": row["method"],
        "path": row["path"],
        "result": row["status"],
        "failed": failed,
        "eventType": row["event_type"],
        "error": row["reason"],
    }
