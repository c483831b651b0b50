"""GitHub: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body>`.

The legacy SHA-1 `X-Hub-Signature` is ignored on purpose: GitHub always sends the SHA-256
header too, and accepting SHA-1 would only weaken the check. GitHub signs no timestamp;
replays are caught by deduplicating on `X-GitHub-Delivery`, which stays the same when a
delivery is redelivered.
"""

from __future__ import annotations

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

PREFIX = "sha256="


def hub_signature_problem(request: InboundRequest, secret: str) -> str | None:
    """Why `X-Hub-Signature-256` does not sign the body (shared with Meta), else `None`."""
    header = request.header("x-hub-signature-256")
    if header is None:
        return "missing X-Hub-Signature-256 header"
    if not header.startswith(PREFIX):
        return "X-Hub-Signature-256 does not start with sha256="
    expected = hmac_digest(secret, request.body).hex()
    if not matches_any(expected, [header.removeprefix(PREFIX).lower()]):
        return "signature does not match"
    return None


def verify(request: InboundRequest, config: Mapping[str, Any], now: float) -> Verdict:
    secret = config_secret(config)
    if secret is None:
        return reject("config has no secret")
    problem = hub_signature_problem(request, secret)
    if problem is not None:
        return reject(problem)
    return Verdict(
        ok=True,
        event_id=request.header("x-github-delivery"),
        event_type=request.header("x-github-event"),
    )
