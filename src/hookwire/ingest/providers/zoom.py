"""Zoom: `x-zm-signature: v0=<hex HMAC-SHA256 of "v0:{x-zm-request-timestamp}:{raw body}">`.

The `endpoint.url_validation` check (sent on setup and every 72 h) is answered with
`{"plainToken", "encryptedToken": hex HMAC-SHA256(secret, plainToken)}`, but only after
the request's own signature verifies: answering unsigned challenges would hand anyone an
HMAC oracle (a `plainToken` of `v0:{ts}:{body}` would return a valid event signature).
Zoom leaves the replay window to the app; we use ±300 s like Slack's identical scheme.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hookwire.ingest.providers.base import (
    Challenge,
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
URL_VALIDATION = "endpoint.url_validation"


def encrypted_token(secret: str, plain_token: str) -> str:
    return hmac_digest(secret, utf8(plain_token)).hex()


def verify(request: InboundRequest, config: Mapping[str, Any], now: float) -> Verdict:
    secret = config_secret(config)
    if secret is None:
        return reject("config has no secret")
    signature = request.header("x-zm-signature")
    timestamp_text = request.header("x-zm-request-timestamp")
    if signature is None or timestamp_text is None:
        return reject("missing x-zm-signature or x-zm-request-timestamp header")
    timestamp = parse_digits(timestamp_text)
    if timestamp is None:
        return reject("x-zm-request-timestamp is not an integer")
    problem = timestamp_problem(timestamp, now, TOLERANCE_SECONDS)
    if problem is not None:
        return reject(problem)
    expected = "v0=" + hmac_digest(secret, f"v0:{timestamp_text}:".encode("ascii") + request.body).hex()
    if not matches_any(expected, [signature]):
        return reject("signature does not match")
    payload = json_object(request.body)
    event_type = string_at(payload, "event")
    if event_type == URL_VALIDATION:
        plain_token = string_at(payload, "payload", "plainToken")
        if plain_token is None:
            return reject("endpoint.url_validation without payload.plainToken")
        response = {"plainToken": plain_token, "encryptedToken": encrypted_token(secret, plain_token)}
        return Verdict(ok=True, event_type=event_type, challenge=Challenge.json(response))
    return Verdict(ok=True, event_type=event_type)
