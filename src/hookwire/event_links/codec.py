"""Events on the wire: one compact JSON document per event (`{"t": topic, "d": data}`)."""

from __future__ import annotations

from typing import Any

import orjson

from hookwire.events import TOPICS, Event


def encode(event: Event) -> bytes:
    return orjson.dumps({"t": event.topic, "d": event.data})


def decode(raw: bytes | str | dict[str, Any]) -> Event | None:
    """The event, or None for anything malformed or of an unknown topic (never raises)."""
    try:
        obj = orjson.loads(raw) if not isinstance(raw, dict) else raw
        topic, data = obj["t"], obj["d"]
    except (orjson.JSONDecodeError, KeyError, TypeError):
        return None
    if topic not in TOPICS or not isinstance(data, dict):
        return None
    return Event(topic, data)
