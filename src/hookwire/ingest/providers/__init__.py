"""Per-provider signature verification, one small module per provider.

Every module exposes `verify(request, config, now) -> Verdict`: pure, no I/O and no clock,
and it never raises on what a sender controls — a malformed header or body is a failed
`Verdict`, so the HTTP layer answers 401 and never 500. `registry.PROVIDERS` maps a source
type string (`"stripe"`, `"svix"`, ...) to its provider.
"""

from hookwire.ingest.providers.base import Challenge, InboundRequest, Provider, Verdict
from hookwire.ingest.providers.registry import PROVIDERS, get_provider

__all__ = ["PROVIDERS", "Challenge", "InboundRequest", "Provider", "Verdict", "get_provider"]
