"""Standard Webhooks signing: the official vector, rotation, and the reference verifier's verdict."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from datetime import UTC, datetime

import orjson
import pytest
import standardwebhooks
from svix.webhooks import Webhook as SvixWebhook

from hookwire.delivery.endpoint_cache import EndpointTarget
from hookwire.delivery.signing import generate_secret, is_valid_secret, secret_key_bytes, sign
from hookwire.delivery.worker import build_headers

# Official vector: standard-webhooks libraries/python/tests/test_webhooks.py (reference §1.6).
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
MSG_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
TIMESTAMP = 1614265330
BODY = b'{"test": 2432232314}'
EXPECTED = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
# Second secret (Svix's documentation key) and the rotation header, newest key first (reference §1.6).
SECOND_SECRET = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"
# The longest secret the API accepts: 64 bytes.
LONGEST_SECRET = "whsec_" + base64.b64encode(bytes(range(64))).decode()
ROTATION = "v1,78nXHjpFP0tVJQW5D0SBwmVyyW87BV/rL6MgfM/Bw44= v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_official_vector() -> None:
    assert sign(MSG_ID, TIMESTAMP, BODY, [secret_key_bytes(SECRET)]) == EXPECTED


def test_rotation_header_signs_with_every_key_newest_first() -> None:
    keys = [secret_key_bytes(SECOND_SECRET), secret_key_bytes(SECRET)]
    assert sign(MSG_ID, TIMESTAMP, BODY, keys) == ROTATION


@pytest.mark.parametrize("spelling", [SECRET, SECRET.removeprefix("whsec_")])
def test_secret_spellings_give_the_same_key(spelling: str) -> None:
    assert sign(MSG_ID, TIMESTAMP, BODY, [secret_key_bytes(spelling)]) == EXPECTED


@pytest.mark.parametrize("bad", ["", "whsec_", "whsec_not base64!", "whsec_-_-_"])
def test_unusable_secrets_are_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        secret_key_bytes(bad)
    assert not is_valid_secret(bad)


def test_generated_secrets_are_24_bytes_and_valid() -> None:
    secret = generate_secret()
    assert secret.startswith("whsec_") and is_valid_secret(secret)
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) == 24


def _target(*secrets: str, headers: dict[str, str] | None = None) -> EndpointTarget:
    return EndpointTarget(
        id="ep_x",
        url="https://example.com/hook",
        disabled=False,
        version=1,
        headers=headers or {},
        keys=tuple(secret_key_bytes(s) for s in secrets),
        refresh_at=2**62,
    )


BODIES = [
    b"{}",
    b'{"type":"invoice.paid","data":{"amount":42}}',
    '{"name":"Zoë","emoji":"🪝","quote":"\\"."}'.encode(),
    b'{"nested":{"list":[1,2.5,null,true,"x.y"]}}',
]


@pytest.mark.parametrize("body", BODIES)
@pytest.mark.parametrize("secret", [SECRET, SECOND_SECRET, LONGEST_SECRET])
def test_reference_verifiers_accept_our_headers(body: bytes, secret: str) -> None:
    headers = build_headers(MSG_ID, int(time.time()), body, _target(secret))
    webhook_headers = {k: v for k, v in headers.items() if not k.startswith("svix-")}
    svix_headers = {k: v for k, v in headers.items() if not k.startswith("webhook-")}
    assert standardwebhooks.Webhook(secret).verify(body, webhook_headers) == orjson.loads(body)
    SvixWebhook(secret).verify(body, svix_headers)  # raises WebhookVerificationError when wrong


@pytest.mark.parametrize("body", BODIES)
def test_reference_signer_agrees_with_ours(body: bytes) -> None:
    when = datetime.fromtimestamp(TIMESTAMP, tz=UTC)
    theirs = standardwebhooks.Webhook(SECRET).sign(MSG_ID, when, body.decode())
    assert sign(MSG_ID, TIMESTAMP, body, [secret_key_bytes(SECRET)]) == theirs


@pytest.mark.parametrize("holder", [SECRET, SECOND_SECRET])
def test_during_rotation_a_receiver_with_either_secret_accepts(holder: str) -> None:
    body = BODIES[1]
    headers = build_headers(MSG_ID, int(time.time()), body, _target(SECOND_SECRET, SECRET))
    assert len(headers["webhook-signature"].split(" ")) == 2
    standardwebhooks.Webhook(holder).verify(body, headers)


Headers = dict[str, str]


def _flip_a_bit(signature: str) -> str:
    version, encoded = signature.split(",")
    raw = bytearray(base64.b64decode(encoded))
    raw[0] ^= 1
    return f"{version},{base64.b64encode(bytes(raw)).decode()}"


Tamper = Callable[[Headers, bytes], tuple[Headers, bytes]]


@pytest.mark.parametrize(
    "tamper",
    [
        lambda h, b: ({**h, "webhook-id": h["webhook-id"] + "x"}, b),
        lambda h, b: ({**h, "webhook-timestamp": str(int(h["webhook-timestamp"]) + 1)}, b),
        lambda h, b: (h, b + b" "),
        lambda h, b: ({**h, "webhook-signature": _flip_a_bit(h["webhook-signature"])}, b),
    ],
    ids=["id", "timestamp", "body", "signature"],
)
def test_reference_verifier_rejects_any_change(tamper: Tamper) -> None:
    body = BODIES[1]
    headers = build_headers(MSG_ID, int(time.time()), body, _target(SECRET))
    headers = {k: v for k, v in headers.items() if not k.startswith("svix-")}
    changed_headers, changed_body = tamper(headers, body)
    with pytest.raises(standardwebhooks.webhooks.WebhookVerificationError):
        standardwebhooks.Webhook(SECRET).verify(changed_body, changed_headers)


def test_custom_headers_come_after_the_webhook_headers() -> None:
    headers = build_headers(MSG_ID, TIMESTAMP, BODY, _target(SECRET, headers={"X-Tenant": "acme"}))
    assert list(headers)[-1] == "X-Tenant"
    assert headers["webhook-signature"] == headers["svix-signature"] == EXPECTED
    assert headers["webhook-id"] == headers["svix-id"] == MSG_ID
    assert headers["webhook-timestamp"] == headers["svix-timestamp"] == str(TIMESTAMP)
    assert headers["content-type"] == "application/json"
    assert headers["user-agent"].startswith("hookwire/")
