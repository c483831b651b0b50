"""Shopify: `X-Shopify-Hmac-Sha256: <base64 HMAC-SHA256 of the raw body>`, app client secret.

No timestamp is signed. `X-Shopify-Webhook-Id` identifies the delivery and is the dedupe
key Shopify's verification guide names; retries carry the original payload and id.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

from hookwire.ingest.providers.base import (
    InboundRequest,
    Verdict,
    config_secret,
    hmac_digest,
    matches_any,
    reject,
)


def verify(request: InboundRequest, config: Mapping[str, Any], now: float) -> Verdict:
    secret = config_secret(config)
    if secret is None:
        return reject("config has no secret")
    signature = request.header("x-shopify-hmac-sha256")
    if signature is None:
        return reject("missing X-Shopify-Hmac-Sha256 header")
    expected = base64.b64encode(hmac_digest(secret, request.body)).decode("ascii")
    if not matches_any(expected, [signature]):
        return reject("signature does not match")
    return Verdict(
        ok=True,
        event_id=request.header("x-shopify-webhook-id"),
        event_type=request.header("x-shopify-topic"),
    )
