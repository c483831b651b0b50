"""JSON shapes of the ingest API: Svix Ingest's sources and endpoints, plus hookwire's own.

Source configs hold the provider's signing key as `secret` (Twilio's auth token,
HubSpot's client secret, ...). Answers never include a secret: like Svix, a source's
`config` comes back with its secret fields removed.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from pydantic import Field, field_validator

from hookwire.outbound.models import EndpointIn, EndpointOut, Model

SOURCE_UID = r"^[a-zA-Z0-9_-]+$"  # and not starting with `src_` (see `_source_uid`)
SECRET_FIELDS = frozenset({"secret", "password", "verifyToken", "secrets"})


def is_source_uid(value: str) -> bool:
    """Svix's source uid: `^(?!src_)[a-zA-Z0-9_-]+$`, 1-60 characters. A `src_` prefix is
    reserved for IDs, so a uid can never be mistaken for one."""
    return (
        0 < len(value) <= 60 and not value.startswith("src_") and re.fullmatch(SOURCE_UID, value) is not None
    )


class IngestSourceIn(Model):
    name: str = Field(min_length=1, max_length=256)
    uid: str | None = None
    type: str
    config: dict[str, Any] = Field(default_factory=dict)
    metadata: dict[str, str] | None = None

    @field_validator("uid")
    @classmethod
    def _source_uid(cls, value: str | None) -> str | None:
        if value is not None and not is_source_uid(value):
            raise ValueError(
                "a source uid is 1-60 letters, digits, '-' or '_' and does not start with 'src_'"
            )
        return value


class IngestSourceOut(Model):
    id: str
    uid: str | None = None
    name: str
    type: str
    config: dict[str, Any]
    metadata: dict[str, str]
    ingest_url: str
    app_id: str = Field(
        description="the hidden application behind the source: its ingest endpoints are that "
        "application's endpoints (hookwire's addition)"
    )
    created_at: datetime
    updated_at: datetime


class RotateTokenOut(Model):
    ingest_url: str


class AppRouteIn(Model):
    """Route a source's accepted events into an outbound application as messages."""

    app_id: str
    event_types: list[str] | None = Field(default=None, description="only these source event types")
    event_type_map: dict[str, str] = Field(default_factory=dict, description="source type -> message type")
    event_type_prefix: str = Field(default="", description="prefix for types not in the map")
    filter: str | None = Field(default=None, description="JMESPath predicate over the event body")
    transformation: str | None = Field(default=None, description="JMESPath projection of the event body")


class AppRouteOut(AppRouteIn):
    id: str
    created_at: datetime


class EndpointRoutingIn(Model):
    """An ingest endpoint's JMESPath filter and transformation (hookwire's addition)."""

    filter: str | None = None
    transformation: str | None = None


class ListenerForwardOut(Model):
    """What a `hookwire listen` session's local receiver answered for one event."""

    listener_id: str
    url: str
    status: int | None = Field(description="the local HTTP status; None when the request failed")
    duration_ms: int
    body: str = Field(description="the first 1 KiB of the local answer")
    error: str | None = None
    created_at: datetime


class InboundRequestOut(Model):
    id: str
    source_id: str
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: str
    body_base64: str | None = Field(default=None, description="set instead of body when it is not UTF-8")
    status: str
    reason: str | None = None
    event_id: str | None = None
    event_type: str | None = None
    routed_at: datetime | None = None
    created_at: datetime
    listener_forwards: list[ListenerForwardOut] = Field(
        default_factory=list,
        description="what `hookwire listen` sessions' local receivers answered (in the single-request view)",
    )


class IngestEndpointIn(EndpointIn):
    """Svix's IngestEndpointIn, plus hookwire's filter and transformation (JMESPath)."""

    filter: str | None = None
    transformation: str | None = None


class IngestEndpointOut(EndpointOut):
    filter: str | None = None
    transformation: str | None = None
