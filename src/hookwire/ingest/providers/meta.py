"""Meta (Graph API, WhatsApp, Messenger, Instagram).

Subscribing is a GET `?hub.mode=subscribe&hub.challenge=C&hub.verify_token=T`: when T
equals `config["verifyToken"]` we answer 200 `text/plain` with C; anything else fails
(the caller answers 403). Events are POSTs signed exactly like GitHub's, with the App
Secret: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body>`.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from typing import Any

from hookwire.ingest.providers.base import (
    Challenge,
    InboundRequest,
    Verdict,
    config_secret,
    json_object,
    query_params,
    reject,
    string_at,
    utf8,
)
from hookwire.ingest.providers.github import hub_signature_problem


def _subscription(request: InboundRequest, config: Mapping[str, Any]) -> Verdict:
    expected = config.get("verifyToken")
    if not isinstance(expected, str) or not expected:
        return reject("config has no verifyToken")
    params = query_params(request.url)
    if params is None:
        return reject("URL cannot be parsed")
    mode, challenge, token = (
        params.get(name, [""])[0] for name in ("hub.mode", "hub.challenge", "hub.verify_token")
    )
    if mode != "subscribe":
        return reject("hub.mode is not subscribe")
    if not challenge:
        return reject("missing hub.challenge")
    if not hmac.compare_digest(utf8(token), utf8(expected)):
        return reject("hub.verify_token does not match")
    return Verdict(ok=True, event_type="subscribe", challenge=Challenge.text(challenge))


def verify(request: InboundRequest, config: Mapping[str, Any], now: float) -> Verdict:
    if request.method.upper() == "GET":
        return _subscription(request, config)
    secret = config_secret(config)
    if secret is None:
        return reject("config has no secret")
    problem = hub_signature_problem(request, secret)
    if problem is not None:
        return reject(problem)
    return Verdict(ok=True, event_type=string_at(json_object(request.body), "object"))
