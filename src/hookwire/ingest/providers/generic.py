"""Generic webhooks (source type `generic-webhook`): verification is whatever the config says.

* no `verification` (and no `secret`): anything is accepted, as with Svix's generic source;
* `{"verification": {"type": "hmac", "header": "X-Signature", "algorithm": "sha256",
  "encoding": "hex", "prefix": "sha256="}}`: HMAC of the raw body with `config["secret"]`
  (`algorithm` sha1 | sha256 | sha512, default sha256; `encoding` hex | base64, default hex);
* `{"verification": {"type": "basic", "username": ..., "password": ...}}`: HTTP Basic auth.

A `secret` without a `verification` block is refused rather than silently ignored: whoever
set a secret expects it to be checked.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Mapping
from typing import Any

from hookwire.ingest.providers.base import (
    InboundRequest,
    Verdict,
    config_secret,
    hmac_digest,
    matches_any,
    reject,
    utf8,
)

ALGORITHMS = ("sha1", "sha256", "sha512")
ENCODINGS = ("hex", "base64")


def _hmac_problem(request: InboundRequest, secret: str | None, scheme: Mapping[str, Any]) -> str | None:
    header, algorithm = scheme.get("header"), scheme.get("algorithm", "sha256")
    encoding, prefix = scheme.get("encoding", "hex"), scheme.get("prefix", "")
    if secret is None:
        return "config has no secret"
    if not isinstance(header, str) or not header:
        return "verification.header is not set"
    if algorithm not in ALGORITHMS or encoding not in ENCODINGS or not isinstance(prefix, str):
        return "verification.algorithm, encoding or prefix is not supported"
    signature = request.header(header)
    if signature is None:
        return f"missing {header} header"
    if not signature.startswith(prefix):
        return f"{header} does not start with {prefix}"
    digest = hmac_digest(secret, request.body, algorithm)
    if encoding == "hex":
        expected, received = digest.hex(), signature.removeprefix(prefix).lower()
    else:
        expected, received = base64.b64encode(digest).decode("ascii"), signature.removeprefix(prefix)
    return None if matches_any(expected, [received]) else "signature does not match"


def _basic_problem(request: InboundRequest, scheme: Mapping[str, Any]) -> str | None:
    username, password = scheme.get("username"), scheme.get("password")
    if not isinstance(username, str) or not isinstance(password, str):
        return "verification.username or password is not set"
    auth_scheme, _, token = (request.header("authorization") or "").partition(" ")
    if auth_scheme.lower() != "basic":
        return "missing Basic Authorization header"
    try:
        credentials = base64.b64decode(token.strip(), validate=True)
    except (binascii.Error, ValueError):
        return "Authorization header is not valid base64"
    if not hmac.compare_digest(credentials, utf8(f"{username}:{password}")):
        return "credentials do not match"
    return None


def verify(request: InboundRequest, config: Mapping[str, Any], now: float) -> Verdict:
    scheme = config.get("verification")
    secret = config_secret(config)
    if scheme is None:
        return reject("config has a secret but no verification scheme") if secret else Verdict(ok=True)
    if not isinstance(scheme, Mapping):
        return reject("verification config is not an object")
    if scheme.get("type") == "hmac":
        problem = _hmac_problem(request, secret, scheme)
    elif scheme.get("type") == "basic":
        problem = _basic_problem(request, scheme)
    else:
        return reject("verification.type must be hmac or basic")
    return reject(problem) if problem is not None else Verdict(ok=True)
