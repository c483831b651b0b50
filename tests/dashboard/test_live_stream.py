"""An SSE reader that falls behind is dropped: its stream ends instead of buffering without limit."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from starlette.requests import Request

from hookwire.events import ATTEMPT_RECORDED
from hookwire.runtime import Runtime
from hookwire.ui import live


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the channel, not the database
async def test_a_reader_that_falls_behind_is_dropped_and_its_slot_freed(runtime: Runtime) -> None:
    app = FastAPI()
    app.state.rt = runtime
    request = Request({"type": "http", "method": "GET", "path": "/ui/events", "headers": [], "app": app})
    response = live.stream(request, runtime, {ATTEMPT_RECORDED}, lambda _: True)
    assert app.state.ui_streams.open == 1 and runtime.events.subscriber_count == 1

    # The browser reads nothing while more events arrive than its queue holds.
    for n in range(live.PER_CLIENT_BACKLOG + 50):
        runtime.events.publish(ATTEMPT_RECORDED, {"attemptId": f"atmpt_{n}"})
    assert runtime.events.subscriber_count == 0  # dropped at once, not buffered

    chunks = [chunk async for chunk in response.body_iterator]  # what was queued, then the end
    events = [c for c in chunks if isinstance(c, bytes) and c.startswith(b"event: ")]
    assert len(events) == live.PER_CLIENT_BACKLOG
    assert b'"attemptId":"atmpt_0"' in events[0]
    assert app.state.ui_streams.open == 0
