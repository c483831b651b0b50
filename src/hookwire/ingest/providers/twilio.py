"""Twilio: `X-Twilio-Signature` = base64 HMAC over the URL plus the sorted POST parameters.

Form POSTs sign `url + name1 + value1 + ...`: names sorted, each name's distinct values
sorted (multi-valued fields such as repeated `MediaUrl`s all count), exactly as
`twilio.request_validator.RequestValidator` computes it. JSON POSTs instead carry
`bodySHA256=<hex sha256 of the raw body>` in the URL; the hash must match and the URL is
signed with no parameters. Twilio's back end is inconsistent about the default port, so
the URL is tried with and without it. HMAC-SHA1 with the Auth Token is the default;
`X-Twilio-Webhooks-Signature-Settings: key=...,algorithm=HMAC_SHA256` (Webhooks Rules,
signed with a SharedKey) switches to SHA-256. The dedupe id is `I-Twilio-Idempotency-Token`:
a `MessageSid` repeats across status callbacks, so it cannot be one.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from typing import Any
from urllib.parse import SplitResult, parse_qs, urlsplit

from hookwire.ingest.providers.base import (
    InboundRequest,
    Verdict,
    config_secret,
    hmac_digest,
    matches_any,
    query_params,
    reject,
    utf8,
)

ALGORITHMS = {"HMAC_SHA1": "sha1", "HMAC_SHA256": "sha256"}


def signature_algorithm(settings_header: str | None) -> str:
    """The `algorithm=` named in X-Twilio-Webhooks-Signature-Settings; HMAC_SHA1 when absent."""
    for part in (settings_header or "").split(","):
        name, equals, value = part.partition("=")
        if equals and name.strip() == "algorithm" and value.strip():
            return value.strip().upper()
    return "HMAC_SHA1"


def url_variants(url: str) -> list[str] | None:
    """The URL as given, with its default port added and with its port removed."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if port is None:
        default = 443 if parts.scheme == "https" else 80
        other: SplitResult = parts._replace(netloc=f"{parts.netloc}:{default}")
    else:
        other = parts._replace(netloc=parts.netloc.rsplit(":", 1)[0])
    return list(dict.fromkeys([url, parts.geturl(), other.geturl()]))


def signed_string(url: str, params: Mapping[str, list[str]]) -> str:
    pieces = [url]
    for name in sorted(params):
        pieces.extend(name + value for value in sorted(set(params[name])))
    return "".join(pieces)


def _params(request: InboundRequest) -> dict[str, list[str]] | str:
    """The form parameters that are signed, or why they cannot be known."""
    query = query_params(request.url)
    if query is None:
        return "URL cannot be parsed"
    if "bodySHA256" in query:
        actual = hashlib.sha256(request.body).hexdigest()
        if not hmac.compare_digest(utf8(query["bodySHA256"][0].lower()), actual.encode("ascii")):
            return "bodySHA256 does not match the body"
        return {}
    try:
        return parse_qs(request.body.decode("utf-8"), keep_blank_values=True)
    except (UnicodeDecodeError, ValueError):
        return "form body is not valid UTF-8"


def verify(request: InboundRequest, config: Mapping[str, Any], now: float) -> Verdict:
    secret = config_secret(config)
    if secret is None:
        return reject("config has no secret")
    signature = request.header("x-twilio-signature")
    if signature is None:
        return reject("missing X-Twilio-Signature header")
    algorithm = ALGORITHMS.get(signature_algorithm(request.header("x-twilio-webhooks-signature-settings")))
    if algorithm is None:
        return reject("unsupported signature algorithm in X-Twilio-Webhooks-Signature-Settings")
    urls = url_variants(request.url)
    if urls is None:
        return reject("URL cannot be parsed")
    params = _params(request)
    if isinstance(params, str):
        return reject(params)
    expected = [
        base64.b64encode(hmac_digest(secret, utf8(signed_string(url, params)), algorithm)).decode("ascii")
        for url in urls
    ]
    if not any(matches_any(candidate, [signature]) for candidate in expected):
        return reject("signature does not match")
    return Verdict(ok=True, event_id=request.header("i-twilio-idempotency-token"))
