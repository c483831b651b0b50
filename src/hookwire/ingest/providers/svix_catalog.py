"""The rest of Svix Ingest's 43 source types, each mapped to the scheme that verifies it.

Svix's document lists source types that hookwire has no dedicated module for. Each one
is accepted and verified as follows:

* **Svix-signed** (`SVIX_SIGNED`): these providers send their webhooks through Svix, so the
  request carries `svix-id`/`svix-timestamp`/`svix-signature` and is checked exactly like a
  `svix` source (`standard_webhooks.verify`, config `{"secret": "whsec_..."}`).
* **Body HMAC** (`BODY_HMAC`): the provider signs the raw body with the config's `secret` and
  puts the digest in one header; checked by the generic HMAC verifier with that scheme.
* **Generic fallback** (`GENERIC_FALLBACK`): no dedicated verifier yet (an Ed25519 or a
  multi-part scheme, a handshake, or a `cron` schedule, which is not a webhook at all). These
  are verified exactly as a `generic-webhook` source: with a `verification` block in the
  config, by it; with a `secret` (or `publicKey`) and no such block, every request is refused,
  with a reason that says so (whoever set a secret expects it checked); with neither, requests
  are accepted unverified, as Svix's generic source does. docs/ingest.md lists the types.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from hookwire.ingest.providers import generic, standard_webhooks
from hookwire.ingest.providers.base import InboundRequest, Verdict

SVIX_SIGNED = (
    "beehiiv",
    "brex",
    "clerk",
    "guesty",
    "incident-io",
    "lithic",
    "nash",
    "open-ai",
    "pleo",
    "psi-fi",
    "render",
    "replicate",
    "resend",
    "safebase",
    "sardine",
    "stych",
)

BODY_HMAC: Mapping[str, Mapping[str, str]] = {
    "segment": {"header": "x-signature", "algorithm": "sha1", "encoding": "hex"},
    "veriff": {"header": "x-hmac-signature", "algorithm": "sha256", "encoding": "hex"},
    "docusign": {"header": "x-docusign-signature-1", "algorithm": "sha256", "encoding": "base64"},
    "easypost": {
        "header": "x-hmac-signature",
        "algorithm": "sha256",
        "encoding": "hex",
        "prefix": "hmac-sha256-hex=",
    },
}

GENERIC_FALLBACK = (
    "adobe-sign",
    "airwallex",
    "checkbook",
    "cron",
    "nango",
    "openclaw",
    "orum-io",
    "panda-doc",
    "port-io",
    "rutter",
    "tailscale",
    "telnyx",
    "vapi",
    "vgs",
)


class BodyHmacVerifier:
    """A body-HMAC source type: the generic verifier with the type's fixed scheme."""

    def __init__(self, scheme: Mapping[str, str]) -> None:
        self._scheme = {"type": "hmac", **scheme}

    def __call__(self, request: InboundRequest, config: Mapping[str, Any], now: float) -> Verdict:
        return generic.verify(request, {**config, "verification": self._scheme}, now)


class GenericFallback:
    """A type without its own verifier: the generic-webhook rules, with a note in the reason."""

    def __init__(self, type_: str) -> None:
        self._note = (
            f" (hookwire has no dedicated {type_} verifier: add a generic `verification` block to the"
            " config, or leave the secret out to accept requests unverified)"
        )

    def __call__(self, request: InboundRequest, config: Mapping[str, Any], now: float) -> Verdict:
        if config.get("publicKey") and "secret" not in config:
            config = {**config, "secret": config["publicKey"]}
        verdict = generic.verify(request, config, now)
        return verdict if verdict.ok else replace(verdict, reason=verdict.reason + self._note)


def catalog() -> dict[str, Any]:
    """Source type -> verify function, for every type this module covers."""
    found: dict[str, Any] = {name: standard_webhooks.verify for name in SVIX_SIGNED}
    found.update({name: BodyHmacVerifier(scheme) for name, scheme in BODY_HMAC.items()})
    found.update({name: GenericFallback(name) for name in GENERIC_FALLBACK})
    return found
