"""Handshake responses byte for byte, and the providers without an HMAC (Salesforce, Graph, generic)."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest
from slack_sdk.signature import SignatureVerifier

from hookwire.ingest.providers import Challenge, InboundRequest, Verdict, get_provider
from hookwire.ingest.providers.hubspot import v3_uri
from hookwire.ingest.providers.salesforce import salesforce_ack

NOW = 1_700_000_000
TEXT = "text/plain; charset=utf-8"


def req(
    headers: dict[str, str], body: bytes = b"", url: str = "https://hooks.example.com/in"
) -> InboundRequest:
    return InboundRequest(method="POST", url=url, headers=headers, body=body)


def get(url: str) -> InboundRequest:
    return InboundRequest(method="GET", url=url, headers={})


# --- Slack url_verification -----------------------------------------------------------------

SLACK_CHALLENGE = "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"
SLACK_HANDSHAKE = (
    f'{{"token":"Jhj5dZrVaK7ZwHHjRyZWjbDl","challenge":"{SLACK_CHALLENGE}","type":"url_verification"}}'
)


def test_slack_url_verification_is_answered_with_exact_json_after_the_signature_verifies() -> None:
    signature = SignatureVerifier("s").generate_signature(timestamp=str(NOW), body=SLACK_HANDSHAKE)
    assert signature is not None
    request = req(
        {"X-Slack-Signature": signature, "X-Slack-Request-Timestamp": str(NOW)}, SLACK_HANDSHAKE.encode()
    )
    verdict = get_provider("slack").verify(request, {"secret": "s"}, NOW)
    assert verdict.challenge == Challenge(
        200, "application/json", b'{"challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}'
    )
    assert verdict.ok


def test_slack_unsigned_url_verification_gets_no_challenge() -> None:
    request = req(
        {"X-Slack-Signature": "v0=" + "0" * 64, "X-Slack-Request-Timestamp": str(NOW)},
        SLACK_HANDSHAKE.encode(),
    )
    assert get_provider("slack").verify(request, {"secret": "s"}, NOW) == Verdict(
        ok=False, reason="signature does not match"
    )


# --- Zoom endpoint.url_validation -----------------------------------------------------------

ZOOM_CRC = (
    b'{"event":"endpoint.url_validation","payload":{"plainToken":"qgg8vlvZRS6UYooatFL8Aw"},"event_ts":1}'
)


def zoom_signed(body: bytes, secret: str = "zoom_secret") -> InboundRequest:
    signature = "v0=" + hmac.new(secret.encode(), f"v0:{NOW}:".encode() + body, hashlib.sha256).hexdigest()
    return req({"x-zm-signature": signature, "x-zm-request-timestamp": str(NOW)}, body)


def test_zoom_url_validation_response_matches_the_golden_encrypted_token() -> None:
    verdict = get_provider("zoom").verify(zoom_signed(ZOOM_CRC), {"secret": "zoom_secret"}, NOW)
    assert verdict == Verdict(
        ok=True,
        event_type="endpoint.url_validation",
        challenge=Challenge(
            200,
            "application/json",
            b'{"plainToken":"qgg8vlvZRS6UYooatFL8Aw",'
            b'"encryptedToken":"46a324cfb7c2ec760e4cd561586a53aadb6fc7561eb8d626d6ee1b71d808b3c0"}',
        ),
    )


def test_zoom_unsigned_url_validation_is_not_answered() -> None:
    """Answering it would make us an HMAC oracle for the Zoom secret."""
    verdict = get_provider("zoom").verify(
        zoom_signed(ZOOM_CRC, "not_the_secret"), {"secret": "zoom_secret"}, NOW
    )
    assert verdict == Verdict(ok=False, reason="signature does not match")


# --- Twitch webhook_callback_verification ---------------------------------------------------

TWITCH_BODY = b'{"challenge":"pogchamp-kappa-360noscope-vohiyo","subscription":{"type":"channel.follow"}}'


def twitch_headers(secret: str) -> dict[str, str]:
    stamp = "2023-11-14T22:13:20.000000001Z"
    signed = b"m1" + stamp.encode() + TWITCH_BODY
    return {
        "Twitch-Eventsub-Message-Id": "m1",
        "Twitch-Eventsub-Message-Timestamp": stamp,
        "Twitch-Eventsub-Message-Signature": "sha256="
        + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest(),
        "Twitch-Eventsub-Message-Type": "webhook_callback_verification",
    }


def test_twitch_callback_verification_returns_the_raw_challenge_as_text() -> None:
    verdict = get_provider("twitch").verify(req(twitch_headers("t"), TWITCH_BODY), {"secret": "t"}, NOW)
    assert verdict == Verdict(
        ok=True,
        event_id="m1",
        event_type="channel.follow",
        challenge=Challenge(200, TEXT, b"pogchamp-kappa-360noscope-vohiyo"),
    )


def test_twitch_callback_verification_with_a_bad_signature_is_refused() -> None:
    verdict = get_provider("twitch").verify(req(twitch_headers("wrong"), TWITCH_BODY), {"secret": "t"}, NOW)
    assert not verdict.ok and verdict.challenge is None


# --- Meta subscription ----------------------------------------------------------------------

META_URL = (
    "https://hooks.example.com/meta?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=meatyhamhock"
)


def test_meta_subscription_echoes_the_challenge_when_the_verify_token_matches() -> None:
    verdict = get_provider("meta").verify(get(META_URL), {"verifyToken": "meatyhamhock", "secret": "x"}, NOW)
    assert verdict == Verdict(ok=True, event_type="subscribe", challenge=Challenge(200, TEXT, b"1158201444"))


@pytest.mark.parametrize(
    ("url", "config", "reason"),
    [
        (META_URL, {"verifyToken": "other"}, "hub.verify_token does not match"),
        (META_URL, {"secret": "x"}, "config has no verifyToken"),
        (
            META_URL.replace("subscribe", "unsubscribe"),
            {"verifyToken": "meatyhamhock"},
            "hub.mode is not subscribe",
        ),
        (
            META_URL.replace("hub.challenge=1158201444&", ""),
            {"verifyToken": "meatyhamhock"},
            "missing hub.challenge",
        ),
        ("https://hooks.example.com/meta", {"verifyToken": "meatyhamhock"}, "hub.mode is not subscribe"),
    ],
    ids=["wrong-token", "no-token-configured", "wrong-mode", "no-challenge", "no-query"],
)
def test_meta_subscription_refusals(url: str, config: dict[str, str], reason: str) -> None:
    assert get_provider("meta").verify(get(url), config, NOW) == Verdict(ok=False, reason=reason)


# --- Microsoft Graph ------------------------------------------------------------------------

GRAPH_TOKEN = "Validation: Testing client application reachability for subscription Request-Id: 25b4d8b8"


@pytest.mark.parametrize("method", ["POST", "GET"])
def test_graph_validation_token_is_returned_url_decoded_as_text(method: str) -> None:
    url = "https://hooks.example.com/graph?validationToken=" + GRAPH_TOKEN.replace(":", "%3A").replace(
        " ", "%20"
    )
    verdict = get_provider("msgraph").verify(InboundRequest(method, url, {}), {"secret": "cs"}, NOW)
    assert verdict.challenge == Challenge(200, TEXT, GRAPH_TOKEN.encode())


GRAPH_BODY = (
    b'{"value":[{"id":"n1","subscriptionId":"s1","changeType":"created","clientState":"cs","resource":"Users/1"},'
    b'{"id":"n2","subscriptionId":"s1","changeType":"updated","clientState":"cs","resource":"Users/2"}]}'
)


@pytest.mark.parametrize(
    ("config", "body", "expected"),
    [
        ({"secret": "cs"}, GRAPH_BODY, Verdict(ok=True, event_id="n1,n2", event_type="created,updated")),
        ({}, GRAPH_BODY, Verdict(ok=True, event_id="n1,n2", event_type="created,updated")),
        ({"secret": "other"}, GRAPH_BODY, Verdict(ok=False, reason="clientState does not match")),
        (
            {"secret": "cs"},
            GRAPH_BODY.replace(b',"clientState":"cs","resource":"Users/2"', b""),
            Verdict(ok=False, reason="clientState does not match"),
        ),
        (
            {"secret": "cs"},
            b"not json",
            Verdict(ok=False, reason='body is not a {"value": [...]} change notification'),
        ),
        (
            {"secret": "cs"},
            b'{"value":[]}',
            Verdict(ok=False, reason='body is not a {"value": [...]} change notification'),
        ),
    ],
    ids=[
        "matching-client-state",
        "no-secret-configured",
        "wrong-client-state",
        "one-item-without",
        "not-json",
        "empty",
    ],
)
def test_graph_notifications_check_every_client_state(
    config: dict[str, str], body: bytes, expected: Verdict
) -> None:
    assert get_provider("msgraph").verify(req({}, body), config, NOW) == expected


# --- Salesforce -----------------------------------------------------------------------------

SF_MESSAGE = b"""<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"
  xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
 <soapenv:Body>
  <notifications xmlns="http://soap.sforce.com/2005/09/outbound">
   <OrganizationId>00D000000000062EAA</OrganizationId>
   <ActionId>04k000000000001AAA</ActionId>
   <SessionId xsi:nil="true"/>
   <Notification>
    <Id>04l000000000001AAA</Id>
    <sObject xsi:type="sf:Contact" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">
     <sf:Id>003000000000001AAA</sf:Id>
     <sf:Email>jon@example.com</sf:Email>
    </sObject>
   </Notification>
   <Notification>
    <Id>04l000000000002AAA</Id>
    <sObject xsi:type="sf:Contact" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">
     <sf:Id>003000000000002AAA</sf:Id>
    </sObject>
   </Notification>
  </notifications>
 </soapenv:Body>
</soapenv:Envelope>"""
SF_CONFIG = {"organizationId": "00D000000000062EAA"}
BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<notifications><OrganizationId>&lol2;</OrganizationId></notifications>"""
XXE = b"""<?xml version="1.0"?>
<!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<notifications><OrganizationId>&xxe;</OrganizationId></notifications>"""


def test_salesforce_message_from_the_configured_org_verifies_with_notification_ids() -> None:
    verdict = get_provider("salesforce").verify(req({"Content-Type": "text/xml"}, SF_MESSAGE), SF_CONFIG, NOW)
    assert verdict == Verdict(ok=True, event_id="04l000000000001AAA,04l000000000002AAA", event_type="Contact")


BAD_SF = "body is not a well-formed SOAP message without a DTD"
NO_ID = "every Notification must carry one Id"


@pytest.mark.parametrize(
    ("body", "config", "reason"),
    [
        (SF_MESSAGE, {"organizationId": "00D000000000099EAA"}, "OrganizationId does not match"),
        (SF_MESSAGE, {}, "config has no organizationId"),
        (BILLION_LAUGHS, SF_CONFIG, BAD_SF),
        (XXE, SF_CONFIG, BAD_SF),
        (b"<!DOCTYPE notifications>" + SF_MESSAGE.split(b"?>", 1)[1], SF_CONFIG, BAD_SF),
        (b"<notifications><OrganizationId>", SF_CONFIG, BAD_SF),
        (b"", SF_CONFIG, BAD_SF),
        (b"\xff\xfe<a/>", SF_CONFIG, BAD_SF),
        (b"<a>&undefined;</a>", SF_CONFIG, BAD_SF),
        (b"<a/>", SF_CONFIG, "message must carry exactly one OrganizationId"),
        (SF_MESSAGE.replace(b"<Id>04l000000000002AAA</Id>", b""), SF_CONFIG, NO_ID),
        (SF_MESSAGE.replace(b"<Id>04l000000000002AAA</Id>", b"<Id> </Id>"), SF_CONFIG, NO_ID),
        (b"<x>" * 50_000, SF_CONFIG, BAD_SF),
    ],
    ids=[
        "other-org", "no-org-configured", "billion-laughs", "xxe", "plain-doctype", "truncated", "empty",
        "not-utf8",
        "undefined-entity", "no-org-in-body", "notification-without-id", "blank-id", "deeply-nested-unclosed",
    ],
)  # fmt: skip
def test_salesforce_refusals(body: bytes, config: dict[str, str], reason: str) -> None:
    assert get_provider("salesforce").verify(req({}, body), config, NOW) == Verdict(ok=False, reason=reason)


def test_salesforce_ack_is_the_exact_soap_envelope() -> None:
    assert salesforce_ack() == Challenge(
        200,
        "text/xml; charset=utf-8",
        b'<?xml version="1.0" encoding="UTF-8"?>'
        b'<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>'
        b'<notificationsResponse xmlns="http://soap.sforce.com/2005/09/outbound"><Ack>true</Ack>'
        b"</notificationsResponse></soapenv:Body></soapenv:Envelope>",
    )


# --- Generic webhooks -----------------------------------------------------------------------

BODY = b'{"hello":"world"}'


def hmac_config(**overrides: str) -> dict[str, object]:
    return {"secret": "g", "verification": {"type": "hmac", "header": "X-Signature", **overrides}}


def digest(algorithm: str) -> bytes:
    return hmac.new(b"g", BODY, algorithm).digest()


BASIC = {"verification": {"type": "basic", "username": "ann", "password": "p:w"}}


@pytest.mark.parametrize(
    ("config", "headers", "ok"),
    [
        ({}, {}, True),
        (hmac_config(), {"X-Signature": digest("sha256").hex()}, True),
        (hmac_config(), {"X-Signature": digest("sha256").hex().upper()}, True),
        (hmac_config(algorithm="sha1"), {"X-Signature": digest("sha1").hex()}, True),
        (hmac_config(algorithm="sha512", encoding="base64"),
         {"X-Signature": base64.b64encode(digest("sha512")).decode()}, True),
        (hmac_config(prefix="sha256="), {"X-Signature": "sha256=" + digest("sha256").hex()}, True),
        (hmac_config(prefix="sha256="), {"X-Signature": digest("sha256").hex()}, False),
        (hmac_config(algorithm="sha1"), {"X-Signature": digest("sha256").hex()}, False),
        (hmac_config(), {}, False),
        (hmac_config(algorithm="md5"), {"X-Signature": hmac.new(b"g", BODY, "md5").hexdigest()}, False),
        ({"verification": {"type": "hmac", "header": "X-Signature"}}, {"X-Signature": "00"}, False),
        ({"secret": "g"}, {}, False),
        ({"verification": {"type": "jwt"}}, {}, False),
        ({"verification": "hmac"}, {}, False),
        (BASIC, {"Authorization": "Basic " + base64.b64encode(b"ann:p:w").decode()}, True),
        (BASIC, {"Authorization": "basic " + base64.b64encode(b"ann:p:w").decode()}, True),
        (BASIC, {"Authorization": "Basic " + base64.b64encode(b"ann:p:x").decode()}, False),
        (BASIC, {"Authorization": "Bearer abc"}, False),
        (BASIC, {"Authorization": "Basic ***"}, False),
        (BASIC, {"Authorization": "Basic \u00e9\u00e9"}, False),
        (BASIC, {}, False),
        ({"verification": {"type": "basic", "username": "ann"}}, {}, False),
    ],
    ids=[
        "no-verification", "hmac-hex", "hmac-hex-upper", "hmac-sha1", "hmac-sha512-base64", "prefix",
        "prefix-missing", "wrong-algorithm", "missing-header", "unsupported-algorithm", "no-secret",
        "secret-without-scheme", "unknown-type", "scheme-not-object", "basic", "basic-lowercase",
        "basic-wrong-password", "bearer", "basic-bad-base64", "basic-non-ascii", "basic-missing",
        "basic-no-password-configured",
    ],
)  # fmt: skip
def test_generic_webhook_verification(config: dict[str, object], headers: dict[str, str], ok: bool) -> None:
    verdict = get_provider("generic-webhook").verify(req(headers, BODY), config, NOW)
    assert verdict.ok is ok
    assert verdict.reason or ok


# --- HubSpot v3 uri -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "uri"),
    [
        ("https://a.example/p?x=https%3A%2F%2Fb%2Fc", "https://a.example/p?x=https://b/c"),
        ("https://a.example/p?x=%3a%2f%40%21%24%27%28%29%2A%2c%3B%3F", "https://a.example/p?x=:/@!$'()*,;?"),
        ("https://a.example/p?x=%20%26%3D%25", "https://a.example/p?x=%20%26%3D%25"),
        ("https://a.example/p?x=%", "https://a.example/p?x=%"),
        ("https://a.example/%E2%9C%93", "https://a.example/%E2%9C%93"),
    ],
    ids=["reserved", "every-listed-escape", "unlisted-kept", "lone-percent", "utf8-kept"],
)
def test_hubspot_v3_uri_decodes_only_the_listed_escapes(url: str, uri: str) -> None:
    assert v3_uri(url) == uri
