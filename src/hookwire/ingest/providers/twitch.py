"""Twitch EventSub: `Twitch-Eventsub-Message-Signature: sha256=<hex>` over id + timestamp + body.

The message id, the RFC 3339 timestamp (as sent, nanoseconds and all) and the raw body
are concatenated with no separator. Twitch tells receivers to refuse messages older than
10 minutes; we also refuse ones more than 10 minutes ahead. A
`webhook_callback_verification` message is answered with its raw `challenge` as
`text/plain`, after the signature verifies. The message id is the dedupe key (delivery is
at-least-once); the event type is the subscription type (e.g. `channel.follow`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from hookwire.ingest.providers.base import (
    Challenge,
    InboundRequest,
    Verdict,
    config_secret,
    hmac_digest,
    json_object,
    matches_any,
    reject,
    string_at,
    timestamp_problem,
    utf8,
)

TOLERANCE_SECONDS = 600
PREFIX = "sha256="
VERIFICATION = "webhook_callback_verification"


def parse_rfc3339(text: str) -> float | None:
    """Unix seconds of an RFC 3339 timestamp with an explicit offset, else `None`."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return None if moment.tzinfo is None else moment.timestamp()


def verify(request: InboundRequest, config: Mapping[str, Any], now: float) -> Verdict:
    secret = config_secret(config)
    if secret is None:
        return reject("config has no secret")
    message_id = request.header("twitch-eventsub-message-id")
    timestamp_text = request.header("twitch-eventsub-message-timestamp")
    signature = request.header("twitch-eventsub-message-signature")
    if message_id is None or timestamp_text is None or signature is None:
        return reject("missing Twitch-Eventsub-Message-Id, -Timestamp or -Signature header")
    timestamp = parse_rfc3339(timestamp_text)
    if timestamp is None:
        return reject("Twitch-Eventsub-Message-Timestamp is not an RFC 3339 timestamp")
    problem = timestamp_problem(timestamp, now, TOLERANCE_SECONDS)
    if problem is not None:
        return reject(problem)
    if not signature.startswith(PREFIX):
        return reject("Twitch-Eventsub-Message-Signature does not start with sha256=")
    expected = hmac_digest(secret, utf8(message_id + timestamp_text) + request.body).hex()
    if not matches_any(expected, [signature.removeprefix(PREFIX).lower()]):
        return reject("signature does not match")
    message = json_object(request.body)
    event_type = string_at(message, "subscription", "type")
    if request.header("twitch-eventsub-message-type") == VERIFICATION:
        challenge = string_at(message, "challenge")
        if challenge is None:
            return reject("webhook_callback_verification without a challenge")
        return Verdict(
            ok=True, event_id=message_id, event_type=event_type, challenge=Challenge.text(challenge)
        )
    return Verdict(ok=True, event_id=message_id, event_type=event_type)
