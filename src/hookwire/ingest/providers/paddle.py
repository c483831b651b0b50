"""Paddle Billing: `Paddle-Signature: ts=<unix>;h1=<hex>[;h1=<hex>...]` over `{ts}:{raw body}`.

Several `h1` entries appear while a notification secret is being rotated; any one match
is enough. Paddle leaves the replay window to the receiver; we use ±300 s like the other
timestamped schemes. The event id and type come from the body (`event_id`, `event_type`).
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
    """The first `ts` value and every `h1` value; malformed items are skipped."""
    timestamp: str | None = None
    signatures: list[str] = []
    for item in header.split(";"):
        key, equals, value = item.strip().partition("=")
        if not equals:
            continue
        if key == "ts" and timestamp is None:
            timestamp = value
        elif key == "h1":
            signatures.append(value.lower())
    return timestamp, signatures


def verify(request: InboundRequest, config: Mapping[str, Any], now: float) -> Verdict:
    secret = config_secret(config)
    if secret is None:
        return reject("config has no secret")
    header = request.header("paddle-signature")
    if header is None:
        return reject("missing Paddle-Signature header")
    timestamp_text, signatures = parse_signature_header(header)
    timestamp = parse_digits(timestamp_text)
    if timestamp is None:
        return reject("Paddle-Signature has no integer ts= timestamp")
    if not signatures:
        return reject("Paddle-Signature has no h1= signature")
    problem = timestamp_problem(timestamp, now, TOLERANCE_SECONDS)
    if problem is not None:
        return reject(problem)
    expected = hmac_digest(secret, f"{timestamp_text}:".encode("ascii") + request.body).hex()
    if not matches_any(expected, signatures):
        return reject("no matching h1 signature")
    event = json_object(request.body)
    if event is None:
        return reject("body is not a JSON object")
    return Verdict(ok=True, event_id=string_at(event, "event_id"), event_type=string_at(event, "event_type"))
