"""Keys from a URL path that become stored names: PUT upserts and apps created by a message.

`PUT /app/{key}` for a missing application creates it with `key` as its uid, and so
do endpoints, event types (the key is the name) and `MessageIn.application`. Such a
key must follow the same rule as a uid given in a body, or a row would exist that
could never have been created through the body.
"""

from __future__ import annotations

import re

from hookwire.errors import ValidationFailed
from hookwire.outbound.models import UID_PATTERN

MAX_KEY_LENGTH = 256


def check_new_key(key: str, param: str) -> str:
    """`key` unchanged when it can be a uid or a name; else a 422 that names the path parameter."""
    if not 0 < len(key) <= MAX_KEY_LENGTH or re.fullmatch(UID_PATTERN, key) is None:
        raise ValidationFailed(
            [
                {
                    "loc": ["path", param],
                    "msg": f"{key!r} cannot be used as a uid or name: use 1-{MAX_KEY_LENGTH} "
                    "characters of a-z, A-Z, 0-9, '-', '_' and '.'",
                    "type": "value_error",
                }
            ]
        )
    return key
