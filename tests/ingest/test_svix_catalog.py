"""The rest of Svix's source types: Svix-signed ones verify like `svix`, body-HMAC ones by their
header, and the ones without a verifier follow the generic-webhook rules with a note."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime

import pytest
from standardwebhooks import Webhook

from hookwire.ingest.providers import InboundRequest, get_provider

NOW = 1_700_000_000.0
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
BODY = b'{"type":"user.created","id":"evt_1"}'


def _request(headers: dict[str, str], body: bytes = BODY) -> InboundRequest:
    return InboundRequest("POST", "https://hooks.example.com/in/t", headers, body)


@pytest.mark.parametrize("type_", ["clerk", "resend", "open-ai", "brex"])
def test_svix_signed_types_verify_svix_headers(type_: str) -> None:
    signed = Webhook(SECRET).sign("msg_1", datetime.fromtimestamp(NOW, tz=UTC), BODY.decode())
    headers = {"svix-id": "msg_1", "svix-timestamp": str(int(NOW)), "svix-signature": signed}
    verdict = get_provider(type_).verify(_request(headers), {"secret": SECRET}, NOW)
    assert verdict.ok and verdict.event_id == "msg_1"
    assert not get_provider(type_).verify(_request(headers, b"{}"), {"secret": SECRET}, NOW).ok


@pytest.mark.parametrize(
    ("type_", "header", "digest", "prefix"),
    [
        ("segment", "x-signature", lambda k, b: hmac.new(k, b, hashlib.sha1).hexdigest(), ""),
        ("veriff", "x-hmac-signature", lambda k, b: hmac.new(k, b, hashlib.sha256).hexdigest(), ""),
        (
            "docusign",
            "x-docusign-signature-1",
            lambda k, b: base64.b64encode(hmac.new(k, b, hashlib.sha256).digest()).decode(),
            "",
        ),
        (
            "easypost",
            "x-hmac-signature",
            lambda k, b: hmac.new(k, b, hashlib.sha256).hexdigest(),
            "hmac-sha256-hex=",
        ),
    ],
)
def test_body_hmac_types_check_their_header(type_: str, header: str, digest: object, prefix: str) -> None:
    key = "shared-secret"
    value = prefix + digest(key.encode(), BODY)  # type: ignore[operator]
    provider = get_provider(type_)
    assert provider.verify(_request({header: value}), {"secret": key}, NOW).ok
    assert not provider.verify(_request({header: value}), {"secret": "other"}, NOW).ok
    assert not provider.verify(_request({}), {"secret": key}, NOW).ok


def test_types_without_a_verifier_refuse_when_a_secret_is_set_and_say_why() -> None:
    vapi = get_provider("vapi")
    refused = vapi.verify(_request({"x-vapi-secret": "s"}), {"secret": "s"}, NOW)
    assert not refused.ok and "no dedicated vapi verifier" in refused.reason
    assert not get_provider("telnyx").verify(_request({}), {"publicKey": "pk"}, NOW).ok
    assert vapi.verify(_request({}), {}, NOW).ok  # no secret: a request bin, like generic-webhook
