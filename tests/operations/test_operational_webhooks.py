"""Operational webhooks, driven through the official svix SDK against a live server: the
operator's endpoint gets Svix's `{type, data}` events, signed, and verifies them with the
SDK's `Webhook` class."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from svix.api import (
    ApplicationIn,
    EndpointIn,
    EndpointPatch,
    EndpointUpsertIn,
    MessageIn,
    OperationalWebhookEndpointHeadersIn,
    OperationalWebhookEndpointIn,
    OperationalWebhookEndpointSecretIn,
    OperationalWebhookEndpointUpsertIn,
    Svix,
)
from svix.webhooks import Webhook

from tests.operations.conftest import ServeFn, sdk
from tests.support.receiver import Receiver, Reply

FAST = {"HOOKWIRE_RETRY_SCHEDULE": "100ms,100ms,100ms", "HOOKWIRE_CIRCUIT_BREAKER_FAILURES": "0"}


def _operational_endpoint(svix: Svix, receiver: Receiver, **fields: Any) -> str:
    """Create the operator's endpoint; returns its signing secret."""
    ep = svix.operational_webhook.endpoint.create(OperationalWebhookEndpointIn(url=receiver.url, **fields))
    return svix.operational_webhook.endpoint.get_secret(ep.id).key


def _events(receiver: Receiver, secret: str, count: int) -> list[dict[str, Any]]:
    """The first `count` operational events, each verified with the SDK's Webhook class."""
    events = []
    for request in receiver.wait_for(count)[:count]:
        Webhook(secret).verify(request.body, request.headers)  # raises on a bad signature
        events.append(json.loads(request.body))
    return events


def _wait_types(
    receiver: Receiver, secret: str, wanted: set[str], timeout: float = 20.0
) -> list[dict[str, Any]]:
    count = 1
    while True:
        events = _events(receiver, secret, count)
        if wanted <= {e["type"] for e in events}:
            return events
        receiver.wait_for(count + 1, timeout=timeout)
        count += 1


def test_sdk_manages_operational_endpoints(serve: ServeFn, ops_receiver: Receiver) -> None:
    svix = sdk(serve())
    op = svix.operational_webhook.endpoint
    created = op.create(
        OperationalWebhookEndpointIn(
            url=ops_receiver.url, uid="ops", event_types=["endpoint.disabled"], metadata={"team": "sre"}
        )
    )
    assert created.id.startswith("ep_") and created.event_types == ["endpoint.disabled"]
    assert op.get("ops").id == created.id
    assert [e.id for e in op.list().data] == [created.id]

    updated = op.upsert(created.id, OperationalWebhookEndpointUpsertIn(url=ops_receiver.url + "/v2"))
    assert updated.url == ops_receiver.url + "/v2" and updated.uid == "ops"

    old = op.get_secret(created.id).key
    op.rotate_secret(created.id, OperationalWebhookEndpointSecretIn())
    assert op.get_secret(created.id).key not in ("", old)

    op.set_headers(created.id, OperationalWebhookEndpointHeadersIn(headers={"X-Team": "sre"}))
    assert op.get_headers(created.id).headers == {"X-Team": "sre"}

    # The internal application behind them is not one of the customer's applications.
    assert svix.application.list().data == []
    op.delete(created.id)
    assert op.list().data == []


def test_operational_endpoint_refuses_unknown_event_types(serve: ServeFn, ops_receiver: Receiver) -> None:
    svix = sdk(serve())
    try:
        svix.operational_webhook.endpoint.create(
            OperationalWebhookEndpointIn(url=ops_receiver.url, event_types=["invoice.paid"])
        )
    except Exception as exc:  # the SDK raises HttpError with the status
        assert getattr(exc, "status_code", None) == 422
    else:
        raise AssertionError("an unknown operational event type was accepted")


def test_failing_endpoint_reports_failing_exhausted_and_disabled(
    serve: ServeFn, ops_receiver: Receiver, receiver: Receiver, slack: Receiver
) -> None:
    # Five days of failure shrunk to 1.5 seconds: attempts 1-4 come within ~0.2s of the first
    # failure (with room for a loaded machine), the 5th (the last) 3s later, when the endpoint
    # has failed long enough.
    server = serve(
        HOOKWIRE_RETRY_SCHEDULE="50ms,50ms,50ms,3s",
        HOOKWIRE_CIRCUIT_BREAKER_FAILURES="0",
        HOOKWIRE_DISABLE_AFTER="1500ms",
        HOOKWIRE_PROCESSES="3",  # an API and two workers: every process sees every attempt event
        HOOKWIRE_ALERT_WEBHOOK_URL=slack.url + "/slack",
    )
    svix = sdk(server)
    secret = _operational_endpoint(svix, ops_receiver)
    receiver.default = Reply(status=503, body=b"down for maintenance")
    app = svix.application.create(ApplicationIn(name="Acme", uid="acme"))
    ep = svix.endpoint.create(app.id, EndpointIn(url=receiver.url, uid="billing"))
    msg = svix.message.create(
        app.id, MessageIn(event_type="invoice.paid", event_id="inv-1", payload={"a": 1})
    )

    events = _wait_types(
        ops_receiver, secret, {"message.attempt.failing", "message.attempt.exhausted", "endpoint.disabled"}
    )
    by_type = {e["type"]: e["data"] for e in events}
    failing = by_type["message.attempt.failing"]
    assert failing["appId"] == app.id and failing["appUid"] == "acme"
    assert failing["endpointId"] == ep.id and failing["msgId"] == msg.id and failing["msgEventId"] == "inv-1"
    assert failing["lastAttempt"]["responseStatusCode"] == 503
    assert failing["lastAttempt"]["id"].startswith("atmpt_") and failing["lastAttempt"]["timestamp"]
    exhausted = by_type["message.attempt.exhausted"]
    assert exhausted["msgId"] == msg.id and exhausted["lastAttempt"]["id"] != failing["lastAttempt"]["id"]
    disabled = by_type["endpoint.disabled"]
    assert disabled["trigger"] == "automatic" and disabled["endpointUid"] == "billing"
    assert disabled["failSince"].endswith("Z")
    assert svix.endpoint.get(app.id, ep.id).disabled is True

    # The operator's chat channel gets a sentence a person can act on.
    texts = [json.loads(r.body)["text"] for r in slack.wait_for(2)]
    disabled_text = next(t for t in texts if "was disabled" in t)
    assert ep.id in disabled_text and receiver.url in disabled_text and "503" in disabled_text
    assert any("gave up after 5 attempts" in t for t in texts)
    time.sleep(1)  # only the process that recorded an attempt alerts: no second copy follows
    assert len(slack.requests) == 2


def test_endpoint_changes_are_announced(serve: ServeFn, ops_receiver: Receiver, receiver: Receiver) -> None:
    svix = sdk(serve())
    secret = _operational_endpoint(svix, ops_receiver)
    app = svix.application.create(ApplicationIn(name="Acme"))
    ep = svix.endpoint.create(app.id, EndpointIn(url=receiver.url))
    svix.endpoint.upsert(app.id, ep.id, EndpointUpsertIn(url=receiver.url + "/put"))
    svix.endpoint.patch(app.id, ep.id, EndpointPatch(disabled=True))
    svix.endpoint.patch(app.id, ep.id, EndpointPatch(disabled=False))
    svix.endpoint.delete(app.id, ep.id)

    events = _events(ops_receiver, secret, 7)
    assert sorted(e["type"] for e in events) == [
        "endpoint.created",
        "endpoint.deleted",
        "endpoint.disabled",
        "endpoint.enabled",
        "endpoint.updated",  # PUT
        "endpoint.updated",  # PATCH disabled=true
        "endpoint.updated",  # PATCH disabled=false
    ]
    manual = next(e["data"] for e in events if e["type"] == "endpoint.disabled")
    assert manual["trigger"] == "manual" and manual["endpointId"] == ep.id and manual["appId"] == app.id
    assert all(e["data"]["endpointId"] == ep.id for e in events)


def test_recovered_after_four_failures_and_operational_failures_do_not_recurse(
    serve: ServeFn, ops_receiver: Receiver, receiver: Receiver
) -> None:
    svix = sdk(
        serve(HOOKWIRE_RETRY_SCHEDULE="100ms,100ms,100ms,100ms,100ms", HOOKWIRE_CIRCUIT_BREAKER_FAILURES="0")
    )
    secret = _operational_endpoint(svix, ops_receiver, event_types=["message.attempt.recovered"])
    ops_receiver.respond(500, 500, 500, 500)  # the operator's own endpoint is flaky too
    receiver.respond(500, 500, 500, 500)
    app = svix.application.create(ApplicationIn(name="Acme"))
    ep = svix.endpoint.create(app.id, EndpointIn(url=receiver.url))
    msg = svix.message.create(app.id, MessageIn(event_type="invoice.paid", payload={"a": 1}))

    requests = ops_receiver.wait_for(5)  # four failed tries of the one event, then it arrives
    for r in requests:
        Webhook(secret).verify(r.body, r.headers)
    [event] = {r.body for r in requests}
    recovered = json.loads(event)
    assert recovered["type"] == "message.attempt.recovered"
    assert recovered["data"]["msgId"] == msg.id and recovered["data"]["endpointId"] == ep.id
    assert recovered["data"]["lastAttempt"]["responseStatusCode"] == 200
    # The operational message itself recovered after four failures: that must not be announced.
    with pytest.raises(AssertionError):
        ops_receiver.wait_for(6, timeout=1.5)


def test_abort_message_header_stops_retries_and_reports_exhausted(
    serve: ServeFn, ops_receiver: Receiver, receiver: Receiver
) -> None:
    svix = sdk(serve(**FAST))
    secret = _operational_endpoint(svix, ops_receiver, event_types=["message.attempt.exhausted"])
    receiver.respond(Reply(status=422, headers={"webhook-delivery": "abort-message"}))
    app = svix.application.create(ApplicationIn(name="Acme"))
    svix.endpoint.create(app.id, EndpointIn(url=receiver.url))
    msg = svix.message.create(app.id, MessageIn(event_type="invoice.paid", payload={"a": 1}))

    [event] = _events(ops_receiver, secret, 1)
    assert event["type"] == "message.attempt.exhausted" and event["data"]["msgId"] == msg.id
    assert event["data"]["lastAttempt"]["responseStatusCode"] == 422
    assert len(receiver.requests) == 1  # no retry followed
