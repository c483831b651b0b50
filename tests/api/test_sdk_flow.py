"""The first ten minutes of a Svix user: their SDK code, pointed at hookwire, delivers webhooks."""

from __future__ import annotations

import pytest
import standardwebhooks
from svix.api import (
    ApplicationIn,
    EndpointIn,
    EndpointSecretRotateIn,
    EventTypeIn,
    MessageAttemptListByMsgOptions,
    MessageIn,
    Svix,
)
from svix.api.errors.http_error import HttpError
from svix.webhooks import Webhook

from tests.api.polling import wait_until
from tests.support.receiver import Receiver


def _setup(svix: Svix, receiver: Receiver, **endpoint: object) -> tuple[str, str, str]:
    app = svix.application.create(ApplicationIn(name="Acme", uid="acme"))
    svix.event_type.create(EventTypeIn(name="invoice.paid", description="An invoice was paid"))
    svix.event_type.create(EventTypeIn(name="user.created", description="A user signed up"))
    ep = svix.endpoint.create(app.id, EndpointIn(url=receiver.url + "/hook", **endpoint))  # type: ignore[arg-type]
    secret = svix.endpoint.get_secret(app.id, ep.id).key
    return app.id, ep.id, secret


def test_message_arrives_once_signed_for_both_verifiers(svix: Svix, receiver: Receiver) -> None:
    app_id, _, secret = _setup(svix, receiver)
    msg = svix.message.create(app_id, MessageIn(event_type="invoice.paid", payload={"amount": 42}))

    [request] = receiver.wait_for(1)
    assert request.headers["webhook-id"] == msg.id
    assert request.headers["svix-signature"] == request.headers["webhook-signature"]
    Webhook(secret).verify(
        request.body, request.headers
    )  # raises WebhookVerificationError on a bad signature
    assert standardwebhooks.Webhook(secret).verify(request.body, request.headers) == {"amount": 42}
    assert request.headers["user-agent"].startswith("hookwire/")
    [attempt] = _wait_attempts(svix, app_id, msg.id, 1)
    assert attempt.response_status_code == 200 and len(receiver.requests) == 1


def test_filtered_event_type_is_not_delivered(svix: Svix, receiver: Receiver) -> None:
    app_id, _, _ = _setup(svix, receiver, event_types=["invoice.paid"])
    svix.message.create(app_id, MessageIn(event_type="user.created", payload={"n": 1}))
    wanted = svix.message.create(app_id, MessageIn(event_type="invoice.paid", payload={"n": 2}))

    requests = receiver.wait_for(1)
    assert [r.headers["webhook-id"] for r in requests] == [wanted.id]


def test_a_reused_event_id_is_a_409_naming_the_one_message(svix: Svix, receiver: Receiver) -> None:
    app_id, _, _ = _setup(svix, receiver)
    first = svix.message.create(
        app_id, MessageIn(event_type="invoice.paid", event_id="evt-1", payload={"a": 1})
    )
    with pytest.raises(HttpError) as conflict:
        svix.message.create(app_id, MessageIn(event_type="invoice.paid", event_id="evt-1", payload={"a": 1}))

    assert conflict.value.status_code == 409
    assert first.id in str(conflict.value.detail)
    assert [m.id for m in svix.message.list(app_id).data] == [first.id]


def test_attempts_are_listed_and_resend_delivers_again(svix: Svix, receiver: Receiver) -> None:
    app_id, ep_id, _ = _setup(svix, receiver)
    msg = svix.message.create(app_id, MessageIn(event_type="invoice.paid", payload={"a": 1}))
    receiver.wait_for(1)

    attempts = _wait_attempts(svix, app_id, msg.id, 1)
    assert [a.response_status_code for a in attempts] == [200]
    svix.message_attempt.resend(app_id, msg.id, ep_id)
    second = receiver.wait_for(2)[1]
    assert second.headers["webhook-id"] == msg.id
    attempts = _wait_attempts(svix, app_id, msg.id, 2)
    assert {a.trigger_type for a in attempts} == {0, 1}


def test_rotation_signs_with_old_and_new_secret_during_grace(svix: Svix, receiver: Receiver) -> None:
    app_id, ep_id, old_secret = _setup(svix, receiver)
    svix.endpoint.rotate_secret(app_id, ep_id, EndpointSecretRotateIn(grace_period_seconds=3600))
    new_secret = svix.endpoint.get_secret(app_id, ep_id).key
    assert new_secret != old_secret

    svix.message.create(app_id, MessageIn(event_type="invoice.paid", payload={"r": 1}))
    [request] = receiver.wait_for(1)
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    for secret in (old_secret, new_secret):
        assert standardwebhooks.Webhook(secret).verify(request.body, request.headers) == {"r": 1}
        Webhook(secret).verify(request.body, request.headers)


def _wait_attempts(svix: Svix, app_id: str, msg_id: str, count: int) -> list:  # type: ignore[type-arg]
    return wait_until(
        lambda: svix.message_attempt.list_by_msg(app_id, msg_id, MessageAttemptListByMsgOptions()).data,
        lambda attempts: len(attempts) >= count,
        what=f"{count} attempts",
    )
