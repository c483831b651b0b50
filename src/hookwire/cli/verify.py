"""`hookwire verify`: is this signature valid, and if not, exactly why.

It runs the same provider verifiers the ingest path runs (Standard Webhooks / Svix by default,
or Stripe, GitHub, Shopify, ... by --provider or by the headers given), so what it says is what
the server would decide. Every reason falls in one of three kinds a person can act on:
wrong secret, stale timestamp, or a malformed header.
"""

from __future__ import annotations

import sys
import time

import click
import orjson

from hookwire.cli.exit_codes import CONFIG_ERROR, FAILED, OK
from hookwire.cli.forwarding import parse_header
from hookwire.ingest.providers.base import InboundRequest
from hookwire.ingest.providers.registry import PROVIDERS

# The header that names the scheme, when --provider is not given.
_DETECT = (
    ("stripe-signature", "stripe"),
    ("x-hub-signature-256", "github"),
    ("x-shopify-hmac-sha256", "shopify"),
)


def kind_of(reason: str) -> str:
    """wrong_secret, stale_timestamp or malformed_header, from a verifier's reason."""
    lowered = reason.lower()
    if "timestamp is more than" in lowered:
        return "stale_timestamp"
    if "no matching" in lowered or "does not match" in lowered:
        return "wrong_secret"
    return "malformed_header"


_EXPLAIN = {
    "wrong_secret": "wrong secret: the signature was made with another secret, or the body changed",
    "stale_timestamp": "stale timestamp",
    "malformed_header": "malformed header",
}


def detect_provider(headers: dict[str, str]) -> str:
    for header, provider in _DETECT:
        if header in headers:
            return provider
    return "standard-webhooks"


@click.command()
@click.option("--secret", required=True, help="the signing secret (whsec_..., or the provider's)")
@click.option(
    "--header", "-H", "headers", multiple=True, metavar="'Name: value'", help="a request header (repeatable)"
)
@click.option(
    "--provider",
    type=click.Choice(sorted(PROVIDERS)),
    help="signature scheme (default: from the headers; Standard Webhooks otherwise)",
)
@click.option("--json", "as_json", is_flag=True, help="print the verdict as JSON")
def verify(secret: str, headers: tuple[str, ...], provider: str | None, as_json: bool) -> None:
    """Check a webhook signature; the body is read from stdin.

    Exit 0 when valid, 1 when not (saying why: wrong secret, stale timestamp or malformed header).
    """
    try:
        parsed = dict((name.lower(), value) for name, value in map(parse_header, headers))
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    body = sys.stdin.buffer.read()
    scheme = provider or detect_provider(parsed)
    request = InboundRequest("POST", "http://localhost/", parsed, body)
    verdict = PROVIDERS[scheme].verify(request, {"secret": secret}, time.time())
    if verdict.ok:
        if as_json:
            click.echo(orjson.dumps({"valid": True, "provider": scheme, "eventType": verdict.event_type}))
        else:
            click.echo(f"valid ({scheme} signature)")
        sys.exit(OK)
    if verdict.challenge is not None:  # a handshake, not a signed event
        click.echo(f"not a signed event: {scheme} handshake request", err=True)
        sys.exit(CONFIG_ERROR)
    kind = kind_of(verdict.reason)
    if as_json:
        click.echo(orjson.dumps({"valid": False, "provider": scheme, "kind": kind, "reason": verdict.reason}))
    else:
        click.echo(f"invalid ({scheme}): {_EXPLAIN[kind]}: {verdict.reason}", err=True)
    sys.exit(FAILED)
