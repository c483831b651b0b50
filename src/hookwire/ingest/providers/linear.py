"""Linear: `Linear-Signature: <hex HMAC-SHA256 of the raw body>`.

The header signs no timestamp; Linear puts `webhookTimestamp` (milliseconds) in the signed
body and asks receivers to refuse it when more than a minute away from now, which is what
stops replays here. Dedupe on the `Linear-Delivery` header.
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

TOLERANCE_SECONDS = 60


def verify(request: InboundRequest, config: Mapping[str, Any], now: float) -> Verdict:
    secret = config_secret(config)
    if secret is None:
        return reject("config has no secret")
    signature = request.header("linear-signature")
    if signature is None:
        return reject("missing Linear-Signature header")
    if not matches_any(hmac_digest(secret, request.body).hex(), [signature.lower()]):
        return reject("signature does not match")
    payload = json_object(request.body)
    timestamp_ms = parse_digits(string_at(payload, "webhookTimestamp"), max_digits=18)
    if timestamp_ms is None:
        return reject("body has no integer webhookTimestamp")
    problem = timestamp_problem(timestamp_ms / 1000, now, TOLERANCE_SECONDS)
    if problem is not None:
        return reject(problem)
    return Verdict(ok=True, event_id=request.header("linear-delivery"), event_type=string_at(payload, "type"))
