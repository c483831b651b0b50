"""What the automation runner works on, as it comes out of the store."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ClaimedRun:
    """A run the runner holds under a lease (`claim_automation_runs`)."""

    id: str
    automation: str
    request_id: str
    source_id: str
    event_type: str
    event_id: str | None
    serial_key: str | None
    event: str  # the command's stdin: the (transformed) event JSON
    attempts: int  # made before this one
