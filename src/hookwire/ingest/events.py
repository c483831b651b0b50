"""What a received request means as an event: its type and its body as a document.

Filters and transformations work on the document: parsed JSON, a form body as a
dict of fields (one value, or a list when repeated), anything else as text.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

import orjson


def content_type_of(headers: dict[str, str]) -> str:
    return headers.get("content-type", "application/octet-stream")


def body_document(content_type: str, body: bytes) -> Any:
    kind = content_type.split(";", 1)[0].strip().lower()
    if kind == "application/x-www-form-urlencoded":
        fields = parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True)
        return {k: v[0] if len(v) == 1 else v for k, v in fields.items()}
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        return body.decode("utf-8", errors="replace")


def event_type_for(source_type: str, provider_type: str | None) -> str:
    """The provider's own event type, or `<source type>.event` when it has none."""
    return provider_type or f"{source_type}.event"
