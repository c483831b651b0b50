"""`hookwire verify` says why a signature fails; `hookwire login` stores access for the client commands."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest
import stripe
from standardwebhooks import Webhook

from tests.support.server import HookwireProcess

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
OTHER = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"
BODY = b'{"type":"invoice.paid","data":{"id":1}}'


def _hookwire(*args: str, stdin: bytes = b"", **env: str) -> subprocess.CompletedProcess[bytes]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("HOOKWIRE_")}
    return subprocess.run(
        [sys.executable, "-m", "hookwire", *args],
        input=stdin,
        env={**clean, **env},
        capture_output=True,
        timeout=60,
    )


def _signed(secret: str, at: datetime) -> list[str]:
    headers = {"webhook-id": "msg_1", "webhook-timestamp": str(int(at.timestamp()))}
    headers["webhook-signature"] = Webhook(secret).sign("msg_1", at, BODY.decode())
    return [arg for name, value in headers.items() for arg in ("--header", f"{name}: {value}")]


def test_valid_signature_exits_0() -> None:
    result = _hookwire("verify", "--secret", SECRET, *_signed(SECRET, datetime.now(UTC)), stdin=BODY)
    assert result.returncode == 0, result.stderr
    assert b"valid" in result.stdout


@pytest.mark.parametrize(
    ("secret", "signed_with", "age", "kind", "words"),
    [
        (OTHER, SECRET, timedelta(0), "wrong_secret", b"wrong secret"),
        (
            SECRET,
            SECRET,
            timedelta(minutes=10),
            "stale_timestamp",
            b"stale timestamp: timestamp is more than 300 s old",
        ),
    ],
)
def test_invalid_signature_exits_1_saying_why(
    secret: str, signed_with: str, age: timedelta, kind: str, words: bytes
) -> None:
    headers = _signed(signed_with, datetime.now(UTC) - age)
    result = _hookwire("verify", "--secret", secret, *headers, stdin=BODY)
    assert result.returncode == 1
    assert words in result.stderr
    as_json = _hookwire("verify", "--secret", secret, *headers, "--json", stdin=BODY)
    assert as_json.returncode == 1 and orjson.loads(as_json.stdout)["kind"] == kind


def test_malformed_header_is_named() -> None:
    headers = [
        "--header",
        "webhook-id: msg_1",
        "--header",
        "webhook-timestamp: soon",
        "--header",
        "webhook-signature: v1,x",
    ]
    result = _hookwire("verify", "--secret", SECRET, *headers, stdin=BODY)
    assert result.returncode == 1
    assert b"malformed header: webhook-timestamp is not an integer" in result.stderr


def test_stripe_signature_is_detected_from_its_header() -> None:
    header = stripe.WebhookSignature.generate_signature_header(BODY.decode(), "whsec_stripe")
    good = _hookwire("verify", "--secret", "whsec_stripe", "-H", f"Stripe-Signature: {header}", stdin=BODY)
    assert good.returncode == 0 and b"stripe" in good.stdout
    stale = f"t={int(time.time()) - 3600},v1=00"
    old = _hookwire("verify", "--secret", "whsec_stripe", "-H", f"Stripe-Signature: {stale}", stdin=BODY)
    assert old.returncode == 1 and b"stale timestamp" in old.stderr


def test_login_checks_the_token_and_stores_it_readable_by_the_owner_only(
    database_url: str, tmp_path: Path
) -> None:
    config = tmp_path / "config"
    with HookwireProcess(database_url, log=tmp_path / "hookwire.log") as server:
        refused = _hookwire("login", "--url", server.url, "--token", "wrong", HOOKWIRE_CONFIG_DIR=str(config))
        assert refused.returncode == 3 and not config.exists()
        done = _hookwire(
            "login", "--url", server.url, "--token", server.token, HOOKWIRE_CONFIG_DIR=str(config)
        )
        assert done.returncode == 0, done.stderr
        [saved] = config.iterdir()
        assert stat.S_IMODE(saved.stat().st_mode) == 0o600
        # a client command now needs no HOOKWIRE_URL / HOOKWIRE_TOKEN ...
        secret = _hookwire("listen", "--print-secret", HOOKWIRE_CONFIG_DIR=str(config))
        assert secret.returncode == 0 and secret.stdout.startswith(b"whsec_")
        # ... and the environment overrides the file
        overridden = _hookwire(
            "listen", "--print-secret", HOOKWIRE_CONFIG_DIR=str(config), HOOKWIRE_TOKEN="wrong"
        )
        assert overridden.returncode == 3
