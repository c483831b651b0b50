"""User-supplied JSON values (payloads, schemas) encoded for storage, or a 422 saying why not.

A body parses fine up to 1024 levels deep, but orjson encodes at most 254: deeper
values would fail at the write and answer 500. Such a value is refused as invalid
input instead (Svix itself parses no deeper than 128 levels).
"""

from __future__ import annotations

from typing import Any

import orjson

from hookwire.errors import ValidationFailed


def encode_json(value: Any, field: str) -> bytes:
    """Compact JSON bytes of `value`, as stored and sent; a 422 on `field` when it cannot be encoded."""
    try:
        return orjson.dumps(value)
    except orjson.JSONEncodeError as exc:
        raise ValidationFailed.field([field], f"cannot be stored as JSON: {exc}") from exc
