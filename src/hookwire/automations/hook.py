"""Queueing automation runs: the router hook, and the pure rules it applies.

Inside the routing transaction each accepted event becomes one `automation_runs` row
per automation it matches, so a run is queued exactly when the event is marked routed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
from jmespath.exceptions import JMESPathError

from hookwire.automations.config import Automation
from hookwire.ids import new_id
from hookwire.ingest import jmes
from hookwire.ingest.router import EventHook, UnroutedRequest
from hookwire.store import Executor
from hookwire.store.statuses import RunStatus

RUN_PREFIX, ATTEMPT_PREFIX = "arun", "aatt"


@dataclass(frozen=True)
class PlannedRun:
    """What a matching event becomes: the stdin JSON and the serial key, or why it cannot run."""

    event: str
    serial_key: str | None
    error: str | None = None


def matches(
    automation: Automation, source_id: str, source_uid: str | None, event_type: str, doc: Any
) -> bool:
    """Whether an accepted event of this source and type, with this body, triggers the automation."""
    if automation.source not in (source_id, source_uid):
        return False
    if automation.event_types is not None and event_type not in automation.event_types:
        return False
    return jmes.passes(automation.filter, doc)


def serial_key(value: Any) -> str:
    """A serialisation value as stored: strings as they are, anything else (null too) as JSON."""
    return value if isinstance(value, str) else orjson.dumps(value).decode()


def plan_run(automation: Automation, document: Any) -> PlannedRun:
    """The run for a matching event; an expression failing on this body is reported, not raised."""
    try:
        key = None
        if automation.serialize_by is not None:
            key = serial_key(jmes.transform(automation.serialize_by, document))
        event = orjson.dumps(jmes.transform(automation.transformation, document)).decode()
    except (JMESPathError, orjson.JSONEncodeError) as exc:
        return PlannedRun(event="null", serial_key=None, error=f"cannot build the event: {exc}")
    return PlannedRun(event=event, serial_key=key)


def make_automation_hook(automations: tuple[Automation, ...]) -> EventHook:
    """The router hook that queues one run per automation an accepted event matches."""

    async def queue_runs(
        tx: Executor, request: UnroutedRequest, event_type: str, document: Any, now: int
    ) -> None:
        runs = []
        for automation in automations:
            if not matches(automation, request.source_id, request.source_uid, event_type, document):
                continue
            plan = plan_run(automation, document)
            run_id = new_id(RUN_PREFIX, request.created_at)  # runs sort by the event's arrival
            run = {
                "id": run_id,
                "automation": automation.name,
                "request_id": request.id,
                "source_id": request.source_id,
                "event_type": event_type,
                "event_id": request.event_id,
                "serial_key": plan.serial_key,
                "event": plan.event,
                "status": RunStatus.PENDING if plan.error is None else RunStatus.FAIL,
                "now": now,
            }
            if plan.error is None:
                runs.append(run)
            elif await tx.execute("insert_automation_run", **run):  # kept in the log as a failure
                await tx.execute("insert_automation_attempt", **_error_attempt(run_id, plan.error, now))
        await tx.executemany("insert_automation_run", runs)

    return queue_runs


def _error_attempt(run_id: str, error: str, now: int) -> dict[str, Any]:
    return {
        "id": new_id(ATTEMPT_PREFIX, now),
        "run_id": run_id,
        "exit_code": None,
        "stdout": "",
        "stderr": "",
        "duration_ms": 0,
        "error": error,
        "now": now,
    }
