"""Endpoint secrets and headers never reach the database in plaintext."""

from __future__ import annotations

import pytest

from hookwire.errors import ConfigError, StoreError
from hookwire.outbound import applications, endpoints
from hookwire.outbound.models import ApplicationIn, EndpointIn
from hookwire.runtime import Runtime
from hookwire.secretbox import SecretBox

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


async def test_endpoint_secret_and_headers_are_encrypted_in_the_database(runtime: Runtime) -> None:
    app, _ = await applications.create_app(runtime, ApplicationIn(name="a"))
    ep = await endpoints.create_endpoint(
        runtime,
        app.id,
        EndpointIn(url="https://example.com/hook", secret=SECRET, headers={"Authorization": "Bearer sekrit"}),
    )
    stored_secrets = await runtime.db.fetch("signing_secrets", ids=[ep.id], now=0)
    stored_endpoint = await runtime.db.fetchrow("get_endpoint", app_id=app.id, key=ep.id)
    assert stored_secrets and all(SECRET not in row["secret"] for row in stored_secrets)
    assert stored_endpoint is not None and "sekrit" not in stored_endpoint["headers"]
    assert await endpoints.get_secret(runtime, app.id, ep.id) == SECRET


def test_secretbox_round_trips_and_refuses_another_key() -> None:
    box = SecretBox("k" * 40)
    sealed = box.seal("whsec_abc")
    assert sealed.startswith("v1:") and "whsec_abc" not in sealed
    assert box.open(sealed) == "whsec_abc"
    with pytest.raises(StoreError, match="HOOKWIRE_SECRET_KEY"):
        SecretBox("x" * 40).open(sealed)


def test_secretbox_refuses_a_short_key_and_says_how_to_make_one() -> None:
    with pytest.raises(ConfigError, match="token_urlsafe"):
        SecretBox("short")
