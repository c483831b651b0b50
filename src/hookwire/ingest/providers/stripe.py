"""Stripe: `Stripe-Signature: t=<unix>,v1=<hex>[,v1=<hex>...]` over `{t}.{raw body}`.

The `whsec_...` secret is the HMAC key as-is (its UTF-8 bytes), NOT base64-decoded as
Standard Webhooks does: the source type, never the secret's prefix, decides this. Every
`v1` entry is tried (Stripe sends one per active secret while rolling). Like
`stripe.Webhook.construct_event`, only timestamps older than 300 s are refused; Stripe's
library has no future bound and neither do we. The event id and type come from the body.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

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
)

TOLERANCE_SECONDS = 300


def parse_signature_header(header: str) -> tuple[str | None, list[str]]:
    """The first `t` value (as sent) and every `v1` value; other or malformed items are skipped."""
    timestamp: str | None = None
    signatures: list[str] = []
    for item in header.split(","):
        key, equals, value = item.strip().partition("=")
        if not equals:
            continue
        if key == "t" and timestamp is None:
            timestamp = value
        elif key == "v1":
            signatures.append(value.lower())
    return timestamp, signatures


def verify(request: InboundRequest, config: Mapping[str, Any], now: float) -> Verdict:
    secret = config_secret(config)
    if secret is None:
        return reject("config has no secret")
    header = request.header("stripe-signature")
    if header is None:
        return reject("missing Stripe-Signature header")
    timestamp_text, signatures = parse_signature_header(header)
    timestamp = parse_digits(timestamp_text)
    if timestamp is None:
        return reject("Stripe-Signature has no integer t= timestamp")
    if not signatures:
        return reject("Stripe-Signature has no v1= signature")
    problem = timestamp_problem(timestamp, now, TOLERANCE_SECONDS, past_only=True)
    if problem is not None:
        return reject(problem)
    expected = hmac_digest(secret, f"{timestamp_text}.".encode("ascii") + request.body).hex()
    if not matches_any(expected, signatures):
        return reject("no matching v1 signature")
    event = json_object(request.body)
    if event is None:
        return reject("body is not a JSON object")
    return Verdict(ok=True, event_id=string_at(event, "id"), event_type=string_at(event, "type"))
