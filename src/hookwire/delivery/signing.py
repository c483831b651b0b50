"""Standard Webhooks signing: `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`.

Secrets are `whsec_` + base64 of 24 random bytes, as Svix generates them. During a
rotation every unexpired key signs, and the signatures are joined by a space, so a
receiver holding either the old or the new secret accepts the message.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import os
import re
from collections.abc import Sequence

SECRET_PREFIX = "whsec_"
_SECRET_BYTES = 24
# Svix's accepted form: optional prefix, then 32-100 base64 characters.
_SECRET_PATTERN = re.compile(r"^(whsec_)?[a-zA-Z0-9+/=]{32,100}$")


def generate_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(os.urandom(_SECRET_BYTES)).decode()


def is_valid_secret(secret: str) -> bool:
    """True for secrets the API accepts from users (same rule as Svix)."""
    if not _SECRET_PATTERN.match(secret):
        return False
    try:
        secret_key_bytes(secret)
    except ValueError:
        return False
    return True


def secret_key_bytes(secret: str) -> bytes:
    """The HMAC key of a `whsec_` secret: its base64 part decoded (unpadded input tolerated)."""
    body = secret.removeprefix(SECRET_PREFIX)
    try:
        key = base64.b64decode(body + "=" * (-len(body) % 4), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("secret is not valid base64") from exc
    if not key:
        raise ValueError("secret is empty")
    return key


def sign(msg_id: str, timestamp: int, body: bytes, keys: Sequence[bytes]) -> str:
    """The `webhook-signature` header value: one `v1,` entry per key, space-separated."""
    signed = b"%s.%d.%s" % (msg_id.encode(), timestamp, body)
    if len(keys) == 1:  # the common case, without the generator (this runs once per attempt)
        return "v1," + base64.b64encode(hmac.digest(keys[0], signed, "sha256")).decode()
    return " ".join("v1," + base64.b64encode(hmac.digest(key, signed, "sha256")).decode() for key in keys)
