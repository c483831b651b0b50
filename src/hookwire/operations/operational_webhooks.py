"""Operational webhooks: Svix's `{type, data}` events about endpoints and attempts, sent to the
operator's operational endpoints.

An operational event is a message of the internal operational application (see
`event_types.OPERATIONAL_APP_ID`), so it is stored, signed, retried and logged by the same
delivery engine as any webhook. It never recurses: nothing here fires for an attempt or an
endpoint of the operational application itself.

Every event carries an `eventId` made of its type and the ids it is about, so the same event
announced twice (one disable seen by two failed attempts in flight, or a retried emit) is
stored once.

Events are emitted after the change they describe is committed; a process that crashes in
between loses that one operational event (the change itself is safe). That is the cheap
choice: the alternative, writing the event in the attempt's own transaction, would put work
on every delivery's write path for events that fire rarely.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from hookwire.clock import to_datetime
from hookwire.operations.event_types import (
    ENDPOINT_CREATED,
    ENDPOINT_DELETED,
    ENDPOINT_DISABLED,
    ENDPOINT_ENABLED,
    ENDPOINT_UPDATED,
    INGEST_ENDPOINT_DISABLED,
    OPERATIONAL_APP_ID,
)
from hookwire.outbound.messages import create_message
from hookwire.outbound.models import MessageIn
from hookwire.outbound.records import AppRecord, EndpointRecord
from hookwire.runtime import Runtime

log = logging.getLogger("hookwire.operations")


def iso(ms: int | None) -> str | None:
    return to_datetime(ms).isoformat().replace("+00:00", "Z") if ms is not None else None


@dataclass(frozen=True, slots=True)
class Owner:
    """Whose endpoint an event is about: an application, which may back an ingest source."""

    id: str
    uid: str | None
    source_id: str | None


@dataclass(frozen=True, slots=True)
class EndpointRef:
    id: str
    uid: str | None


def endpoint_data(app: Owner, endpoint: EndpointRef) -> dict[str, Any]:
    """The data of endpoint.created/updated/deleted/enabled: whose endpoint it is."""
    return {
        "appId": app.id,
        "appUid": app.uid,
        "endpointId": endpoint.id,
        "endpointUid": endpoint.uid,
    }


def disabled_data(
    app: Owner, endpoint: EndpointRef, *, fail_since: int | None, trigger: str
) -> dict[str, Any]:
    """The data of endpoint.disabled (ingest.endpoint.disabled for a source's endpoint)."""
    if app.source_id is not None:
        return {
            "sourceId": app.source_id,
            "endpointId": endpoint.id,
            "endpointUid": endpoint.uid,
            "failSince": iso(fail_since),
            "trigger": trigger,
        }
    return {**endpoint_data(app, endpoint), "failSince": iso(fail_since), "trigger": trigger}


def attempt_data(
    app: Owner, endpoint_id: str, msg_id: str, msg_event_id: str | None, last_attempt: dict[str, Any]
) -> dict[str, Any]:
    """The data of message.attempt.* (ingest.message.attempt.* for a source's endpoint)."""
    owner = {"sourceId": app.source_id} if app.source_id is not None else {"appId": app.id, "appUid": app.uid}
    return {
        **owner,
        "msgId": msg_id,
        "msgEventId": msg_event_id,
        "endpointId": endpoint_id,
        "lastAttempt": last_attempt,
    }


async def emit(rt: Runtime, event_type: str, data: dict[str, Any], *, key: str) -> bool:
    """Queue one operational event to every operational endpoint that wants it.

    `key` names what the event is about (an attempt id, an endpoint id and version); the
    same type and key make one message however often they are emitted. Returns whether a
    message was queued (False when no operational endpoint is enabled: nothing is stored).
    """
    row = await rt.db.fetchrow("count_operational_targets", app_id=OPERATIONAL_APP_ID)
    if row is None or not row["n"]:
        return False
    payload = {"type": event_type, "data": data}
    event_id = f"{event_type}.{key}"
    message = MessageIn(event_type=event_type, payload=payload, event_id=event_id)
    # The same key as idempotency-key makes a repeat a replay of the stored message, not a 409.
    _, created = await create_message(rt, OPERATIONAL_APP_ID, message, idempotency_key=event_id)
    return created


async def emit_quietly(rt: Runtime, event_type: str, data: dict[str, Any], *, key: str) -> None:
    """emit(), for callers whose own work is already done: a failure is logged, not raised, so
    an API call that changed an endpoint is not answered with an error for a side effect."""
    try:
        await emit(rt, event_type, data, key=key)
    except Exception:
        log.exception("could not queue operational event %s", event_type)


async def endpoint_changed(
    rt: Runtime, app: AppRecord, before: EndpointRecord | None, after: EndpointRecord | None
) -> None:
    """Emit what an API change to an endpoint means: created, updated, deleted, and a manual
    disable or enable when `disabled` flipped. Nothing for operational endpoints themselves."""
    if app.id == OPERATIONAL_APP_ID:
        return
    owner = Owner(app.id, app.uid, app.source_id)
    current = after if after is not None else before
    assert current is not None
    ref = EndpointRef(current.id, current.uid)
    version = f"{current.id}.{current.updated_at}.{current.version}"
    if app.source_id is None:
        if before is None:
            await emit_quietly(rt, ENDPOINT_CREATED, endpoint_data(owner, ref), key=version)
        elif after is None:
            await emit_quietly(rt, ENDPOINT_DELETED, endpoint_data(owner, ref), key=version)
        else:
            await emit_quietly(rt, ENDPOINT_UPDATED, endpoint_data(owner, ref), key=version)
    if before is None or after is None or bool(before.disabled) == bool(after.disabled):
        return
    if after.disabled:
        kind = INGEST_ENDPOINT_DISABLED if app.source_id is not None else ENDPOINT_DISABLED
        data = disabled_data(owner, ref, fail_since=before.first_failure_at, trigger="manual")
        await emit_quietly(rt, kind, data, key=version)
    elif app.source_id is None:
        await emit_quietly(rt, ENDPOINT_ENABLED, endpoint_data(owner, ref), key=version)
