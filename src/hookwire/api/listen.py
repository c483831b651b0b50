"""`/api/v1/listen`: the WebSocket `hookwire listen` connects to, and what it left behind.

Protocol (JSON text frames):

    CLI -> server  {"type": "start", "sources": [...] | "app": "...", "name": "...",
                    "events": [...], "replay": N, "since": seconds}
    server -> CLI  {"type": "ready", "listenerId", "kind", "targets": [{id, name}], "secret"?}
    server -> CLI  {"type": "event", "id", "method", "path", "query", "headers", "body" (base64), ...}
    CLI -> server  {"type": "result", "id", "url", "status", "durationMs", "body", "error"}
    server -> CLI  {"type": "error", "code", "detail"}, then close

One event is in flight at a time, so the local receiver sees events in order and the cursor
moves only past answered events. Live events come from the event channel
(`inbound.received`, `message.created`); the database is where a listener catches up from.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from fastapi import APIRouter, Depends, WebSocket, WebSocketDisconnect
from starlette.responses import Response

from hookwire.api.deps import require_admin, token_matches
from hookwire.api.responses import json_response
from hookwire.clock import now_ms
from hookwire.errors import ApiError
from hookwire.events import INBOUND_RECEIVED, MESSAGE_CREATED, Event, SubscriptionOverflow
from hookwire.ingest import listeners
from hookwire.ingest.listeners import Listener, ListenEvent
from hookwire.runtime import Runtime

router = APIRouter(tags=["Listen (hookwire)"])

FORWARD_TIMEOUT = 90.0  # the CLI answers within its own 60 s forward timeout
SAFETY_POLL = 5.0  # a wake-up that never came (an event published elsewhere) costs at most this
START_TIMEOUT = 10.0
REPLACED = 4409  # close code: a newer connection of the same listener took over


@router.get("/api/v1/listen/secret")
async def get_listen_secret(rt: Runtime = Depends(require_admin)) -> Response:
    """The stable secret `hookwire listen --app` signs forwarded messages with."""
    return json_response({"key": await listeners.listen_secret(rt)})


@router.get("/api/v1/listen/forward/{event_id}")
async def list_forwards(event_id: str, rt: Runtime = Depends(require_admin)) -> Response:
    """What listeners' local receivers answered for one inbound request or message."""
    forwards = await listeners.forwards_of(rt, event_id)
    return json_response({"data": [f.model_dump(by_alias=True, mode="json") for f in forwards]})


class _Closed(Exception):
    """The CLI went away."""


@router.websocket("/api/v1/listen")
async def listen(ws: WebSocket) -> None:
    rt: Runtime = ws.app.state.rt
    await ws.accept()
    given = ws.headers.get("authorization", "").removeprefix("Bearer ").strip()
    expected = rt.settings.api_token
    if not given or expected is None or not token_matches(given, expected):
        await refuse(ws, "authentication_failed", "invalid or missing token", 4401)
        return
    try:
        start = await asyncio.wait_for(ws.receive_json(), START_TIMEOUT)
        listener = await _open(rt, start)
    except (TimeoutError, WebSocketDisconnect, ValueError):
        await refuse(ws, "bad_request", "send a start frame first", 4400)
        return
    except ApiError as exc:
        await refuse(ws, exc.code, exc.detail, 4404 if exc.status_code == 404 else 4400)
        return
    topic = INBOUND_RECEIVED if listener.kind == "source" else MESSAGE_CREATED
    session = _Session(rt, ws, listener, topic)
    # One connection per listener: the newest wins (a laptop that woke up reconnects before the
    # server has noticed that its old connection is dead), and the old one is told why.
    sessions: dict[str, _Session] = ws.app.state.listen_sessions
    previous = sessions.get(listener.id)
    sessions[listener.id] = session
    if previous is not None:
        await previous.replace()
    try:
        ready: dict[str, Any] = {
            "type": "ready",
            "listenerId": listener.id,
            "kind": listener.kind,
            "targets": [{"id": t.id, "name": t.name} for t in listener.targets],
        }
        if listener.kind == "app":
            ready["secret"] = await listeners.listen_secret(rt)
        since = start.get("since")
        replay = await listeners.history(
            rt,
            listener,
            count=start.get("replay") if isinstance(start.get("replay"), int) else None,
            since_ms=now_ms() - int(since * 1000) if isinstance(since, int | float) else None,
        )
        await ws.send_json(ready)
        await session.run(replay)
    except (_Closed, WebSocketDisconnect):
        pass
    finally:
        session.close()
        if sessions.get(listener.id) is session:
            del sessions[listener.id]
            await listeners.disconnected(rt, listener)
        with contextlib.suppress(Exception):
            await ws.close()


async def refuse(ws: WebSocket, code: str, detail: Any, close_code: int) -> None:
    """An error frame, then a close whose code (and reason) tell the CLI which exit code to use:
    a client still sending its start frame may see only the close."""
    with contextlib.suppress(Exception):
        await ws.send_json({"type": "error", "code": code, "detail": detail})
        await ws.close(close_code, str(detail).encode()[:120].decode(errors="ignore"))


async def _open(rt: Runtime, start: Any) -> Listener:
    if not isinstance(start, dict) or start.get("type") != "start":
        raise ValueError("not a start frame")
    name = str(start.get("name") or "default")[:256]
    events = [str(e) for e in start.get("events") or []]
    if start.get("app"):
        return await listeners.open_listener(rt, "app", [str(start["app"])], name, events)
    sources = [str(s) for s in start.get("sources") or []]
    return await listeners.open_listener(rt, "source", sources, name, events)


class _Session:
    """One connected listener: replay, then catch up from the cursor, then follow live events."""

    def __init__(self, rt: Runtime, ws: WebSocket, listener: Listener, topic: str) -> None:
        self.rt, self.ws, self.listener, self.topic = rt, ws, listener, topic
        self.sub = rt.events.subscribe({topic}, maxsize=1000)  # before the first read: no gap
        self.results: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.reader = asyncio.create_task(self._read())
        self.late: list[str] = []

    def close(self) -> None:
        self.sub.close()
        self.reader.cancel()

    async def replace(self) -> None:
        """Another connection of the same listener took over: end this one."""
        self.close()
        await refuse(self.ws, "conflict", "another `hookwire listen` with the same name took over", REPLACED)

    async def _read(self) -> None:
        with contextlib.suppress(WebSocketDisconnect):
            while True:
                frame = await self.ws.receive_json()
                if isinstance(frame, dict) and frame.get("type") == "result":
                    self.results.put_nowait(frame)

    async def run(self, replay: list[ListenEvent]) -> None:
        for event in replay:
            await self._forward(event, replay=True)
        while not self.reader.done():
            for event_id in self.late:
                late = await listeners.late_event(self.rt, self.listener, event_id)
                if late is not None:
                    await self._forward(late)
            self.late.clear()
            batch = await listeners.events_after_cursor(self.rt, self.listener)
            for event in batch:
                if self.listener.wants(event.event_type):
                    await self._forward(event)
                else:
                    await listeners.skip(self.rt, self.listener, event)
            if len(batch) < 100:
                await self._wait_for_news()

    async def _wait_for_news(self) -> None:
        """Until an event is announced, the CLI leaves, or the safety-net interval passes."""
        getter = asyncio.ensure_future(self.sub.get(SAFETY_POLL))
        done, _ = await asyncio.wait({getter, self.reader}, return_when=asyncio.FIRST_COMPLETED)
        if getter not in done:
            getter.cancel()
            raise _Closed
        try:
            event = getter.result()
        except SubscriptionOverflow:
            self.sub = self.rt.events.subscribe({self.topic}, maxsize=1000)  # the database catches up
            return
        except StopAsyncIteration:
            raise _Closed from None
        self._note(event)
        while True:  # take every announcement already queued, without waiting
            try:
                more = await self.sub.get(0)
            except (SubscriptionOverflow, StopAsyncIteration):
                return
            if more is None:
                return
            self._note(more)

    def _note(self, event: Event | None) -> None:
        if event is None:
            return
        event_id = event.data.get("requestId") or event.data.get("msgId")
        if isinstance(event_id, str) and event_id <= self.listener.cursor:
            self.late.append(event_id)

    async def _forward(self, event: ListenEvent, *, replay: bool = False) -> None:
        await self.ws.send_json(event.frame(replay=replay))
        while True:
            getter = asyncio.ensure_future(self.results.get())
            done, _ = await asyncio.wait(
                {getter, self.reader}, timeout=FORWARD_TIMEOUT, return_when=asyncio.FIRST_COMPLETED
            )
            if getter not in done:
                getter.cancel()
                raise _Closed  # gone, or silent for too long: it gets this event again on reconnect
            result = getter.result()
            if result.get("id") == event.id:
                break
        await listeners.record_forward(self.rt, self.listener, event, result)
