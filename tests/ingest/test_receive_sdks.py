"""Sources created with the svix SDK receive provider-signed webhooks and forward them once.

Each provider's own SDK makes the signature; the forward to the ingest endpoint is
signed by hookwire and verifies with the ingest endpoint's secret.
"""

from __future__ import annotations

import time

import httpx
import standardwebhooks
import stripe
from slack_sdk.signature import SignatureVerifier
from svix.api import IngestEndpointIn, IngestSourceIn, Svix
from svix.webhooks import Webhook
from twilio.request_validator import RequestValidator

from tests.support.receiver import Receiver
from tests.support.server import HookwireProcess


def _source(svix: Svix, receiver: Receiver, type_: str, config: dict[str, str]) -> tuple[str, str, str]:
    source = svix.ingest.source.create(IngestSourceIn(name=f"{type_} in", type=type_, config=config))  # type: ignore[arg-type]
    endpoint = svix.ingest.endpoint.create(source.id, IngestEndpointIn(url=receiver.url + "/forward"))
    secret = svix.ingest.endpoint.get_secret(source.id, endpoint.id).key
    assert source.ingest_url is not None
    return source.ingest_url, secret, source.id


def test_stripe_signed_event_is_accepted_and_forwarded_once(svix: Svix, receiver: Receiver) -> None:
    url, forward_secret, _ = _source(svix, receiver, "stripe", {"secret": "whsec_stripe_test"})
    body = '{"id":"evt_1","object":"event","type":"invoice.paid"}'
    header = stripe.WebhookSignature.generate_signature_header(body, "whsec_stripe_test")

    answer = httpx.post(
        url, content=body, headers={"Stripe-Signature": header, "content-type": "application/json"}
    )
    again = httpx.post(
        url, content=body, headers={"Stripe-Signature": header, "content-type": "application/json"}
    )

    assert answer.status_code == 200 and again.status_code == 200
    [forward] = receiver.wait_for(1)
    assert forward.body == body.encode()
    standardwebhooks.Webhook(forward_secret).verify(forward.body, forward.headers)
    time.sleep(0.5)  # a duplicate would have been forwarded by now
    assert len(receiver.requests) == 1


def test_forged_tampered_and_stale_stripe_requests_get_401(svix: Svix, receiver: Receiver) -> None:
    url, _, _ = _source(svix, receiver, "stripe", {"secret": "whsec_stripe_test"})
    body = '{"id":"evt_2","type":"x"}'
    forged = stripe.WebhookSignature.generate_signature_header(body, "whsec_other")
    tampered = stripe.WebhookSignature.generate_signature_header(body, "whsec_stripe_test")
    stale = stripe.WebhookSignature.generate_signature_header(
        body, "whsec_stripe_test", timestamp=int(time.time()) - 3600
    )
    for header, content in (
        (forged, body),
        (tampered, body.replace("x", "y")),
        (stale, body),
        ("garbage", body),
    ):
        answer = httpx.post(url, content=content, headers={"Stripe-Signature": header})
        assert answer.status_code == 401, header
        assert answer.json()["code"] == "authentication_failed"
    assert receiver.requests == []


def test_slack_signed_event_is_forwarded(svix: Svix, receiver: Receiver) -> None:
    url, _, _ = _source(svix, receiver, "slack", {"secret": "slack_signing_secret"})
    body = '{"type":"event_callback","event_id":"Ev1","event":{"type":"message"}}'
    ts = str(int(time.time()))
    signature = SignatureVerifier("slack_signing_secret").generate_signature(timestamp=ts, body=body)
    answer = httpx.post(
        url, content=body, headers={"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature}
    )
    assert answer.status_code == 200
    assert receiver.wait_for(1)[0].body == body.encode()


def test_twilio_form_request_is_forwarded(svix: Svix, receiver: Receiver, server: HookwireProcess) -> None:
    token = "twilio_auth_token"
    source = httpx.post(
        f"{server.url}/ingest/api/v1/source",
        headers={"Authorization": f"Bearer {server.token}"},
        json={"name": "sms", "type": "twilio", "config": {"secret": token}},
    ).json()
    svix.ingest.endpoint.create(source["id"], IngestEndpointIn(url=receiver.url + "/forward"))
    params = {"MessageSid": "SM1", "Body": "hello", "From": "+15551234567"}
    signature = RequestValidator(token).compute_signature(source["ingestUrl"], params)
    answer = httpx.post(source["ingestUrl"], data=params, headers={"X-Twilio-Signature": signature})
    assert answer.status_code == 200
    assert b"MessageSid=SM1" in receiver.wait_for(1)[0].body


def test_svix_signed_event_is_forwarded(svix: Svix, receiver: Receiver) -> None:
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    url, _, _ = _source(svix, receiver, "svix", {"secret": secret})
    body = '{"type":"user.created","data":{}}'
    from datetime import UTC, datetime

    now = datetime.now(UTC)
    signature = Webhook(secret).sign("msg_abc", now, body)
    headers = {"svix-id": "msg_abc", "svix-timestamp": str(int(now.timestamp())), "svix-signature": signature}
    assert httpx.post(url, content=body, headers=headers).status_code == 200
    assert receiver.wait_for(1)[0].body == body.encode()
