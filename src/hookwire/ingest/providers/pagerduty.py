"""PagerDuty v3 webhooks: `X-PagerDuty-Signature: v1=<hex>[,v1=<hex>...]`, HMAC-SHA256 of the body.

During secret rotation the header lists one `v1=` entry per secret, comma-separated; any
match is enough. No timestamp is signed. The dedupe id is the body's `event.id` (falling
back to `X-Webhook-Id`) and the type is `event.event_type`, e.g. `incident.triggered`.
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
    reject,
    string_at,
)


def signatures(header: str) -> list[str]:
    """Every `v1=` value of the comma-separated header; other versions are skipped."""
    found = []
    for item in header.split(","):
        version, equals, value = item.strip().partition("=")
        if equals and version == "v1":
            found.append(value.lower())
    return found


def verify(request: InboundRequest, config: Mapping[str, Any], now: float) -> Verdict:
    secret = config_secret(config)
    if secret is None:
        return reject("config has no secret")
    header = request.header("x-pagerduty-signature")
    if header is None:
        return reject("missing X-PagerDuty-Signature header")
    candidates = signatures(header)
    if not candidates:
        return reject("X-PagerDuty-Signature has no v1= signature")
    if not matches_any(hmac_digest(secret, request.body).hex(), candidates):
        return reject("no matching v1 signature")
    payload = json_object(request.body)
    event_id = string_at(payload, "event", "id") or request.header("x-webhook-id")
    return Verdict(ok=True, event_id=event_id, event_type=string_at(payload, "event", "event_type"))
