"""Endpoints through the svix SDK: CRUD by id and uid, secrets, headers, stats, recovery, examples."""

from __future__ import annotations

import base64
import json
import os
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import standardwebhooks
from svix.api import (
    ApplicationIn,
    EndpointHeadersIn,
    EndpointHeadersPatchIn,
    EndpointIn,
    EndpointListOptions,
    EndpointPatch,
    EndpointSecretRotateIn,
    EndpointUpsertIn,
    EventExampleIn,
    EventTypeIn,
    MessageAttemptListByMsgOptions,
    MessageIn,
    RecoverIn,
    ReplayIn,
    Svix,
)
from svix.exceptions import HttpError
from svix.webhooks import Webhook, WebhookVerificationError

from tests.api.polling import wait_until
from tests.support.receiver import Receiver
from tests.support.server import HookwireProcess

CLOSED_PORT_URL = "http://127.0.0.1:1/hook"  # nothing listens on port 1: every attempt fails fast


def _app(svix: Svix, *event_types: str) -> str:
    for name in event_types:
        svix.event_type.create(EventTypeIn(name=name, description=name))
    return svix.application.create(ApplicationIn(name="Acme")).id


def _secret() -> str:
    return "whsec_" + base64.b64encode(os.urandom(32)).decode()


def _stats(svix: Svix, app_id: str, endpoint_id: str) -> dict[str, int]:
    return svix.endpoint.get_stats(app_id, endpoint_id).model_dump()


def test_endpoint_lifecycle_by_id_and_uid(svix: Svix, receiver: Receiver) -> None:
    app_id = _app(svix, "invoice.paid", "user.created")
    ep = svix.endpoint.create(
        app_id,
        EndpointIn(
            url=receiver.url + "/billing",
            uid="billing",
            description="Billing system",
            event_types=["invoice.paid"],
            channels=["eu"],
            metadata={"team": "finance"},
            headers={"X-Team": "finance"},
            throttle_rate=20,
        ),
    )
    assert ep.id.startswith("ep_")
    assert (ep.uid, ep.url, ep.description, ep.disabled) == (
        "billing",
        receiver.url + "/billing",
        "Billing system",
        False,
    )
    assert (ep.event_types, ep.channels, ep.metadata, ep.throttle_rate) == (
        ["invoice.paid"],
        ["eu"],
        {"team": "finance"},
        20,
    )
    assert svix.endpoint.get(app_id, ep.id) == ep
    assert svix.endpoint.get(app_id, "billing") == ep
    other = svix.endpoint.create(app_id, EndpointIn(url=receiver.url + "/other"))
    assert [e.id for e in svix.endpoint.list(app_id).data] == sorted([ep.id, other.id])
    first_page = svix.endpoint.list(app_id, EndpointListOptions(limit=1))
    assert len(first_page.data) == 1 and not first_page.done

    replaced = svix.endpoint.upsert(app_id, "billing", EndpointUpsertIn(url=receiver.url + "/v2"))
    assert (replaced.id, replaced.uid, replaced.url) == (ep.id, "billing", receiver.url + "/v2")
    assert (replaced.event_types, replaced.channels, replaced.description) == (None, None, "")
    assert svix.endpoint.get_headers(app_id, "billing").headers == {"X-Team": "finance"}
    created = svix.endpoint.upsert(app_id, "by-put", EndpointUpsertIn(url=receiver.url + "/put"))
    assert created.uid == "by-put" and created.id not in (ep.id, other.id)

    patched = svix.endpoint.patch(
        app_id, "billing", EndpointPatch(disabled=True, event_types=["user.created"], throttle_rate=None)
    )
    assert (patched.disabled, patched.event_types, patched.throttle_rate, patched.url) == (
        True,
        ["user.created"],
        None,
        receiver.url + "/v2",
    )
    assert svix.endpoint.patch(app_id, ep.id, EndpointPatch(disabled=False)).disabled is False

    svix.endpoint.delete(app_id, "billing")
    for key in (ep.id, "billing"):
        with pytest.raises(HttpError) as missing:
            svix.endpoint.get(app_id, key)
        assert missing.value.status_code == 404
    assert {e.id for e in svix.endpoint.list(app_id).data} == {other.id, created.id}


def test_secret_is_kept_or_generated_and_rotation_returns_the_new_key(svix: Svix, receiver: Receiver) -> None:
    app_id = _app(svix, "invoice.paid")
    given = _secret()
    graceful = svix.endpoint.create(app_id, EndpointIn(url=receiver.url + "/graceful", secret=given))
    abrupt = svix.endpoint.create(app_id, EndpointIn(url=receiver.url + "/abrupt"))
    assert svix.endpoint.get_secret(app_id, graceful.id).key == given
    generated = svix.endpoint.get_secret(app_id, abrupt.id).key
    assert generated.startswith("whsec_") and generated != given

    chosen = _secret()
    rotated = svix.endpoint.rotate_secret(app_id, graceful.id, EndpointSecretRotateIn(key=chosen))
    assert rotated.key == chosen and svix.endpoint.get_secret(app_id, graceful.id).key == chosen
    fresh = svix.endpoint.rotate_secret(app_id, abrupt.id, EndpointSecretRotateIn(grace_period_seconds=0))
    assert fresh.key.startswith("whsec_") and fresh.key != generated
    assert svix.endpoint.get_secret(app_id, abrupt.id).key == fresh.key

    svix.message.create(app_id, MessageIn(event_type="invoice.paid", payload={"n": 1}))
    requests = {r.path: r for r in receiver.wait_for(2)}
    during_grace = requests["/graceful"]
    assert len(during_grace.headers["webhook-signature"].split(" ")) == 2
    for secret in (given, chosen):  # the default grace period keeps the old secret signing
        Webhook(secret).verify(during_grace.body, during_grace.headers)
    no_grace = requests["/abrupt"]
    assert len(no_grace.headers["webhook-signature"].split(" ")) == 1
    assert standardwebhooks.Webhook(fresh.key).verify(no_grace.body, no_grace.headers) == {"n": 1}
    with pytest.raises(WebhookVerificationError):
        Webhook(generated).verify(no_grace.body, no_grace.headers)


def test_custom_headers_are_replaced_patched_deleted_and_sent(svix: Svix, receiver: Receiver) -> None:
    app_id = _app(svix, "invoice.paid")
    ep = svix.endpoint.create(
        app_id,
        EndpointIn(url=receiver.url, headers={"X-Team": "finance", "Authorization": "Bearer s3cret"}),
    )
    shown = svix.endpoint.get_headers(app_id, ep.id)
    assert (shown.headers, shown.sensitive) == ({"X-Team": "finance"}, ["Authorization"])

    svix.endpoint.set_headers(app_id, ep.id, EndpointHeadersIn(headers={"X-One": "1", "X-Two": "2"}))
    replaced = svix.endpoint.get_headers(app_id, ep.id)
    assert (replaced.headers, replaced.sensitive) == ({"X-One": "1", "X-Two": "2"}, [])

    svix.endpoint.patch_headers(
        app_id,
        ep.id,
        EndpointHeadersPatchIn(headers={"x-two": "II", "X-Three": "3"}, delete_headers=["x-one"]),
    )
    assert svix.endpoint.get_headers(app_id, ep.id).headers == {"x-two": "II", "X-Three": "3"}

    svix.message.create(app_id, MessageIn(event_type="invoice.paid", payload={"n": 1}))
    [request] = receiver.wait_for(1)
    assert (request.headers["x-two"], request.headers["x-three"]) == ("II", "3")
    assert "x-one" not in request.headers and "authorization" not in request.headers


def test_older_field_names_filter_types_and_rate_limit_are_accepted(
    server: HookwireProcess, svix: Svix, receiver: Receiver
) -> None:
    for name in ("invoice.paid", "user.created"):
        svix.event_type.create(EventTypeIn(name=name, description=name))
    api = httpx.Client(base_url=server.url + "/api/v1", headers={"authorization": f"Bearer {server.token}"})
    app = api.post("/app", json={"name": "Acme", "rateLimit": 3})
    assert app.status_code == 201 and app.json()["throttleRate"] == 3
    app_id = app.json()["id"]
    created = api.post(
        f"/app/{app_id}/endpoint",
        json={"url": receiver.url, "filterTypes": ["invoice.paid"], "rateLimit": 7},
    )
    assert created.status_code == 201, created.text
    assert (created.json()["eventTypes"], created.json()["throttleRate"]) == (["invoice.paid"], 7)
    ep_id = created.json()["id"]
    patched = api.patch(f"/app/{app_id}/endpoint/{ep_id}", json={"filterTypes": ["user.created"]})
    assert patched.status_code == 200 and patched.json()["eventTypes"] == ["user.created"]
    seen_by_sdk = svix.endpoint.get(app_id, ep_id)
    assert (seen_by_sdk.event_types, seen_by_sdk.throttle_rate) == (["user.created"], 7)

    skipped = svix.message.create(app_id, MessageIn(event_type="invoice.paid", payload={}))
    wanted = svix.message.create(app_id, MessageIn(event_type="user.created", payload={}))
    assert [r.headers["webhook-id"] for r in receiver.wait_for(1)] == [wanted.id]
    assert svix.message_attempt.list_attempted_destinations(app_id, skipped.id).data == []


@pytest.mark.server_env(HOOKWIRE_CIRCUIT_BREAKER_FAILURES="0")  # 8 failures in a row, none held back
def test_stats_count_deliveries_by_status(svix: Svix, receiver: Receiver) -> None:
    app_id = _app(svix, "invoice.paid")
    ok = svix.endpoint.create(app_id, EndpointIn(url=receiver.url))
    broken = svix.endpoint.create(app_id, EndpointIn(url=CLOSED_PORT_URL))
    for n in range(2):
        svix.message.create(app_id, MessageIn(event_type="invoice.paid", payload={"n": n}))
    later = datetime.now(UTC) + timedelta(hours=1)
    svix.message.create(app_id, MessageIn(event_type="invoice.paid", payload={}, deliver_at=later))

    expected_ok = {"success": 2, "pending": 1, "sending": 0, "fail": 0, "canceled": 0}
    wait_until(lambda: _stats(svix, app_id, ok.id), lambda s: s == expected_ok, what="ok stats")
    expected_broken = {"success": 0, "pending": 1, "sending": 0, "fail": 2, "canceled": 0}
    wait_until(  # three quick retries (test schedule), then failed for good
        lambda: _stats(svix, app_id, broken.id), lambda s: s == expected_broken, what="broken stats"
    )


def test_recover_requeues_failed_deliveries_since_the_given_time(svix: Svix, receiver: Receiver) -> None:
    app_id = _app(svix, "invoice.paid")
    ep = svix.endpoint.create(app_id, EndpointIn(url=receiver.url))
    receiver.respond(500, 500, 500, 500)  # the first attempt and all three retries fail
    start = datetime.now(UTC) - timedelta(minutes=1)
    msg = svix.message.create(app_id, MessageIn(event_type="invoice.paid", payload={"n": 1}))
    wait_until(lambda: _stats(svix, app_id, ep.id)["fail"], lambda n: n == 1, what="exhausted retries")
    assert len(receiver.requests) == 4

    svix.endpoint.recover(app_id, ep.id, RecoverIn(since=start - timedelta(hours=1), until=start))
    assert _stats(svix, app_id, ep.id)["fail"] == 1  # nothing failed in that window
    task = svix.endpoint.recover(app_id, ep.id, RecoverIn(since=start))
    assert task.task == "endpoint.recover" and task.id

    fifth = receiver.wait_for(5)[4]
    assert fifth.headers["webhook-id"] == msg.id
    wait_until(lambda: _stats(svix, app_id, ep.id)["success"], lambda n: n == 1, what="recovered")
    attempts = svix.message_attempt.list_by_msg(app_id, msg.id, MessageAttemptListByMsgOptions()).data
    assert [a.response_status_code for a in attempts] == [200, 500, 500, 500, 500]
    assert attempts[0].trigger_type == 1  # manual


def test_replay_missing_sends_only_what_the_endpoint_would_have_received(
    svix: Svix, receiver: Receiver
) -> None:
    app_id = _app(svix, "invoice.paid")
    start = datetime.now(UTC) - timedelta(minutes=1)
    early = svix.endpoint.create(app_id, EndpointIn(url=receiver.url + "/early"))
    eu = svix.message.create(app_id, MessageIn(event_type="invoice.paid", payload={}, channels=["eu"]))
    svix.message.create(app_id, MessageIn(event_type="invoice.paid", payload={}, channels=["us"]))
    svix.message.create(app_id, MessageIn(event_type="invoice.paid", payload={}))
    receiver.wait_for(3)
    late = svix.endpoint.create(app_id, EndpointIn(url=receiver.url + "/late", channels=["eu"]))

    task = svix.endpoint.replay_missing(app_id, late.id, ReplayIn(since=start))
    assert task.task == "endpoint.replay"
    fourth = receiver.wait_for(4)[3]
    assert (fourth.path, fourth.headers["webhook-id"]) == ("/late", eu.id)
    svix.endpoint.replay_missing(app_id, early.id, ReplayIn(since=start))
    wait_until(lambda: _stats(svix, app_id, late.id)["success"], lambda n: n == 1, what="replayed")
    assert _stats(svix, app_id, late.id)["pending"] == 0  # only the eu message was queued
    assert _stats(svix, app_id, early.id) == {
        "success": 3,
        "pending": 0,
        "sending": 0,
        "fail": 0,
        "canceled": 0,
    }


def test_send_example_goes_to_that_endpoint_only(svix: Svix, receiver: Receiver) -> None:
    svix.event_type.create(
        EventTypeIn(name="invoice.paid", description="x", schemas={"1": {"examples": [{"amount": 42}]}})
    )
    app_id = svix.application.create(ApplicationIn(name="Acme")).id
    target = svix.endpoint.create(app_id, EndpointIn(url=receiver.url + "/target"))
    svix.endpoint.create(app_id, EndpointIn(url=receiver.url + "/bystander"))

    example = svix.endpoint.send_example(app_id, target.id, EventExampleIn(event_type="invoice.paid"))
    [request] = receiver.wait_for(1)
    assert (request.path, request.headers["webhook-id"]) == ("/target", example.id)
    assert json.loads(request.body) == {"amount": 42} == example.payload
    destinations = svix.message_attempt.list_attempted_destinations(app_id, example.id).data
    assert [d.id for d in destinations] == [target.id]
    with pytest.raises(HttpError) as unknown:
        svix.endpoint.send_example(app_id, target.id, EventExampleIn(event_type="no.such.type"))
    assert unknown.value.status_code == 404
