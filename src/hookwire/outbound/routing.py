"""Which endpoints get a message: pure functions, no I/O.

An endpoint with no event-type filter receives every type; with one, only the
listed types. An endpoint with channels receives only messages that carry one of
them; an endpoint without channels receives every message (Svix's rules).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence


def endpoint_matches(
    endpoint_types: Sequence[str] | None,
    endpoint_channels: Sequence[str] | None,
    event_type: str,
    channels: Sequence[str] | None,
) -> bool:
    if endpoint_types and event_type not in endpoint_types:
        return False
    if endpoint_channels:
        return bool(channels) and any(c in endpoint_channels for c in channels or ())
    return True


def select_endpoints(
    endpoints: Iterable[tuple[str, Sequence[str] | None, Sequence[str] | None]],
    event_type: str,
    channels: Sequence[str] | None,
) -> list[str]:
    """IDs of the endpoints (id, types, channels) that should receive the message."""
    return [
        endpoint_id
        for endpoint_id, types, endpoint_channels in endpoints
        if endpoint_matches(types, endpoint_channels, event_type, channels)
    ]
