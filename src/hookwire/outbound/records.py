"""The rows of the outbound tables as they come out of the store: typed records, so the
code between the store and the API reads fields, not string keys a query may not have."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class AppRecord:
    """One `applications` row (`get_app`, `list_apps_*`)."""

    id: str
    uid: str | None
    name: str
    throttle_rate: int | None
    metadata: str  # JSON object
    created_at: int
    updated_at: int
    source_id: str | None  # the ingest source this application backs, if any
    hidden: bool  # internal (operational webhooks): never listed; SQLite gives 0/1


@dataclass(frozen=True, slots=True)
class EndpointRecord:
    """One `endpoints` row (`get_endpoint`, `list_endpoints_*`)."""

    id: str
    app_id: str
    uid: str | None
    url: str
    description: str
    throttle_rate: int | None
    disabled: int  # 0/1
    event_types: str | None  # JSON list
    channels: str | None  # JSON list
    metadata: str  # JSON object
    headers: str  # sealed JSON object (secretbox)
    version: int
    first_failure_at: int | None
    created_at: int
    updated_at: int
    filter: str | None  # JMESPath, ingest endpoints
    transformation: str | None  # JMESPath, ingest endpoints
    transformation_code: str | None  # JavaScript (Svix transformations)
    transformation_enabled: int  # 0/1


@dataclass(frozen=True, slots=True)
class MessageRecord:
    """One `messages` row (`get_message*`, `list_messages`)."""

    id: str
    app_id: str
    event_type: str
    event_id: str | None
    idempotency_key: str | None
    payload: bytes | None  # compact JSON; None once expunged
    channels: str | None  # JSON list
    tags: str | None  # JSON list
    created_at: int
    deliver_at: int | None
    content_type: str | None  # set for raw inbound bodies forwarded as they came
    expunge_at: int | None


@dataclass(frozen=True, slots=True)
class AttemptRecord:
    """One `attempts` row: one try of one delivery (`get_attempt`, `list_attempts_by_*`)."""

    id: str
    delivery_id: int
    msg_id: str
    endpoint_id: str
    app_id: str
    url: str
    status: int  # MessageStatus: SUCCESS, FAIL or CANCELED
    response_status_code: int  # 0: no response (see error)
    response_headers: str | None  # JSON object
    response_body: str | None
    duration_ms: int
    trigger_type: int  # 0 scheduled, 1 manual
    error: str | None
    created_at: int
