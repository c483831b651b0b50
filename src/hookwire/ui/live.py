"""Live updates over Server-Sent Events, read from the event channel (never by polling the database).

Each stream has its own bounded subscription: a browser that falls behind is dropped
(the channel closes its subscription and the response ends; EventSource reconnects and
the page reloads its fragments), and at most `ui_max_streams` streams run at once.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import orjson
from fastapi import APIRouter, Depends, Request
from starlette.responses import Response, StreamingResponse

from hookwire.events import ATTEMPT_RECORDED, INBOUND_RECEIVED, Event, SubscriptionOverflow
from hookwire.outbound.portal_access import PortalGrant
from hookwire.runtime import Runtime
from hookwire.ui.portal_auth import portal_grant
from hookwire.ui.routing import PageRoute, operator

router = APIRouter(route_class=PageRoute, include_in_schema=False)

PER_CLIENT_BACKLOG = 100
KEEPALIVE_SECONDS = 15.0


class StreamSlots:
    """A counter of open streams, kept on the app so every router shares one cap."""

    def __init__(self) -> None:
        self.open = 0


def _slots(request: Request) -> StreamSlots:
    state = request.app.state
    if not hasattr(state, "ui_streams"):
        state.ui_streams = StreamSlots()
    slots: StreamSlots = state.ui_streams
    return slots


def stream(request: Request, rt: Runtime, topics: set[str], keep: Callable[[Event], bool]) -> Response:
    """An SSE response of the events `keep` accepts; 503 when the cap on streams is reached."""
    slots = _slots(request)
    if slots.open >= rt.settings.ui_max_streams:
        return Response(
            "too many live streams; try again later", status_code=503, headers={"retry-after": "10"}
        )
    subscription = rt.events.subscribe(topics, maxsize=PER_CLIENT_BACKLOG)
    slots.open += 1

    async def body() -> AsyncIterator[bytes]:
        try:
            yield b"retry: 3000\n\n"
            while True:
                try:
                    event = await subscription.get(timeout=KEEPALIVE_SECONDS)
                except (SubscriptionOverflow, StopAsyncIteration):
                    return  # dropped for being slow (or closed): the browser reconnects and reloads
                if event is None:
                    yield b": keepalive\n\n"
                elif keep(event):
                    yield b"event: " + event.topic.encode() + b"\ndata: " + orjson.dumps(event.data) + b"\n\n"
        finally:
            subscription.close()
            slots.open -= 1

    return StreamingResponse(
        body(),
        media_type="text/event-stream",
        headers={"cache-control": "no-store", "x-accel-buffering": "no"},
    )


@router.get("/ui/events")
async def operator_events(request: Request, rt: Runtime = Depends(operator)) -> Response:
    return stream(request, rt, {ATTEMPT_RECORDED, INBOUND_RECEIVED}, lambda _: True)


@router.get("/portal/events")
async def portal_events(request: Request, grant: PortalGrant = Depends(portal_grant)) -> Response:
    """Only this application's attempts: a portal never hears about another application."""

    def own(event: Event) -> bool:
        data: dict[str, Any] = event.data
        return data.get("appId") == grant.app_id

    return stream(request, request.app.state.rt, {ATTEMPT_RECORDED}, own)
