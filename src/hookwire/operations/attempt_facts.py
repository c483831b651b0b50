"""What operations need from each recorded attempt: one call from the worker after its commit.

It counts the attempt in the metrics (here, in the process that made it, so a cross-process
event channel can never count it twice) and returns the fields the worker adds to its
`attempt.recorded` event: the attempt's number, whether its delivery is exhausted, when it
happened, how long it took and which process recorded it. The operations monitor of that
process turns those into operational webhooks and alerts.
"""

from __future__ import annotations

import os
from typing import Any

from hookwire.ids import created_ms, new_id
from hookwire.operations.tracing import record_attempt_span
from hookwire.runtime import Runtime
from hookwire.store.statuses import MessageStatus

# Which process recorded an attempt: the operations monitor of that process alone acts on it, so
# a cross-process event channel never makes two processes alert twice. (A pid alone can repeat
# across machines that share one PostgreSQL.)
PROCESS_ORIGIN = f"{os.getpid()}-{new_id('evt')}"

# Delivery statuses as the deliveries table stores them (see migrations/0001).


def attempt_facts(
    rt: Runtime, attempt_number: int, delivery_status: int, attempt: dict[str, Any]
) -> dict[str, Any]:
    """Count one recorded attempt and return the extra fields of its `attempt.recorded` event."""
    success = delivery_status == MessageStatus.SUCCESS
    exhausted = delivery_status == MessageStatus.FAIL
    end_to_end = None
    if success and not attempt["trigger_type"]:  # a manual resend is not the message's first success
        created = created_ms(attempt["msg_id"])
        end_to_end = attempt["now"] - created if created is not None else None
    rt.metrics.attempt(
        outcome="success" if success else "exhausted" if exhausted else "failure",
        status_code=attempt["response_status_code"],
        duration_ms=attempt["duration_ms"],
        endpoint_id=attempt["endpoint_id"],
        end_to_end_ms=end_to_end,
    )
    if rt.metrics.tracer is not None:
        record_attempt_span(rt.metrics.tracer, attempt)
    return {
        "attemptNumber": attempt_number,
        "exhausted": exhausted,
        "timestamp": attempt["now"],
        "durationMs": attempt["duration_ms"],
        "origin": PROCESS_ORIGIN,
    }
