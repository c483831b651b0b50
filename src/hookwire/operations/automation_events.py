"""Operational webhooks for automations that keep failing: `automation.run.failing` on the 4th
failed attempt of a run and `automation.run.exhausted` when its retries run out (hookwire's
own event types, shaped like Svix's message.attempt.* ones).

Called once by the automation runner after it recorded a failed attempt.
"""

from __future__ import annotations

from typing import Any

from hookwire.automations.claimed import ClaimedRun
from hookwire.clock import to_datetime
from hookwire.operations.event_types import AUTOMATION_EXHAUSTED, AUTOMATION_FAILING, FAILING_AFTER_ATTEMPTS
from hookwire.operations.operational_webhooks import emit_quietly
from hookwire.runtime import Runtime


async def automation_attempt_failed(
    rt: Runtime,
    *,
    automation: str,
    run: ClaimedRun,
    attempt_number: int,
    exhausted: bool,
    exit_code: int | None,
    error: str | None,
    at: int,
) -> None:
    kinds = []
    if attempt_number == FAILING_AFTER_ATTEMPTS:
        kinds.append(AUTOMATION_FAILING)
    if exhausted:
        kinds.append(AUTOMATION_EXHAUSTED)
    if not kinds:
        return
    data: dict[str, Any] = {
        "automation": automation,
        "runId": run.id,
        "sourceId": run.source_id,
        "eventType": run.event_type,
        "eventId": run.event_id,
        "attempts": attempt_number,
        "lastAttempt": {
            "exitCode": exit_code,
            "error": error,
            "timestamp": to_datetime(at).isoformat().replace("+00:00", "Z"),
        },
    }
    for kind in kinds:
        await emit_quietly(rt, kind, data, key=f"{run.id}.{attempt_number}")
