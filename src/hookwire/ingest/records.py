"""The rows of the ingest tables as they come out of the store, as typed records."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SourceRecord:
    """One `sources` row (`get_source`, `get_source_by_token_hash`, `list_sources_*`)."""

    id: str
    uid: str | None
    name: str
    type: str  # the provider: stripe, github, generic-webhook, ...
    config: str  # sealed JSON object (secretbox): the provider's secrets and options
    metadata: str  # JSON object
    token_hash: str  # of the token in the ingest URL
    token: str  # sealed
    app_id: str  # the application whose endpoints receive this source's events
    created_at: int
    updated_at: int
