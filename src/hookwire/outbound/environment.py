"""Moving configuration between installations: `POST /api/v1/environment/export` and `/import`.

Svix's environment document holds the event types (with their schemas), the environment's
`settings` and its `connectors` (transformation templates). hookwire exports its event types,
`settings` as an empty object (its settings live in its configuration, not in the database) and
no connectors. Importing upserts every event type by name (so importing twice changes nothing);
connectors are refused with a 422, since hookwire has none, rather than silently dropped.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from hookwire.clock import now_ms, to_datetime
from hookwire.errors import ValidationFailed
from hookwire.outbound import event_types
from hookwire.outbound.models import EventTypeIn, EventTypeOut, Model
from hookwire.runtime import Runtime

FORMAT_VERSION = 1


class EnvironmentIn(Model):
    event_types: list[EventTypeIn] | None = None
    settings: dict[str, Any] | None = None
    connectors: list[dict[str, Any]] | None = None


class EnvironmentOut(Model):
    version: int = FORMAT_VERSION
    created_at: datetime
    event_types: list[EventTypeOut]
    settings: dict[str, Any] | None
    connectors: list[dict[str, Any]]


async def export_environment(rt: Runtime) -> EnvironmentOut:
    return EnvironmentOut(
        created_at=to_datetime(now_ms()),
        event_types=await event_types.all_event_types(rt),
        settings={},
        connectors=[],
    )


async def import_environment(rt: Runtime, data: EnvironmentIn) -> None:
    if data.connectors:
        raise ValidationFailed.field(["connectors"], "hookwire has no connectors; export without them")
    for event_type in data.event_types or []:
        await event_types.upsert_event_type(rt, event_type.name, event_type)
