"""Whatever a sender puts in headers, URL or body, verification returns a failed Verdict, never raises."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import pytest

from hookwire.ingest.providers import PROVIDERS, InboundRequest, Verdict, get_provider

NOW = 1_700_000_000
HEX = "a" * 64


def req(
    headers: dict[str, str], body: bytes = b"{}", url: str = "https://hooks.example.com/in"
) -> InboundRequest:
    return InboundRequest(method="POST", url=url, headers=headers, body=body)


KEY = {"secret": "whsec_AAAA"}
SW = {"webhook-id": "msg_1", "webhook-timestamp": str(NOW), "webhook-signature": "v1,AAAA"}

MALFORMED: list[tuple[str, str, dict[str, Any], InboundRequest]] = [
    ("sw-no-headers", "standard-webhooks", KEY, req({})),
    ("sw-timestamp-hello", "standard-webhooks", KEY, req({**SW, "webhook-timestamp": "hello"})),
    ("sw-timestamp-float", "standard-webhooks", KEY, req({**SW, "webhook-timestamp": "1.5e9"})),
    ("sw-timestamp-signed", "standard-webhooks", KEY, req({**SW, "webhook-timestamp": "+1700000000"})),
    ("sw-timestamp-arabic-digits", "svix", KEY, req({**SW, "webhook-timestamp": "\u0661\u0667"})),
    ("sw-timestamp-huge", "svix", KEY, req({**SW, "webhook-timestamp": "9" * 400})),
    ("sw-signature-no-comma", "standard-webhooks", KEY, req({**SW, "webhook-signature": "v1AAAA"})),
    ("sw-signature-bad-base64", "svix", KEY, req({**SW, "webhook-signature": "v1,***"})),
    ("sw-signature-many-commas", "svix", KEY, req({**SW, "webhook-signature": "v1,a,b,c"})),
    ("sw-v1a-bad-base64", "svix", {"secret": "whpk_" + "A" * 43}, req({**SW, "webhook-signature": "v1a,!!"})),
    ("sw-secret-not-base64", "svix", {"secret": "whsec_***"}, req(SW)),
    ("sw-secret-empty-after-prefix", "svix", {"secret": "whsec_"}, req(SW)),
    ("sw-secret-unknown-prefix", "svix", {"secret": "sk_live_AAAA"}, req(SW)),
    ("sw-public-key-wrong-length", "svix", {"secret": "whpk_AAAA"}, req(SW)),
    ("sw-secret-not-a-string", "svix", {"secret": 12345}, req(SW)),
    ("sw-no-secret", "svix", {}, req(SW)),
    ("stripe-missing-comma", "stripe", {"secret": "s"}, req({"Stripe-Signature": f"t={NOW}v1={HEX}"})),
    ("stripe-no-v1", "stripe", {"secret": "s"}, req({"Stripe-Signature": f"t={NOW},v0={HEX}"})),
    ("stripe-no-t", "stripe", {"secret": "s"}, req({"Stripe-Signature": f"v1={HEX}"})),
    ("stripe-garbage", "stripe", {"secret": "s"}, req({"Stripe-Signature": ",,,==,t,v1"})),
    ("stripe-empty-header", "stripe", {"secret": "s"}, req({"Stripe-Signature": "   "})),
    ("stripe-non-ascii-signature", "stripe", {"secret": "s"}, req({"Stripe-Signature": f"t={NOW},v1=\xe9"})),
    ("github-no-prefix", "github", {"secret": "s"}, req({"X-Hub-Signature-256": HEX})),
    ("github-sha1-only", "github", {"secret": "s"}, req({"X-Hub-Signature": "sha1=" + "a" * 40})),
    ("shopify-missing", "shopify", {"secret": "s"}, req({})),
    ("slack-timestamp-not-int", "slack", {"secret": "s"},
     req({"X-Slack-Signature": "v0=" + HEX, "X-Slack-Request-Timestamp": "soon"})),
    ("slack-missing-signature", "slack", {"secret": "s"}, req({"X-Slack-Request-Timestamp": str(NOW)})),
    ("zoom-timestamp-not-int", "zoom", {"secret": "s"},
     req({"x-zm-signature": "v0=" + HEX, "x-zm-request-timestamp": "12:00"})),
    ("meta-post-no-signature", "meta", {"secret": "s"}, req({})),
    ("meta-get-bad-url", "meta", {"verifyToken": "t"}, InboundRequest("GET", "http://[::1/x?hub.mode=a", {})),
    ("hubspot-no-headers", "hubspot", {"secret": "s"}, req({})),
    ("hubspot-unknown-version", "hubspot", {"secret": "s"},
     req({"X-HubSpot-Signature": HEX, "X-HubSpot-Signature-Version": "v9"})),
    ("hubspot-v3-no-timestamp", "hubspot", {"secret": "s"}, req({"X-HubSpot-Signature-v3": "AAAA"})),
    ("hubspot-v3-timestamp-not-int", "hubspot", {"secret": "s"},
     req({"X-HubSpot-Signature-v3": "AAAA", "X-HubSpot-Request-Timestamp": "-1"})),
    ("twilio-missing", "twilio", {"secret": "s"}, req({})),
    ("twilio-bad-port", "twilio", {"secret": "s"}, req({"X-Twilio-Signature": "AAAA"}, url="https://h.example:99999/x")),
    ("twilio-bad-ipv6", "twilio", {"secret": "s"}, req({"X-Twilio-Signature": "AAAA"}, url="https://[::1/x")),
    ("twilio-body-not-utf8", "twilio", {"secret": "s"}, req({"X-Twilio-Signature": "AAAA"}, body=b"a=\xff")),
    ("twilio-unknown-algorithm", "twilio", {"secret": "s"},
     req({"X-Twilio-Signature": "AAAA", "X-Twilio-Webhooks-Signature-Settings": "key=k,algorithm=HMAC_MD5"})),
    ("twilio-body-hash-non-ascii", "twilio", {"secret": "s"},
     req({"X-Twilio-Signature": "AAAA"}, url="https://h.example/x?bodySHA256=%C3%A9")),
    ("paddle-missing-semicolon", "paddle", {"secret": "s"}, req({"Paddle-Signature": f"ts={NOW}h1={HEX}"})),
    ("paddle-no-h1", "paddle", {"secret": "s"}, req({"Paddle-Signature": f"ts={NOW}"})),
    ("twitch-timestamp-not-rfc3339", "twitch", {"secret": "s"},
     req({"Twitch-Eventsub-Message-Id": "m", "Twitch-Eventsub-Message-Timestamp": "yesterday",
          "Twitch-Eventsub-Message-Signature": "sha256=" + HEX})),
    ("twitch-timestamp-without-offset", "twitch", {"secret": "s"},
     req({"Twitch-Eventsub-Message-Id": "m", "Twitch-Eventsub-Message-Timestamp": "2023-11-14T22:13:20",
          "Twitch-Eventsub-Message-Signature": "sha256=" + HEX})),
    ("linear-missing", "linear", {"secret": "s"}, req({})),
    ("pagerduty-no-v1", "pagerduty", {"secret": "s"}, req({"X-PagerDuty-Signature": "v2=" + HEX})),
    ("pagerduty-garbage", "pagerduty", {"secret": "s"}, req({"X-PagerDuty-Signature": ",,=,"})),
    ("msgraph-bad-url", "msgraph", {}, req({}, url="https://[::1/x?validationToken=a")),
]  # fmt: skip


@pytest.mark.parametrize(
    ("type_", "config", "request_"), [m[1:] for m in MALFORMED], ids=[m[0] for m in MALFORMED]
)
def test_malformed_request_is_a_failed_verdict(
    type_: str, config: dict[str, Any], request_: InboundRequest
) -> None:
    verdict = get_provider(type_).verify(request_, config, NOW)
    assert verdict == Verdict(ok=False, reason=verdict.reason)
    assert verdict.reason


def signed_headers(type_: str, body: bytes) -> dict[str, str]:
    def mac(message: bytes) -> str:
        return hmac.new(b"s", message, hashlib.sha256).hexdigest()

    if type_ == "stripe":
        return {"Stripe-Signature": f"t={NOW},v1={mac(f'{NOW}.'.encode() + body)}"}
    if type_ == "paddle":
        return {"Paddle-Signature": f"ts={NOW};h1={mac(f'{NOW}:'.encode() + body)}"}
    return {"Linear-Signature": mac(body)}


@pytest.mark.parametrize(
    ("type_", "body", "reason"),
    [
        ("stripe", b"not json", "body is not a JSON object"),
        ("stripe", b"[1, 2]", "body is not a JSON object"),
        ("paddle", b"\xff", "body is not a JSON object"),
        ("linear", b'{"webhookTimestamp":"x"}', "body has no integer webhookTimestamp"),
        ("linear", b"not json", "body has no integer webhookTimestamp"),
    ],
)
def test_correctly_signed_body_without_the_expected_json_fails(type_: str, body: bytes, reason: str) -> None:
    verdict = get_provider(type_).verify(req(signed_headers(type_, body), body), {"secret": "s"}, NOW)
    assert verdict == Verdict(ok=False, reason=reason)


HOSTILE_HEADER_VALUES = [
    "",
    " ",
    ",",
    "=",
    ";",
    "v1,",
    "v1=",
    "sha256=",
    "\u00e9\u2615",
    "\udcff",
    "\x00",
    "9" * 5000,
]
HOSTILE_BODIES = [
    b"",
    b"\xff\xfe\x00",
    b"[" * 100_000,
    b'{"value": "' + b"a" * 10 + b'"}',
    b"null",
    b"1" * 5000,
]
HOSTILE_URLS = [
    "https://hooks.example.com/in",
    "http://[::1",
    "https://h:0x/",
    "",
    "https://h/?bodySHA256=&x=%ff",
]
EVERY_HEADER = [
    "webhook-id", "webhook-timestamp", "webhook-signature", "svix-id", "svix-timestamp", "svix-signature",
    "stripe-signature", "x-hub-signature-256", "x-shopify-hmac-sha256", "x-slack-signature",
    "x-slack-request-timestamp", "x-zm-signature", "x-zm-request-timestamp", "x-hubspot-signature",
    "x-hubspot-signature-v3", "x-hubspot-signature-version", "x-hubspot-request-timestamp",
    "x-twilio-signature", "x-twilio-webhooks-signature-settings", "paddle-signature",
    "twitch-eventsub-message-id",
    "twitch-eventsub-message-timestamp", "twitch-eventsub-message-signature", "twitch-eventsub-message-type",
    "linear-signature", "x-pagerduty-signature", "authorization", "x-signature",
]  # fmt: skip
EVERY_CONFIG = {
    "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    "verifyToken": "t",
    "organizationId": "00D",
    "verification": {"type": "hmac", "header": "x-signature", "encoding": "base64"},
}


@pytest.mark.parametrize("type_", sorted(PROVIDERS))
@pytest.mark.parametrize("method", ["POST", "GET"])
def test_hostile_input_never_raises_and_never_verifies(type_: str, method: str) -> None:
    provider = get_provider(type_)
    for value in HOSTILE_HEADER_VALUES:
        for body in HOSTILE_BODIES:
            for url in HOSTILE_URLS:
                request = InboundRequest(method, url, dict.fromkeys(EVERY_HEADER, value), body)
                verdict = provider.verify(request, EVERY_CONFIG, NOW)
                assert isinstance(verdict, Verdict)
                assert not verdict.ok


def test_challenges_carrying_lone_surrogates_do_not_raise() -> None:
    """JSON `\\udcff` escapes and surrogate-escaped URLs reach the challenge text unchanged."""
    graph = get_provider("msgraph").verify(
        req({}, url="https://h.example/g?validationToken=a\udcffb"), {}, NOW
    )
    assert graph.challenge is not None and graph.challenge.body == b"a\xed\xb3\xbfb"
    body = b'{"challenge":"\\udcff","subscription":{"type":"t"}}'
    stamp = "2023-11-14T22:13:20Z"
    headers = {
        "Twitch-Eventsub-Message-Id": "m",
        "Twitch-Eventsub-Message-Timestamp": stamp,
        "Twitch-Eventsub-Message-Signature": "sha256="
        + hmac.new(b"s", b"m" + stamp.encode() + body, hashlib.sha256).hexdigest(),
        "Twitch-Eventsub-Message-Type": "webhook_callback_verification",
    }
    twitch = get_provider("twitch").verify(req(headers, body), {"secret": "s"}, NOW)
    assert twitch.ok and twitch.challenge is not None
