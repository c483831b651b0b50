"""Standard Webhooks and Svix (source types `standard-webhooks` and `svix`): one scheme.

Signed content is `{id}.{timestamp}.{raw body}`. A `whsec_` secret is base64 (padding
optional, as the reference library tolerates) and signs `v1,<base64 HMAC-SHA256>`; a
`whpk_` public key, or a `whsk_` secret key (seed ‖ public key, Svix's layout), checks
`v1a,<base64 Ed25519>`. The header may list several signatures separated by spaces
(key rotation); any one match is enough. Svix sends `svix-*` headers unless white-labelled
to `webhook-*`, so each header is looked up under both names, `svix-*` first, as the Svix
library does. The timestamp must be within ±300 s, like every reference library.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from hookwire.ingest.providers.base import (
    InboundRequest,
    Verdict,
    config_secret,
    hmac_digest,
    json_object,
    matches_any,
    parse_digits,
    reject,
    string_at,
    timestamp_problem,
    utf8,
)

TOLERANCE_SECONDS = 300


def decode_base64(text: str) -> bytes | None:
    """Standard base64 with or without padding; `None` if it is not base64 at all."""
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None


def _header(request: InboundRequest, suffix: str) -> str | None:
    return request.header(f"svix-{suffix}") or request.header(f"webhook-{suffix}")


def _signatures(header: str, version: str) -> list[str]:
    """The signatures of one version from a space-separated `version,signature` list."""
    found = []
    for entry in header.split():
        name, comma, signature = entry.partition(",")
        if comma and name == version:
            found.append(signature)
    return found


def _ed25519_matches(public_key: bytes, signed: bytes, signatures: list[str]) -> bool:
    key = Ed25519PublicKey.from_public_bytes(public_key)
    for text in signatures:
        signature = decode_base64(text)
        if signature is None or len(signature) != 64:
            continue
        try:
            key.verify(signature, signed)
        except InvalidSignature:
            continue
        return True
    return False


def signature_matches(secret: str, signed: bytes, header: str) -> bool | None:
    """Whether `header` holds a valid signature of `signed`; `None` if the secret is unusable."""
    prefix, _, encoded = secret.rpartition("_")
    key = decode_base64(encoded)
    if not key or prefix not in ("", "whsec", "whpk", "whsk"):
        return None
    if prefix == "whpk":
        return len(key) == 32 and _ed25519_matches(key, signed, _signatures(header, "v1a"))
    if prefix == "whsk":
        return len(key) == 64 and _ed25519_matches(key[32:], signed, _signatures(header, "v1a"))
    expected = base64.b64encode(hmac_digest(key, signed)).decode("ascii")
    return matches_any(expected, _signatures(header, "v1"))


def verify(request: InboundRequest, config: Mapping[str, Any], now: float) -> Verdict:
    secret = config_secret(config)
    if secret is None:
        return reject("config has no secret")
    msg_id, timestamp_text = _header(request, "id"), _header(request, "timestamp")
    signature_header = _header(request, "signature")
    if msg_id is None or timestamp_text is None or signature_header is None:
        return reject("missing webhook-id, webhook-timestamp or webhook-signature header")
    timestamp = parse_digits(timestamp_text)
    if timestamp is None:
        return reject("webhook-timestamp is not an integer")
    problem = timestamp_problem(timestamp, now, TOLERANCE_SECONDS)
    if problem is not None:
        return reject(problem)
    signed = utf8(f"{msg_id}.{timestamp_text}.") + request.body
    matched = signature_matches(secret, signed, signature_header)
    if matched is None:
        return reject("secret is not a valid whsec_/whpk_/whsk_ base64 key")
    if not matched:
        return reject("no matching signature")
    event_type = string_at(json_object(request.body), "type")
    return Verdict(ok=True, event_id=msg_id, event_type=event_type)
