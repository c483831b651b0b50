"""Bulk work through the official svix SDK: recover, replay, bulk replay and statistics start
background tasks that can be looked up, with their counts; precheck answers from routing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from svix.api import (
    ApplicationIn,
    AppUsageStatsIn,
    BackgroundTaskListOptions,
    BulkReplayIn,
    EndpointIn,
    EventTypeIn,
    MessageIn,
    MessagePrecheckIn,
    RecoverIn,
    ReplayIn,
    Svix,
)
from svix.exceptions import HTTPValidationError
from svix.models import BackgroundTaskStatus, BackgroundTaskType

from tests.api.polling import wait_until
from tests.support.receiver import Receiver


def _since() -> datetime:
    return datetime.now(UTC) - timedelta(minutes=5)


@pytest.mark.server_env(HOOKWIRE_RETRY_SCHEDULE="100ms")
def test_recover_and_bulk_replay_are_tasks_that_can_be_looked_up(svix: Svix, receiver: Receiver) -> None:
    app = svix.application.create(ApplicationIn(name="Tasks"))
    ep = svix.endpoint.create(app.id, EndpointIn(url=receiver.url + "/hook"))
    receiver.respond(500, 500)  # the first message fails both its attempts
    failed = svix.message.create(app.id, MessageIn(event_type="a.b", payload={"n": 1}))
    wait_until(
        lambda: svix.endpoint.get_stats(app.id, ep.id),
        lambda s: s.fail == 1,
        what="the first message to fail",
    )
    svix.message.create(app.id, MessageIn(event_type="c.d", payload={"n": 2}, channels=["blue"]))
    receiver.wait_for(3)
    wait_until(  # a delivery still being recorded (sending) is not replayed
        lambda: svix.endpoint.get_stats(app.id, ep.id),
        lambda s: s.success == 1,
        what="the second message's attempt to be recorded",
    )

    recovered = svix.endpoint.recover(app.id, ep.id, RecoverIn(since=_since()))
    assert recovered.task == BackgroundTaskType.ENDPOINT_RECOVER
    assert recovered.status == BackgroundTaskStatus.FINISHED
    task = svix.background_task.get(recovered.id)
    assert task.data == {"queued": 1}
    assert [r.headers["webhook-id"] for r in receiver.wait_for(4)][-1] == failed.id

    replay = svix.endpoint.bulk_replay(app.id, ep.id, BulkReplayIn(since=_since(), channel="blue"))
    assert replay.task == BackgroundTaskType.ENDPOINT_BULK_REPLAY
    assert svix.background_task.get(replay.id).data["queued"] == 1
    assert receiver.wait_for(5)[-1].body == b'{"n":2}'

    missing = svix.endpoint.replay_missing(app.id, ep.id, ReplayIn(since=_since()))
    assert svix.background_task.get(missing.id).data == {"queued": 0}

    listed = svix.background_task.list(BackgroundTaskListOptions(task=BackgroundTaskType.ENDPOINT_RECOVER))
    assert [t.id for t in listed.data] == [recovered.id]
    everything = svix.background_task.list(BackgroundTaskListOptions(limit=2))
    assert [t.id for t in everything.data] == [missing.id, replay.id] and not everything.done


def test_statistics_count_messages_per_app_and_event_types_in_use(svix: Svix, receiver: Receiver) -> None:
    app = svix.application.create(ApplicationIn(name="Stats", uid="stats"))
    svix.endpoint.create(app.id, EndpointIn(url=receiver.url))
    for n in range(3):
        svix.message.create(app.id, MessageIn(event_type="invoice.paid", payload={"n": n}))
    receiver.wait_for(3)
    wait_until(
        lambda: svix.endpoint.get_stats(app.id, svix.endpoint.list(app.id).data[0].id),
        lambda s: s.success == 3,
        what="three attempts recorded",
    )

    until = datetime.now(UTC) + timedelta(minutes=1)
    out = svix.statistics.aggregate_app_stats(
        AppUsageStatsIn(since=_since(), until=until, app_ids=["stats", "no-such-app"])
    )
    assert out.unresolved_app_ids == ["no-such-app"]
    usage = svix.background_task.get(out.id).data["apps"]
    assert usage == [{"appId": app.id, "messages": 3, "attempts": 3}]

    types = svix.statistics.aggregate_event_types()
    assert types.task == BackgroundTaskType.EVENT_TYPE_AGGREGATE
    assert svix.background_task.get(types.id).data["eventTypes"] == [
        {"name": "invoice.paid", "declared": False}
    ]

    with pytest.raises(HTTPValidationError):
        svix.statistics.aggregate_app_stats(AppUsageStatsIn(since=_since(), until=until, app_ids=["nope"]))


def test_precheck_says_whether_any_endpoint_would_receive(svix: Svix, receiver: Receiver) -> None:
    app = svix.application.create(ApplicationIn(name="Precheck"))
    assert not svix.message.precheck(app.id, MessagePrecheckIn(event_type="a.b")).active
    svix.event_type.create(EventTypeIn(name="a.b", description="A thing"))
    svix.endpoint.create(app.id, EndpointIn(url=receiver.url, event_types=["a.b"], channels=["red"]))
    assert not svix.message.precheck(app.id, MessagePrecheckIn(event_type="a.b")).active
    assert not svix.message.precheck(app.id, MessagePrecheckIn(event_type="x.y", channels=["red"])).active
    assert svix.message.precheck(app.id, MessagePrecheckIn(event_type="a.b", channels=["red"])).active
