"""Signatures made by the providers' own Python SDKs must verify; timestamps outside the window must not.

The SDKs are the senders' reference implementations, so agreeing with them (rather than
with our own signer) is what proves interoperability.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
import standardwebhooks.webhooks
import stripe
import svix.webhooks
from slack_sdk.signature import SignatureVerifier
from twilio.request_validator import RequestValidator

from hookwire.ingest.providers import InboundRequest, Verdict, get_provider

NOW = 1_700_000_000
BODY = '{"id":"evt_1","type":"invoice.paid","data":{"amount":1200,"note":"caf\u00e9 \u2615"}}'


def req(headers: dict[str, str], body: bytes, url: str = "https://hooks.example.com/in") -> InboundRequest:
    return InboundRequest(method="POST", url=url, headers=headers, body=body)


def at(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


# --- Stripe ---------------------------------------------------------------------------------


def stripe_request(timestamp: int, secret: str = "whsec_stripe_sdk") -> InboundRequest:
    header = stripe.WebhookSignature.generate_signature_header(BODY, secret, timestamp=timestamp)
    return req({"Stripe-Signature": header}, BODY.encode())


def test_stripe_sdk_signature_verifies_with_event_id_and_type() -> None:
    verdict = get_provider("stripe").verify(stripe_request(NOW), {"secret": "whsec_stripe_sdk"}, NOW)
    assert verdict == Verdict(ok=True, event_id="evt_1", event_type="invoice.paid")


@pytest.mark.parametrize(
    ("signed_at", "ok"),
    [(NOW - 300, True), (NOW - 301, False), (NOW + 3600, True)],
    ids=["edge-of-window", "stale", "future-is-accepted-like-stripe"],
)
def test_stripe_tolerance_is_300_seconds_in_the_past_only(signed_at: int, ok: bool) -> None:
    verdict = get_provider("stripe").verify(stripe_request(signed_at), {"secret": "whsec_stripe_sdk"}, NOW)
    assert verdict.ok is ok


def test_stripe_rotation_header_from_two_sdk_signatures_verifies_with_either_secret() -> None:
    old = stripe.WebhookSignature.generate_signature_header(BODY, "whsec_old", timestamp=NOW)
    new = stripe.WebhookSignature.generate_signature_header(BODY, "whsec_new", timestamp=NOW)
    header = old + "," + new.split(",", 1)[1]
    for secret in ("whsec_old", "whsec_new"):
        assert (
            get_provider("stripe")
            .verify(req({"Stripe-Signature": header}, BODY.encode()), {"secret": secret}, NOW)
            .ok
        )
    assert (
        not get_provider("stripe")
        .verify(req({"Stripe-Signature": header}, BODY.encode()), {"secret": "whsec_other"}, NOW)
        .ok
    )


# --- Slack ----------------------------------------------------------------------------------


def slack_request(timestamp: int, body: str = BODY) -> InboundRequest:
    signature = SignatureVerifier("slack_sdk_secret").generate_signature(timestamp=str(timestamp), body=body)
    assert signature is not None
    headers = {"X-Slack-Signature": signature, "X-Slack-Request-Timestamp": str(timestamp)}
    return req(headers, body.encode())


@pytest.mark.parametrize(
    ("signed_at", "ok"),
    [(NOW, True), (NOW - 300, True), (NOW + 300, True), (NOW - 301, False), (NOW + 301, False)],
    ids=["now", "old-edge", "future-edge", "stale", "future"],
)
def test_slack_sdk_signature_and_300_second_window(signed_at: int, ok: bool) -> None:
    verdict = get_provider("slack").verify(slack_request(signed_at), {"secret": "slack_sdk_secret"}, NOW)
    assert verdict.ok is ok


def test_slack_event_callback_reports_event_id_and_inner_type() -> None:
    body = '{"type":"event_callback","event_id":"Ev08MFMKH6","event":{"type":"app_mention","text":"hi"}}'
    verdict = get_provider("slack").verify(slack_request(NOW, body), {"secret": "slack_sdk_secret"}, NOW)
    assert verdict == Verdict(ok=True, event_id="Ev08MFMKH6", event_type="app_mention")


# --- Twilio ---------------------------------------------------------------------------------


class MultiValueForm(dict[str, list[str]]):
    """A form with repeated fields, read the way Flask/Django expose them (`getlist`)."""

    def getlist(self, name: str) -> list[str]:
        return self[name]


TWILIO_TOKEN = "twilio_auth_token"
TWILIO_FORM = MultiValueForm(
    {
        "MessageSid": ["SM1"],
        "Body": ["caf\u00e9 & co"],
        "MediaUrl": ["https://b.example/2", "https://a.example/1"],
    }
)
TWILIO_FORM_BODY = (
    b"MessageSid=SM1&Body=caf%C3%A9+%26+co"
    b"&MediaUrl=https%3A%2F%2Fb.example%2F2&MediaUrl=https%3A%2F%2Fa.example%2F1"
)


@pytest.mark.parametrize(
    "signed_url", ["https://hooks.example.com/sms?x=1", "https://hooks.example.com:443/sms?x=1"]
)
@pytest.mark.parametrize(
    "called_url", ["https://hooks.example.com/sms?x=1", "https://hooks.example.com:443/sms?x=1"]
)
@pytest.mark.parametrize("algorithm", [None, "HMAC_SHA256"])
def test_twilio_sdk_form_signature_with_multi_valued_params_port_and_algorithm(
    signed_url: str, called_url: str, algorithm: str | None
) -> None:
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(signed_url, TWILIO_FORM, algorithm)
    headers = {"X-Twilio-Signature": signature, "I-Twilio-Idempotency-Token": "idem-1"}
    if algorithm:
        headers["X-Twilio-Webhooks-Signature-Settings"] = f"key=webhooks_sharedkey_1,algorithm={algorithm}"
    verdict = get_provider("twilio").verify(
        req(headers, TWILIO_FORM_BODY, called_url), {"secret": TWILIO_TOKEN}, NOW
    )
    assert verdict == Verdict(ok=True, event_id="idem-1")


def test_twilio_repeated_identical_values_count_once_like_the_sdk() -> None:
    form = MultiValueForm({"MediaUrl": ["https://a.example/1", "https://a.example/1"], "To": ["+1"]})
    signature = RequestValidator(TWILIO_TOKEN).compute_signature("https://h.example/s", form)
    body = b"MediaUrl=https%3A%2F%2Fa.example%2F1&MediaUrl=https%3A%2F%2Fa.example%2F1&To=%2B1"
    request = req({"X-Twilio-Signature": signature}, body, "https://h.example/s")
    assert get_provider("twilio").verify(request, {"secret": TWILIO_TOKEN}, NOW).ok


def test_twilio_wrong_algorithm_header_fails() -> None:
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(
        "https://h.example/s", TWILIO_FORM, "HMAC_SHA256"
    )
    request = req({"X-Twilio-Signature": signature}, TWILIO_FORM_BODY, "https://h.example/s")
    assert not get_provider("twilio").verify(request, {"secret": TWILIO_TOKEN}, NOW).ok


def test_twilio_dropping_one_of_the_repeated_values_fails() -> None:
    signature = RequestValidator(TWILIO_TOKEN).compute_signature("https://h.example/s", TWILIO_FORM)
    body = TWILIO_FORM_BODY.rsplit(b"&", 1)[0]
    request = req({"X-Twilio-Signature": signature}, body, "https://h.example/s")
    assert not get_provider("twilio").verify(request, {"secret": TWILIO_TOKEN}, NOW).ok


@pytest.mark.parametrize("algorithm", [None, "HMAC_SHA256"])
def test_twilio_sdk_json_body_signature(algorithm: str | None) -> None:
    validator = RequestValidator(TWILIO_TOKEN)
    url = f"https://hooks.example.com/json?bodySHA256={validator.compute_hash(BODY)}"
    headers = {"X-Twilio-Signature": validator.compute_signature(url, {}, algorithm)}
    if algorithm:
        headers["X-Twilio-Webhooks-Signature-Settings"] = f"key=k,algorithm={algorithm}"
    assert get_provider("twilio").verify(req(headers, BODY.encode(), url), {"secret": TWILIO_TOKEN}, NOW).ok
    tampered = req(headers, BODY.encode() + b" ", url)
    assert get_provider("twilio").verify(tampered, {"secret": TWILIO_TOKEN}, NOW) == Verdict(
        ok=False, reason="bodySHA256 does not match the body"
    )


# --- Svix and Standard Webhooks -------------------------------------------------------------

SignFunction = Callable[[str, str, datetime, str], str]


def svix_sign(secret: str, msg_id: str, timestamp: datetime, data: str) -> str:
    return svix.webhooks.Webhook(secret).sign(msg_id, timestamp, data)


def standard_sign(secret: str, msg_id: str, timestamp: datetime, data: str) -> str:
    return standardwebhooks.webhooks.Webhook(secret).sign(msg_id, timestamp, data)


SIGNERS = [("svix", "svix", svix_sign), ("standard-webhooks", "webhook", standard_sign)]


def signed_sw_request(sign: SignFunction, prefix: str, secret: str, timestamp: int) -> InboundRequest:
    headers = {
        f"{prefix}-id": "msg_sdk",
        f"{prefix}-timestamp": str(timestamp),
        f"{prefix}-signature": sign(secret, "msg_sdk", at(timestamp), BODY),
    }
    return req(headers, BODY.encode())


@pytest.mark.parametrize(("type_", "prefix", "sign"), SIGNERS, ids=["svix", "standard-webhooks"])
@pytest.mark.parametrize(
    "secret",
    [
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS",
        "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwBr",
    ],
    ids=["prefixed", "bare", "unpadded", "unpadded-two"],
)
def test_sdk_signature_verifies_for_every_secret_form(
    type_: str, prefix: str, sign: SignFunction, secret: str
) -> None:
    verdict = get_provider(type_).verify(
        signed_sw_request(sign, prefix, secret, NOW), {"secret": secret}, NOW
    )
    assert verdict == Verdict(ok=True, event_id="msg_sdk", event_type="invoice.paid")


@pytest.mark.parametrize(("type_", "prefix", "sign"), SIGNERS, ids=["svix", "standard-webhooks"])
@pytest.mark.parametrize(
    ("signed_at", "reason"),
    [
        (NOW - 300, ""),
        (NOW + 300, ""),
        (NOW - 301, "timestamp is more than 300 s old"),
        (NOW + 301, "timestamp is more than 300 s in the future"),
    ],
    ids=["old-edge", "future-edge", "stale", "future"],
)
def test_standard_webhooks_window_is_300_seconds_both_ways(
    type_: str, prefix: str, sign: SignFunction, signed_at: int, reason: str
) -> None:
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    verdict = get_provider(type_).verify(
        signed_sw_request(sign, prefix, secret, signed_at), {"secret": secret}, NOW
    )
    assert (verdict.ok, verdict.reason) == (not reason, reason)


def test_svix_headers_win_over_webhook_headers_like_the_svix_library() -> None:
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    good = signed_sw_request(svix_sign, "svix", secret, NOW)
    mixed = InboundRequest("POST", good.url, {**good.headers, "webhook-signature": "v1,AAAA"}, good.body)
    assert get_provider("svix").verify(mixed, {"secret": secret}, NOW).ok


def test_svix_rotation_with_two_sdk_signatures() -> None:
    old, new = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"
    signatures = f"{svix_sign(new, 'msg_sdk', at(NOW), BODY)} {svix_sign(old, 'msg_sdk', at(NOW), BODY)}"
    headers = {"svix-id": "msg_sdk", "svix-timestamp": str(NOW), "svix-signature": signatures}
    for secret in (old, new):
        assert get_provider("svix").verify(req(headers, BODY.encode()), {"secret": secret}, NOW).ok


# --- Hand-signed schemes without an SDK: the timestamp windows ------------------------------


def hex_hmac(secret: str, message: str) -> str:
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def zoom_request(ts: int) -> InboundRequest:
    body = '{"event":"meeting.started","payload":{}}'
    signature = "v0=" + hex_hmac("z", f"v0:{ts}:{body}")
    return req({"x-zm-signature": signature, "x-zm-request-timestamp": str(ts)}, body.encode())


def paddle_request(ts: int) -> InboundRequest:
    body = '{"event_id":"evt_1","event_type":"a.b"}'
    return req({"Paddle-Signature": f"ts={ts};h1={hex_hmac('z', f'{ts}:{body}')}"}, body.encode())


def twitch_request(ts: int) -> InboundRequest:
    stamp = datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.000000001Z")
    body = '{"subscription":{"type":"channel.follow"}}'
    headers = {
        "Twitch-Eventsub-Message-Id": "m1",
        "Twitch-Eventsub-Message-Timestamp": stamp,
        "Twitch-Eventsub-Message-Signature": "sha256=" + hex_hmac("z", f"m1{stamp}{body}"),
    }
    return req(headers, body.encode())


def linear_request(ts: int) -> InboundRequest:
    body = f'{{"action":"create","type":"Issue","webhookTimestamp":{ts * 1000}}}'
    return req({"Linear-Signature": hex_hmac("z", body)}, body.encode())


def hubspot_v3_request(ts: int) -> InboundRequest:
    body, stamp = '[{"eventId":7}]', str(ts * 1000)
    url = "https://hooks.example.com/hubspot?next=https%3A%2F%2Fa.example%2Fx%20y"
    signed = "POST" + "https://hooks.example.com/hubspot?next=https://a.example/x%20y" + body + stamp
    signature = hmac.new(b"z", signed.encode(), hashlib.sha256).digest()
    headers = {
        "X-HubSpot-Signature-v3": base64.b64encode(signature).decode(),
        "X-HubSpot-Request-Timestamp": stamp,
    }
    return req(headers, body.encode(), url)


WINDOWS = [
    ("zoom", zoom_request, 300),
    ("paddle", paddle_request, 300),
    ("twitch", twitch_request, 600),
    ("linear", linear_request, 60),
    ("hubspot", hubspot_v3_request, 300),
]


@pytest.mark.parametrize(("type_", "build", "tolerance"), WINDOWS, ids=[w[0] for w in WINDOWS])
@pytest.mark.parametrize(
    ("edge", "beyond", "ok"),
    [(0, 0, True), (-1, 0, True), (1, 0, True), (-1, -1, False), (1, 1, False)],
    ids=["now", "old-edge", "future-edge", "stale", "future"],
)
def test_timestamp_window_holds_both_ways(
    type_: str, build: Callable[[int], InboundRequest], tolerance: int, edge: int, beyond: int, ok: bool
) -> None:
    signed_at = NOW + edge * tolerance + beyond
    verdict = get_provider(type_).verify(build(signed_at), {"secret": "z"}, NOW)
    assert verdict.ok is ok, verdict.reason
