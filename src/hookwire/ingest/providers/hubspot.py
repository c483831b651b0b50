"""HubSpot request validation, v3 first with the v2 and v1 schemes as fallbacks.

* v3: `X-HubSpot-Signature-v3` = base64 HMAC-SHA256(client secret, method + uri + body +
  timestamp), `X-HubSpot-Request-Timestamp` in milliseconds and refused when more than
  5 minutes away from `now` (HubSpot's guide bounds the past; we also bound the future).
  The uri is the URL as called with HubSpot's listed percent-escapes decoded.
* v2 (`X-HubSpot-Signature-Version: v2`): hex SHA-256 (a plain hash, not an HMAC) of
  secret + method + uri + body.
* v1 (`v1`, the default for webhooks): hex SHA-256 of secret + body.

v1 and v2 sign no timestamp, so they cannot stop replays; dedupe on the events' `eventId`.
Bodies are JSON arrays of events, so the dedupe id is every `eventId`, comma-joined.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from typing import Any

from hookwire.ingest.providers.base import (
    InboundRequest,
    Verdict,
    config_secret,
    hmac_digest,
    matches_any,
    parse_digits,
    parse_json,
    reject,
    string_at,
    timestamp_problem,
    utf8,
)

TOLERANCE_SECONDS = 300
# The percent-escapes HubSpot decodes before signing a v3 uri (its validation guide's table).
V3_DECODED = {"%3A": ":", "%2F": "/", "%3F": "?", "%40": "@", "%21": "!", "%24": "$",
              "%27": "'", "%28": "(", "%29": ")", "%2A": "*", "%2C": ",", "%3B": ";"}  # fmt: skip


def v3_uri(url: str) -> str:
    """`url` with only HubSpot's listed escapes decoded (either hex case), others left as sent."""
    pieces = url.split("%")
    decoded = [pieces[0]]
    for piece in pieces[1:]:
        replacement = V3_DECODED.get("%" + piece[:2].upper())
        decoded.append(replacement + piece[2:] if replacement else "%" + piece)
    return "".join(decoded)


def _v3(request: InboundRequest, secret: str, signature: str, now: float) -> str | None:
    timestamp_text = request.header("x-hubspot-request-timestamp")
    timestamp_ms = parse_digits(timestamp_text, max_digits=18)
    if timestamp_text is None or timestamp_ms is None:
        return "missing or non-integer X-HubSpot-Request-Timestamp header"
    problem = timestamp_problem(timestamp_ms / 1000, now, TOLERANCE_SECONDS)
    if problem is not None:
        return problem
    signed = utf8(request.method.upper() + v3_uri(request.url)) + request.body + timestamp_text.encode()
    expected = base64.b64encode(hmac_digest(secret, signed)).decode("ascii")
    return None if matches_any(expected, [signature]) else "v3 signature does not match"


def _legacy(request: InboundRequest, secret: str, signature: str, version: str) -> str | None:
    if version == "v2":
        signed = utf8(secret + request.method.upper() + request.url) + request.body
    elif version == "v1":
        signed = utf8(secret) + request.body
    else:
        return "unsupported X-HubSpot-Signature-Version"
    expected = hashlib.sha256(signed).hexdigest()
    return None if matches_any(expected, [signature.lower()]) else f"{version} signature does not match"


def _event_summary(body: bytes) -> tuple[str | None, str | None]:
    """Comma-joined event ids and distinct subscription types of a batched body."""
    events = parse_json(body)
    if not isinstance(events, list):
        events = [events]
    ids = [i for i in (string_at(event, "eventId") for event in events) if i is not None]
    kinds = dict.fromkeys(k for k in (string_at(event, "subscriptionType") for event in events) if k)
    return (",".join(ids) or None), (",".join(kinds) or None)


def verify(request: InboundRequest, config: Mapping[str, Any], now: float) -> Verdict:
    secret = config_secret(config)
    if secret is None:
        return reject("config has no secret")
    if (v3_signature := request.header("x-hubspot-signature-v3")) is not None:
        problem = _v3(request, secret, v3_signature, now)
    elif (legacy_signature := request.header("x-hubspot-signature")) is not None:
        version = request.header("x-hubspot-signature-version") or "v1"
        problem = _legacy(request, secret, legacy_signature, version.lower())
    else:
        return reject("missing X-HubSpot-Signature-v3 or X-HubSpot-Signature header")
    if problem is not None:
        return reject(problem)
    event_id, event_type = _event_summary(request.body)
    return Verdict(ok=True, event_id=event_id, event_type=event_type)
