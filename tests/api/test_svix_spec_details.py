"""Details where Svix's OpenAPI document and hookwire used to disagree, each checked over raw HTTP
(no SDK in between, so the exact status codes and shapes are what is tested)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.server import HookwireProcess

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


@pytest.fixture
def api(server: HookwireProcess) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {server.token}"}
    with httpx.Client(base_url=f"{server.url}", headers=headers, timeout=10) as client:
        yield client


def _endpoint(api: httpx.Client) -> str:
    assert api.post("/api/v1/app", json={"name": "Acme", "uid": "acme"}).status_code == 201
    response = api.post("/api/v1/app/acme/endpoint", json={"url": "https://example.com/h", "uid": "hook"})
    assert response.status_code == 201
    return "/api/v1/app/acme/endpoint/hook"


def test_rotation_is_204_except_for_the_sdk_generation_that_reads_the_key(api: httpx.Client) -> None:
    hook = _endpoint(api)
    plain = api.post(f"{hook}/secret/rotate", json={})
    assert plain.status_code == 204 and plain.content == b""
    sdk2 = api.post(f"{hook}/secret/rotate", json={}, headers={"user-agent": "svix-libs/2.9.1/python"})
    assert sdk2.status_code == 200
    assert sdk2.json()["key"] == api.get(f"{hook}/secret").json()["key"]


def test_validation_locations_are_strings(api: httpx.Client) -> None:
    _endpoint(api)
    response = api.post(
        "/api/v1/app/acme/endpoint", json={"url": "https://e.com", "channels": ["ok", "b a d"]}
    )
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", "channels"] or all(isinstance(part, str) for part in error["loc"])
    nested = api.post("/api/v1/event-type", json={"name": "a.b", "description": "", "featureFlags": ["x", 7]})
    assert nested.status_code == 422
    assert all(isinstance(part, str) for err in nested.json()["detail"] for part in err["loc"])


def test_event_type_group_and_feature_flags_follow_the_spec(api: httpx.Client) -> None:
    assert api.post("/api/v1/event-type", json={"name": "kept", "description": "ok"}).status_code == 201
    for extra in (
        {"groupName": "has space"},
        {"groupName": "x" * 257},
        {"featureFlags": []},
        {"featureFlags": ["dup", "dup"]},
        {"featureFlags": ["bad flag"]},
    ):
        body = {"name": "invoice.paid", "description": "paid", **extra}
        assert api.post("/api/v1/event-type", json=body).status_code == 422, extra
        assert api.patch("/api/v1/event-type/kept", json=extra).status_code == 422, extra
    good = {"groupName": "billing", "featureFlags": ["beta"]}
    assert api.patch("/api/v1/event-type/kept", json=good).json()["groupName"] == "billing"


def test_valid_svix_requests_that_were_refused(api: httpx.Client) -> None:
    hook = _endpoint(api)
    assert api.put(f"{hook}/headers", json={"headers": {"X-Foo": "1", "X-Bar": "2"}}).status_code == 204
    assert api.patch(f"{hook}/headers", json={"headers": {"X-Foo": None, "X-New": "3"}}).status_code == 204
    assert api.get(f"{hook}/headers").json()["headers"] == {"X-Bar": "2", "X-New": "3"}

    plus = api.patch(hook, json={"channels": ["project+1", "a:b"]})
    assert plus.status_code == 200 and plus.json()["channels"] == ["project+1", "a:b"]

    renamed = api.patch("/api/v1/app/acme", json={"name": ""})
    assert renamed.status_code == 200 and renamed.json()["name"] == ""

    old_names = api.post(
        "/api/v1/app/acme/endpoint", json={"url": "https://e.com/old", "filterTypes": ["a.b"], "rateLimit": 5}
    )
    if old_names.status_code == 422:  # a.b must exist as an event type first
        api.post("/api/v1/event-type", json={"name": "a.b", "description": ""})
        old_names = api.post(
            "/api/v1/app/acme/endpoint",
            json={"url": "https://e.com/old", "filterTypes": ["a.b"], "rateLimit": 5},
        )
    assert old_names.status_code == 201
    assert old_names.json()["eventTypes"] == ["a.b"] and old_names.json()["throttleRate"] == 5


def _svix_source_types() -> list[str]:
    for parent in Path(__file__).resolve().parents:
        spec = parent / "shared" / "reference" / "svix-openapi.json"
        if spec.exists():
            schemas = json.loads(spec.read_text())["components"]["schemas"]
            return [
                variant["properties"]["type"]["enum"][0] for variant in schemas["IngestSourceIn"]["oneOf"]
            ]
    pytest.fail("Svix's OpenAPI document not found")


def test_every_svix_ingest_source_type_is_accepted_with_a_short_id(api: httpx.Client) -> None:
    types = _svix_source_types()
    assert len(types) == 43
    for n, type_ in enumerate(types):
        body = {"name": f"source {n}", "type": type_, "config": {"secret": SECRET}}
        response = api.post("/ingest/api/v1/source", json=body)
        assert response.status_code == 201, (type_, response.text)
        source_id = response.json()["id"]
        assert re.fullmatch(r"src_[A-Za-z0-9]{21,22}", source_id), source_id


def test_put_source_with_an_unknown_id_does_not_create_a_src_uid(api: httpx.Client) -> None:
    body = {"name": "Stripe", "type": "stripe", "config": {"secret": SECRET}}
    assert api.put("/ingest/api/v1/source/src_2yZwUhtgs5Ai8T9yRQJXA", json=body).status_code == 404
    created = api.put("/ingest/api/v1/source/my-stripe", json=body)
    assert created.status_code == 201 and created.json()["uid"] == "my-stripe"
    assert api.post("/ingest/api/v1/source", json={**body, "uid": "src_x"}).status_code == 422

    endpoint = {"url": "https://example.com/in"}
    assert api.put("/ingest/api/v1/source/my-stripe/endpoint/fwd", json=endpoint).status_code == 200
    assert api.put("/ingest/api/v1/source/my-stripe/endpoint/fwd", json=endpoint).status_code == 200
