"""Messages through the svix SDK: fan-out rules, deduplication, listing filters, get, expunge."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from svix.api import (
    ApplicationIn,
    EndpointIn,
    EventTypeIn,
    MessageCreateOptions,
    MessageGetOptions,
    MessageIn,
    MessageListOptions,
    Svix,
)
from svix.exceptions import HttpError

from tests.api.polling import wait_until
from tests.support.receiver import Receiver


def _app(svix: Svix, *event_types: str) -> str:
    for name in event_types:
        svix.event_type.create(EventTypeIn(name=name, description=name))
    return svix.application.create(ApplicationIn(name="Acme")).id


def _destinations(svix: Svix, app_id: str, msg_id: str) -> list[str]:
    return [d.id for d in svix.message_attempt.list_attempted_destinations(app_id, msg_id).data]


def _pause() -> datetime:
    """An instant at least 5 ms after everything so far and 5 ms before anything that follows."""
    start = datetime.now(UTC)
    wait_until(lambda: datetime.now(UTC), lambda t: t >= start + timedelta(milliseconds=10))
    return start + timedelta(milliseconds=5)


def test_channel_filter_delivers_only_matching_messages(svix: Svix, receiver: Receiver) -> None:
    app_id = _app(svix, "invoice.paid")
    eu_only = svix.endpoint.create(app_id, EndpointIn(url=receiver.url + "/eu", channels=["eu"]))
    everything = svix.endpoint.create(app_id, EndpointIn(url=receiver.url + "/all"))

    eu = svix.message.create(app_id, MessageIn(event_type="invoice.paid", payload={}, channels=["eu"]))
    us = svix.message.create(app_id, MessageIn(event_type="invoice.paid", payload={}, channels=["us"]))
    plain = svix.message.create(app_id, MessageIn(event_type="invoice.paid", payload={}))

    requests = receiver.wait_for(4)
    by_path: dict[str, set[str]] = {}
    for request in requests:
        by_path.setdefault(request.path, set()).add(request.headers["webhook-id"])
    assert by_path == {"/eu": {eu.id}, "/all": {eu.id, us.id, plain.id}}
    assert sorted(_destinations(svix, app_id, eu.id)) == sorted([eu_only.id, everything.id])
    assert _destinations(svix, app_id, us.id) == [everything.id]
    assert _destinations(svix, app_id, plain.id) == [everything.id]


def test_event_id_conflicts_and_idempotency_key_replays(svix: Svix, receiver: Receiver) -> None:
    app_id = _app(svix, "order.placed")
    ep = svix.endpoint.create(app_id, EndpointIn(url=receiver.url))

    # svix 2.x asks for no payload in answers unless with_content is set.
    content = MessageCreateOptions(with_content=True)
    first = svix.message.create(
        app_id, MessageIn(event_type="order.placed", event_id="order-1", payload={"v": 1}), content
    )
    with pytest.raises(HttpError) as repeat:
        svix.message.create(
            app_id, MessageIn(event_type="order.placed", event_id="order-1", payload={"v": 2})
        )
    assert (repeat.value.status_code, repeat.value.code) == (409, "conflict")
    assert first.id in repeat.value.detail  # Svix answers 409; the detail names the stored message

    # The same eventId under the idempotency-key that stored it is a replay, not a conflict.
    replay_key = MessageCreateOptions(idempotency_key="order-1-key", with_content=True)
    stored = svix.message.create(
        app_id, MessageIn(event_type="order.placed", event_id="order-2", payload={"v": 1}), replay_key
    )
    replayed = svix.message.create(
        app_id, MessageIn(event_type="order.placed", event_id="order-2", payload={"v": 1}), replay_key
    )
    assert (replayed.id, replayed.payload) == (stored.id, {"v": 1})

    keyed = MessageCreateOptions(idempotency_key="checkout-7", with_content=True)
    once = svix.message.create(app_id, MessageIn(event_type="order.placed", payload={"k": 1}), keyed)
    twice = svix.message.create(app_id, MessageIn(event_type="order.placed", payload={"k": 2}), keyed)
    assert (twice.id, twice.payload) == (once.id, {"k": 1})

    assert sorted(m.id for m in svix.message.list(app_id).data) == sorted([first.id, stored.id, once.id])
    assert svix.message.get(app_id, "order-1").id == first.id
    delivered = {r.headers["webhook-id"] for r in receiver.wait_for(3)}
    assert delivered == {first.id, stored.id, once.id}
    assert _destinations(svix, app_id, first.id) == [ep.id] == _destinations(svix, app_id, once.id)


def test_message_list_filters_by_type_channel_tag_and_time_and_pages(svix: Svix) -> None:
    app_id = _app(svix, "invoice.paid", "user.created")
    early = [
        svix.message.create(app_id, MessageIn(event_type="invoice.paid", payload={"n": 1}, channels=["x"])),
        svix.message.create(app_id, MessageIn(event_type="user.created", payload={"n": 2}, channels=["axb"])),
    ]
    mark = _pause()
    late = [
        svix.message.create(app_id, MessageIn(event_type="invoice.paid", payload={"n": 3})),
        svix.message.create(
            app_id,
            MessageIn(event_type="user.created", payload={"n": 4}, channels=["x", "y"], tags=["vip"]),
        ),
    ]
    m1, m2, m3, m4 = (m.id for m in early + late)

    def ids(**options: object) -> list[str]:
        return [m.id for m in svix.message.list(app_id, MessageListOptions(**options)).data]  # type: ignore[arg-type]

    assert ids() == sorted([m1, m2, m3, m4], reverse=True)  # newest first
    assert set(ids(event_types=["invoice.paid"])) == {m1, m3}
    assert set(ids(event_types=["invoice.paid", "user.created"])) == {m1, m2, m3, m4}
    assert set(ids(channel="x")) == {m1, m4}
    assert set(ids(channel="y")) == {m4}
    assert set(ids(channel="axb")) == {m2}
    assert ids(channel="a_b") == []  # "_" is no wildcard
    assert set(ids(tag="vip")) == {m4}
    assert set(ids(after=mark)) == {m3, m4}
    assert set(ids(before=mark)) == {m1, m2}
    assert set(ids(after=mark, event_types=["invoice.paid"])) == {m3}

    first = svix.message.list(app_id, MessageListOptions(limit=3))
    assert len(first.data) == 3 and not first.done
    rest = svix.message.list(app_id, MessageListOptions(limit=3, iterator=first.iterator))
    assert rest.done and [m.id for m in first.data + rest.data] == ids()
    assert all(m.payload == {} for m in svix.message.list(app_id).data)  # the SDK's default
    full = svix.message.list(app_id, MessageListOptions(with_content=True)).data
    assert {m.id: m.payload for m in full} == {m1: {"n": 1}, m2: {"n": 2}, m3: {"n": 3}, m4: {"n": 4}}


def test_message_is_found_by_id_and_event_id_and_its_content_can_be_expunged(svix: Svix) -> None:
    app_id = _app(svix, "invoice.paid")
    ep = svix.endpoint.create(app_id, EndpointIn(url="http://127.0.0.1:1/hook"))
    msg = svix.message.create(
        app_id,
        MessageIn(event_type="invoice.paid", event_id="inv-9", payload={"card": "4242"}, tags=["t"]),
    )
    assert msg.id.startswith("msg_") and msg.event_id == "inv-9"
    for key in (msg.id, "inv-9"):
        found = svix.message.get(app_id, key, MessageGetOptions(with_content=True))
        assert (found.id, found.payload, found.tags, found.event_type) == (
            msg.id,
            {"card": "4242"},
            ["t"],
            "invoice.paid",
        )
    assert svix.message.get(app_id, msg.id).payload == {}  # the SDK's default: without content

    svix.message.expunge_content(app_id, msg.id)
    assert svix.message.get(app_id, "inv-9", MessageGetOptions(with_content=True)).payload == {}
    with pytest.raises(HttpError) as gone:
        svix.message_attempt.resend(app_id, msg.id, ep.id)
    assert (gone.value.status_code, gone.value.code) == (400, "bad_request")
    with pytest.raises(HttpError) as missing:
        svix.message.get(app_id, "no-such-message")
    assert missing.value.status_code == 404


def test_message_with_application_creates_the_app_on_the_fly(svix: Svix) -> None:
    svix.event_type.create(EventTypeIn(name="user.created", description="x"))
    svix.message.create(
        "tenant-42",
        MessageIn(event_type="user.created", payload={}, application=ApplicationIn(name="Tenant 42")),
    )
    app = svix.application.get("tenant-42")
    assert (app.uid, app.name) == ("tenant-42", "Tenant 42")

    svix.message.create(
        "tenant-42",
        MessageIn(event_type="user.created", payload={}, application=ApplicationIn(name="Ignored")),
    )
    assert [a.name for a in svix.application.list().data] == ["Tenant 42"]
    assert len(svix.message.list(app.id).data) == 2
    with pytest.raises(HttpError) as unknown:
        svix.message.create("tenant-43", MessageIn(event_type="user.created", payload={}))
    assert unknown.value.status_code == 404
