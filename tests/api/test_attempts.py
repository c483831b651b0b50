"""Attempts through the svix SDK: by message, by endpoint, attempted messages and destinations."""

from __future__ import annotations

import pytest
from svix.api import (
    ApplicationIn,
    EndpointIn,
    EventTypeIn,
    MessageAttemptListAttemptedMessagesOptions,
    MessageAttemptListByEndpointOptions,
    MessageAttemptListByMsgOptions,
    MessageIn,
    MessageStatus,
    Svix,
)
from svix.exceptions import HttpError

from tests.api.polling import wait_until
from tests.support.receiver import Receiver, Reply


def test_each_try_is_an_attempt_listed_by_message_endpoint_and_destination(
    svix: Svix, receiver: Receiver
) -> None:
    svix.event_type.create(EventTypeIn(name="invoice.paid", description="x"))
    app_id = svix.application.create(ApplicationIn(name="Acme")).id
    ep = svix.endpoint.create(app_id, EndpointIn(url=receiver.url + "/hook", uid="billing"))
    receiver.respond(Reply(status=500, body=b"boom"))  # then 200 "ok" on the retry
    msg = svix.message.create(app_id, MessageIn(event_type="invoice.paid", payload={"n": 1}))

    def by_msg(**options: object) -> list:  # type: ignore[type-arg]
        opts = MessageAttemptListByMsgOptions(**options)  # type: ignore[arg-type]
        return svix.message_attempt.list_by_msg(app_id, msg.id, opts).data

    retried, failed = wait_until(by_msg, lambda a: len(a) == 2, what="two attempts")
    assert (retried.status, retried.response_status_code, retried.response) == (
        MessageStatus.SUCCESS,
        200,
        "ok",
    )
    assert (failed.status, failed.response_status_code, failed.response) == (MessageStatus.FAIL, 500, "boom")
    for attempt in (retried, failed):
        assert attempt.id.startswith("atmpt_")
        assert (attempt.msg_id, attempt.endpoint_id, attempt.url) == (msg.id, ep.id, receiver.url + "/hook")
        assert attempt.trigger_type == 0  # scheduled, not manual
    assert [a.id for a in by_msg(status=MessageStatus.FAIL)] == [failed.id]
    assert [a.id for a in by_msg(endpoint_id="billing")] == [retried.id, failed.id]

    by_endpoint = svix.message_attempt.list_by_endpoint(
        app_id, "billing", MessageAttemptListByEndpointOptions()
    )
    assert [a.id for a in by_endpoint.data] == [retried.id, failed.id]
    one = svix.message_attempt.list_by_endpoint(app_id, ep.id, MessageAttemptListByEndpointOptions(limit=1))
    assert [a.id for a in one.data] == [retried.id] and not one.done

    [sent] = svix.message_attempt.list_attempted_messages(
        app_id, ep.id, MessageAttemptListAttemptedMessagesOptions()
    ).data
    assert (sent.id, sent.status, sent.payload, sent.next_attempt) == (
        msg.id,
        MessageStatus.SUCCESS,
        {"n": 1},
        None,
    )
    [destination] = svix.message_attempt.list_attempted_destinations(app_id, msg.id).data
    assert (destination.id, destination.uid, destination.status) == (ep.id, "billing", MessageStatus.SUCCESS)

    assert svix.message_attempt.get(app_id, msg.id, failed.id) == failed
    with pytest.raises(HttpError) as missing:
        svix.message_attempt.get(app_id, msg.id, "atmpt_doesnotexist")
    assert missing.value.status_code == 404
