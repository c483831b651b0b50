"""Which verifier serves which source type, fixed at import and read-only afterwards.

Source types are the strings stored on an ingest source (`"stripe"`, `"svix"`, ...), as in
Svix's ingest API. `svix` and `standard-webhooks` share one scheme and one module; the rest of
Svix's 43 types come from `svix_catalog` (Svix-signed, body HMAC, or the generic-webhook rules).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from hookwire.ingest.providers import (
    generic,
    github,
    hubspot,
    linear,
    meta,
    msgraph,
    paddle,
    pagerduty,
    salesforce,
    shopify,
    slack,
    standard_webhooks,
    stripe,
    svix_catalog,
    twilio,
    twitch,
    zoom,
)
from hookwire.ingest.providers.base import InboundRequest, Provider, Verdict

VerifyFunction = Callable[[InboundRequest, Mapping[str, Any], float], Verdict]


@dataclass(frozen=True)
class FunctionProvider:
    """A `Provider` made of a source type name and a module's pure `verify` function."""

    name: str
    verify_function: VerifyFunction

    def verify(self, request: InboundRequest, config: Mapping[str, Any], now: float) -> Verdict:
        return self.verify_function(request, config, now)


PROVIDERS: Mapping[str, Provider] = MappingProxyType(
    {
        name: FunctionProvider(name, function)
        for name, function in (
            ("generic-webhook", generic.verify),
            ("stripe", stripe.verify),
            ("github", github.verify),
            ("shopify", shopify.verify),
            ("slack", slack.verify),
            ("svix", standard_webhooks.verify),
            ("standard-webhooks", standard_webhooks.verify),
            ("zoom", zoom.verify),
            ("meta", meta.verify),
            ("hubspot", hubspot.verify),
            ("twilio", twilio.verify),
            ("paddle", paddle.verify),
            ("twitch", twitch.verify),
            ("linear", linear.verify),
            ("pagerduty", pagerduty.verify),
            ("salesforce", salesforce.verify),
            ("msgraph", msgraph.verify),
            *svix_catalog.catalog().items(),
        )
    }
)


def get_provider(type_: str) -> Provider:
    """The provider for a source type; `KeyError` naming the known types otherwise."""
    try:
        return PROVIDERS[type_]
    except KeyError:
        known = ", ".join(sorted(PROVIDERS))
        raise KeyError(f"unknown ingest source type {type_!r}; known types: {known}") from None
