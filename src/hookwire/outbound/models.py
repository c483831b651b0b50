"""The JSON shapes of the outbound API, wire-compatible with the Svix SDK's models.

camelCase on the wire, snake_case in Python; unknown fields are ignored like Svix
does. Older field names (`filterTypes`, `rateLimit`) are accepted as aliases.

Patch models follow Svix's rules for `null`: a nullable field (`uid`, `throttleRate`,
`eventTypes`, `channels`, `schemas`, ...) is cleared by null; a field that cannot be
empty (`name`, `url`, `description`, `disabled`, `metadata`, ...) is typed without
`| None` but defaults to None, so leaving it out means "unchanged" and an explicit
null is a 422 instead of a broken row.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator
from pydantic.alias_generators import to_camel

from hookwire.store.statuses import MessageStatus

UID_PATTERN = r"^[a-zA-Z0-9\-_.]+$"  # uids, event IDs and event type names
_CHANNEL = re.compile(r"[a-zA-Z0-9\-_.:+]+")
EventTypeName = Annotated[str, Field(min_length=1, max_length=256, pattern=UID_PATTERN)]
GroupName = Annotated[str, Field(max_length=256, pattern=UID_PATTERN)]
FeatureFlag = Annotated[str, Field(max_length=256, pattern=UID_PATTERN)]
MAX_THROTTLE_RATE = 65535  # Svix stores the rate as an unsigned 16-bit number


class Model(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        """PostgreSQL text cannot hold NUL; refuse it on both databases alike (JSON-encoded
        fields such as the payload or metadata keep it escaped, so only plain strings matter)."""
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("must not contain a NUL character")
        return value


def _unset(**constraints: Any) -> Any:
    """Default of a patch field that may be left out but not set to null (see the module docstring)."""
    return Field(default=None, **constraints)


def _throttle_rate() -> Any:
    return Field(
        default=None,
        ge=0,
        le=MAX_THROTTLE_RATE,
        validation_alias=AliasChoices("throttleRate", "rateLimit", "throttle_rate"),
    )


def _event_types() -> Any:
    return Field(default=None, validation_alias=AliasChoices("eventTypes", "filterTypes", "event_types"))


STATUS_TEXT = {s.value: s.name.lower() for s in MessageStatus}


class ListResponse(Model):
    data: list[Any]
    iterator: str | None
    prev_iterator: str | None = None
    done: bool


# ------------------------------------------------------------------ applications


class ApplicationIn(Model):
    name: str = Field(min_length=1, max_length=256)
    throttle_rate: int | None = _throttle_rate()
    uid: str | None = Field(default=None, min_length=1, max_length=256, pattern=UID_PATTERN)
    metadata: dict[str, str] | None = None


class ApplicationPatch(Model):
    name: str = _unset(max_length=256)  # Svix's ApplicationPatch allows "" (no minLength)
    throttle_rate: int | None = _throttle_rate()
    uid: str | None = Field(default=None, min_length=1, max_length=256, pattern=UID_PATTERN)
    metadata: dict[str, str] = _unset()


class ApplicationOut(Model):
    id: str
    uid: str | None = None
    name: str
    throttle_rate: int | None = None
    metadata: dict[str, str]
    created_at: datetime
    updated_at: datetime


# ------------------------------------------------------------------ event types


class EventTypeIn(Model):
    name: str = Field(min_length=1, max_length=256, pattern=UID_PATTERN)
    description: str = ""
    archived: bool | None = None
    deprecated: bool | None = None
    schemas: dict[str, Any] | None = None
    group_name: GroupName | None = None
    feature_flags: list[FeatureFlag] | None = Field(default=None, min_length=1)

    @field_validator("feature_flags")
    @classmethod
    def _flags(cls, value: list[str] | None) -> list[str] | None:
        return _unique(value)


class EventTypePatch(Model):
    description: str = _unset()
    archived: bool = _unset()
    deprecated: bool = _unset()
    schemas: dict[str, Any] | None = None
    group_name: GroupName | None = None
    feature_flags: list[FeatureFlag] | None = Field(default=None, min_length=1)

    @field_validator("feature_flags")
    @classmethod
    def _flags(cls, value: list[str] | None) -> list[str] | None:
        return _unique(value)


def _unique(value: list[str] | None) -> list[str] | None:
    """Svix's `uniqueItems`: a repeated item is refused, not silently dropped."""
    if value is not None and len(set(value)) != len(value):
        raise ValueError("items must be unique")
    return value


class EventTypeOut(Model):
    name: str
    description: str
    archived: bool = False
    deprecated: bool = False
    schemas: dict[str, Any] | None = None
    group_name: str | None = None
    feature_flags: list[str] | None = None
    created_at: datetime
    updated_at: datetime


# ------------------------------------------------------------------ endpoints


class EndpointIn(Model):
    url: str = Field(min_length=1, max_length=65536)
    description: str = ""
    throttle_rate: int | None = _throttle_rate()
    uid: str | None = Field(default=None, min_length=1, max_length=256, pattern=UID_PATTERN)
    disabled: bool = False
    event_types: list[EventTypeName] | None = _event_types()
    channels: list[str] | None = None
    secret: str | None = None
    metadata: dict[str, str] | None = None
    headers: dict[str, str] | None = None
    version: int | None = None

    @field_validator("channels")
    @classmethod
    def _channels(cls, value: list[str] | None) -> list[str] | None:
        return _check_channels(value)


class EndpointPatch(Model):
    url: str = _unset(min_length=1, max_length=65536)
    description: str = _unset()
    throttle_rate: int | None = _throttle_rate()
    uid: str | None = Field(default=None, min_length=1, max_length=256, pattern=UID_PATTERN)
    disabled: bool = _unset()
    event_types: list[EventTypeName] | None = _event_types()
    channels: list[str] | None = None
    metadata: dict[str, str] = _unset()
    secret: str | None = None

    @field_validator("channels")
    @classmethod
    def _channels(cls, value: list[str] | None) -> list[str] | None:
        return _check_channels(value)


def _check_channels(value: list[str] | None) -> list[str] | None:
    if value is None:
        return None
    if len(value) > 10:
        raise ValueError("at most 10 channels")
    for channel in value:
        if not _CHANNEL.fullmatch(channel) or len(channel) > 128:
            raise ValueError(f"invalid channel {channel!r}")
    return value


class EndpointOut(Model):
    id: str
    uid: str | None = None
    url: str
    description: str
    throttle_rate: int | None = None
    disabled: bool = False
    event_types: list[str] | None = None
    channels: list[str] | None = None
    metadata: dict[str, str]
    version: int = 1
    created_at: datetime
    updated_at: datetime


class EndpointSecretOut(Model):
    key: str


class EndpointSecretRotateIn(Model):
    key: str | None = None
    grace_period_seconds: int | None = Field(default=None, ge=0, le=7 * 86400)


class EndpointHeadersIn(Model):
    headers: dict[str, str]


class EndpointHeadersPatchIn(Model):
    headers: dict[str, str | None]  # null removes the header (Svix)
    delete_headers: list[str] | None = None


class EndpointHeadersOut(Model):
    headers: dict[str, str]
    sensitive: list[str]


class EndpointStats(Model):
    success: int
    pending: int
    sending: int
    fail: int
    canceled: int = 0


class RecoverIn(Model):
    since: datetime
    until: datetime | None = None


class BulkReplayIn(Model):
    since: datetime
    until: datetime | None = None
    event_types: list[EventTypeName] | None = None
    channel: str | None = Field(default=None, max_length=128, pattern=r"^[a-zA-Z0-9\-_.:+]+$")
    tag: str | None = Field(default=None, max_length=128, pattern=r"^[a-zA-Z0-9\-_./\\#]+$")
    status: MessageStatus | None = None
    status_code_class: Literal[0, 100, 200, 300, 400, 500] | None = None


class EventExampleIn(Model):
    event_type: str
    example_index: int | None = None
    payload: dict[str, Any] | None = None


# ------------------------------------------------------------------ messages


class MessageIn(Model):
    event_id: str | None = Field(default=None, min_length=1, max_length=256, pattern=UID_PATTERN)
    event_type: str = Field(min_length=1, max_length=256, pattern=UID_PATTERN)
    payload: dict[str, Any]
    channels: list[str] | None = None
    application: ApplicationIn | None = None
    tags: list[str] | None = None
    deliver_at: datetime | None = None
    payload_retention_period: int | None = None
    payload_retention_hours: int | None = None

    @field_validator("channels")
    @classmethod
    def _channels(cls, value: list[str] | None) -> list[str] | None:
        return _check_channels(value)


class MessagePrecheckIn(Model):
    event_type: EventTypeName
    channels: list[str] | None = None

    @field_validator("channels")
    @classmethod
    def _channels(cls, value: list[str] | None) -> list[str] | None:
        return _check_channels(value)


class MessagePrecheckOut(Model):
    active: bool


class MessageOut(Model):
    id: str
    event_id: str | None = None
    event_type: str
    payload: dict[str, Any]
    channels: list[str] | None = None
    tags: list[str] | None = None
    timestamp: datetime
    deliver_at: datetime | None = None


class MessageAttemptOut(Model):
    id: str
    msg_id: str
    endpoint_id: str
    url: str
    response: str
    response_status_code: int
    response_duration_ms: int
    status: MessageStatus
    status_text: str
    trigger_type: int
    timestamp: datetime
    msg: MessageOut | None = None


class EndpointMessageOut(Model):
    id: str
    event_id: str | None = None
    event_type: str
    payload: dict[str, Any]
    channels: list[str] | None = None
    tags: list[str] | None = None
    timestamp: datetime
    deliver_at: datetime | None = None
    status: MessageStatus
    status_text: str
    next_attempt: datetime | None = None


class MessageEndpointOut(Model):
    id: str
    uid: str | None = None
    url: str
    description: str
    throttle_rate: int | None = None
    disabled: bool = False
    event_types: list[str] | None = None
    channels: list[str] | None = None
    created_at: datetime
    updated_at: datetime
    status: MessageStatus
    status_text: str
    next_attempt: datetime | None = None


class AppPortalAccessIn(Model):
    application: ApplicationIn | None = None
    expiry: int | None = None
    read_only: bool | None = None


class AppPortalAccessOut(Model):
    url: str
    token: str
