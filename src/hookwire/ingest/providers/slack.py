"""Slack: `X-Slack-Signature: v0=<hex HMAC-SHA256 of "v0:{timestamp}:{raw body}">`.

`X-Slack-Request-Timestamp` must be within ±300 s, as `slack_sdk`'s `SignatureVerifier`
enforces. The `url_verification` handshake is signed like any request and is answered
only after the signature verifies, so an unsigned caller cannot make us echo anything.
Bodies are JSON (Events API) or form-encoded (slash commands, interactivity); only JSON
bodies carry an `event_id`.
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
)

TOLERANCE_SECONDS = 300


def verify(request: InboundRequest, config: Mapping[str, Any], now: float) -> Verdict:
    secret = config_secret(config)
    if secret is None:
        return reject("config has no secret")
    signature = request.header("x-slack-signature")
    timestamp_text = request.header("x-slack-request-timestamp")
    if signature is None or timestamp_text is None:
        return reject("missing X-Slack-Signature or X-Slack-Request-Timestamp header")
    timestamp = parse_digits(timestamp_text)
    if timestamp is None:
        return reject("X-Slack-Request-Timestamp is not an integer")
    problem = timestamp_problem(timestamp, now, TOLERANCE_SECONDS)
    if problem is not None:
        return reject(problem)
    expected = "v0=" + hmac_digest(secret, f"v0:{timestamp_text}:".encode("ascii") + request.body).hex()
    if not matches_any(expected, [signature]):
        return reject("signature does not match")
    payload = json_object(request.body)
    if string_at(payload, "type") == "url_verification":
        challenge = string_at(payload, "challenge")
        if challenge is None:
            return reject("url_verification without a challenge")
        return Verdict(
            ok=True, event_type="url_verification", challenge=Challenge.json({"challenge": challenge})
        )
    event_type = string_at(payload, "event", "type") or string_at(payload, "type")
    return Verdict(ok=True, event_id=string_at(payload, "event_id"), event_type=event_type)
