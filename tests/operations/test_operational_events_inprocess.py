"""Operational events for what the SDK flow does not show: a failing automation, and a source's
ingest endpoint that fails (the ingest.* events, with sourceId instead of appId)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hookwire.automations import AutomationRunner
from hookwire.events import ATTEMPT_RECORDED
from hookwire.ingest.destinations import create_ingest_endpoint
from hookwire.ingest.models import IngestEndpointIn
from hookwire.operations import operational_endpoints
from hookwire.operations.monitor import OperationsMonitor
from hookwire.operations.operational_webhooks import emit
from hookwire.outbound.models import EndpointIn
from hookwire.runtime import Runtime
from tests.automations.test_runs import Source, declare, drain, script, send_event
from tests.delivery.test_worker import Workers
from tests.support.receiver import Receiver


async def _operational_events(
    rt: Runtime, workers: Workers, ops: Receiver, count: int
) -> list[dict[str, Any]]:
    """Deliver the queued operational messages and return the first `count` the receiver got."""
    await workers.drain(rt)
    return [json.loads(r.body) for r in ops.wait_for(count)[:count]]


async def test_an_automation_that_keeps_failing_is_announced(
    runtime: Runtime, source: Source, tmp_path: Path, ops_receiver: Receiver, workers: Workers
) -> None:
    await operational_endpoints.create(runtime, EndpointIn(url=ops_receiver.url))
    command = script(tmp_path, "fail", "sys.exit(3)")
    automations = declare(
        tmp_path,
        f'name = "deploy"\nsource = "github-main"\nretry_schedule = "10ms,10ms,10ms,10ms"\n{command}',
    )
    await send_event(runtime, source, {"ref": "main"}, *automations)

    await drain(AutomationRunner(runtime, automations))

    events = await _operational_events(runtime, workers, ops_receiver, 2)
    by_type = {e["type"]: e["data"] for e in events}
    assert set(by_type) == {"automation.run.failing", "automation.run.exhausted"}
    exhausted = by_type["automation.run.exhausted"]
    assert exhausted["automation"] == "deploy" and exhausted["sourceId"] == source.id
    assert exhausted["attempts"] == 5 and exhausted["lastAttempt"]["exitCode"] == 3
    assert by_type["automation.run.failing"]["attempts"] == 4


async def test_a_failing_ingest_endpoint_gets_ingest_events(
    runtime: Runtime, source: Source, ops_receiver: Receiver, receiver: Receiver, workers: Workers
) -> None:
    rt = Runtime(runtime.settings.with_overrides(retry_schedule="10ms,10ms,10ms"), runtime.db, runtime.box)
    await operational_endpoints.create(rt, EndpointIn(url=ops_receiver.url))
    receiver.default.status = 500
    forward = await create_ingest_endpoint(rt, source.id, IngestEndpointIn(url=receiver.url))
    recorded = rt.events.subscribe({ATTEMPT_RECORDED})
    await send_event(rt, source, {"ref": "main"})

    await workers.drain(rt)  # the forward: 4 attempts, all failing
    monitor = OperationsMonitor(rt)
    for _ in range(4):  # what the monitor beside the workers reads, handled in order here
        event = await recorded.get(timeout=5)
        assert event is not None
        await monitor.handle_attempt(event.data)
    events = await _operational_events(rt, workers, ops_receiver, 2)

    assert sorted(e["type"] for e in events) == [
        "ingest.message.attempt.exhausted",
        "ingest.message.attempt.failing",
    ]
    data = events[0]["data"]
    assert data["sourceId"] == source.id and data["endpointId"] == forward.id and "appId" not in data
    assert data["lastAttempt"]["responseStatusCode"] == 500


async def test_the_same_operational_event_twice_is_stored_once(
    runtime: Runtime, ops_receiver: Receiver
) -> None:
    await operational_endpoints.create(runtime, EndpointIn(url=ops_receiver.url))
    data = {"appId": "app_x", "endpointId": "ep_x", "trigger": "automatic"}

    assert await emit(runtime, "endpoint.disabled", data, key="ep_x.1") is True
    assert await emit(runtime, "endpoint.disabled", data, key="ep_x.1") is False  # seen again: no 409
