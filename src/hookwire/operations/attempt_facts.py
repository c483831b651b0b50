"""What the worker adds to each `attempt.recorded` event for operations to act on.

One call from the worker after its commit: the attempt's number, whether its delivery is
finished (and how), when it happened and how long it took, and which process recorded it.
Operational webhooks read the first ones; metrics count an attempt only in the process that
recorded it (`origin`), so a cross-process event channel never counts one twice.
"""

from __future__ import annotations

import os
from typing import Any

from hookwire.ids import new_id

# Unique per process (a pid can repeat across machines sharing one PostgreSQL).
PROCESS_ORIGIN = f"{os.getpid()}-{new_id('evt')}"

# Delivery statuses as the deliveries table stores them (see migrations/0001).
_SUCCESS, _PENDING, _FAIL = 0, 1, 2


def attempt_facts(attempt_number: int, delivery_status: int, attempt: dict[str, Any]) -> dict[str, Any]:
    """The extra fields of one `attempt.recorded` event (camelCase, JSON-able)."""
    return {
        "attemptNumber": attempt_number,
        "exhausted": delivery_status == _FAIL,
        "timestamp": attempt["now"],
        "durationMs": attempt["duration_ms"],
        "origin": PROCESS_ORIGIN,
    }
