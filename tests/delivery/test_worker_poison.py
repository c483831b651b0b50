"""A delivery that can never be sent as stored fails with its reason; the worker goes on."""

from __future__ import annotations

import dataclasses

from hookwire.runtime import Runtime
from hookwire.secretbox import SecretBox
from tests.delivery.test_worker import (
    FAIL,
    SUCCESS,
    Workers,
    add_endpoint,
    attempts_of,
    delivery_status,
    send,
)
from tests.support.receiver import Receiver


async def test_an_endpoint_whose_secret_cannot_be_opened_fails_its_deliveries_and_others_are_sent(
    runtime: Runtime, receiver: Receiver, workers: Workers
) -> None:
    # The endpoint's secret was sealed under another HOOKWIRE_SECRET_KEY (e.g. a restored backup).
    other_key = dataclasses.replace(runtime, box=SecretBox("another-secret-key-0123456789abcdefghijk"))
    bad_app, bad_ep = await add_endpoint(other_key, receiver.url + "/bad")
    good_app, good_ep = await add_endpoint(runtime, receiver.url + "/good")
    bad = [await send(runtime, bad_app, {"n": i}) for i in range(3)]
    good = [await send(runtime, good_app, {"n": i}) for i in range(3)]

    await workers.drain(runtime)

    assert sorted(r.path for r in receiver.wait_for(3)) == ["/good"] * 3
    for msg_id in good:
        assert await delivery_status(runtime, msg_id) == {good_ep: SUCCESS}
    for msg_id in bad:
        assert await delivery_status(runtime, msg_id) == {bad_ep: FAIL}
        [attempt] = await attempts_of(runtime, bad_app, msg_id)  # failed once, not retried
        assert attempt["response_status_code"] == 0
        assert "signing secret cannot be used" in attempt["error"]
