"""msg/bulk-expunge and msg/expunge-all-contents through the official svix SDK."""

from __future__ import annotations

from typing import Any

import httpx
from svix.api import ApplicationIn, BulkExpungeContentsIn, MessageIn
from svix.models import BackgroundTaskType

from tests.operations.conftest import ServeFn, sdk
from tests.support.server import HookwireProcess


def _payload(server: HookwireProcess, app_id: str, msg_id: str) -> Any:
    """The stored payload as the API returns it (the SDK's model does not keep it)."""
    answer = httpx.get(
        f"{server.url}/api/v1/app/{app_id}/msg/{msg_id}", headers={"authorization": f"Bearer {server.token}"}
    )
    return answer.json()["payload"]


def test_bulk_expunge_answers_per_key_and_drops_only_those_payloads(serve: ServeFn) -> None:
    server = serve()
    svix = sdk(server)
    app = svix.application.create(ApplicationIn(name="Acme"))
    first = svix.message.create(
        app.id, MessageIn(event_type="a.b", event_id="evt-1", payload={"card": "4242"})
    )
    second = svix.message.create(app.id, MessageIn(event_type="a.b", payload={"card": "1111"}))
    kept = svix.message.create(app.id, MessageIn(event_type="a.b", payload={"keep": True}))

    out = svix.message.bulk_expunge_content(app.id, BulkExpungeContentsIn(ids=["evt-1", second.id, "nope"]))

    assert {k: v.value for k, v in out.results.items()} == {
        "evt-1": "expunged",
        second.id: "expunged",
        "nope": "not-found",
    }
    assert _payload(server, app.id, first.id) == {}
    assert _payload(server, app.id, second.id) == {}
    assert _payload(server, app.id, kept.id) == {"keep": True}


def test_expunge_all_contents_is_a_finished_purge_task(serve: ServeFn) -> None:
    server = serve()
    svix = sdk(server)
    app = svix.application.create(ApplicationIn(name="Acme"))
    other = svix.application.create(ApplicationIn(name="Other"))
    ids = [svix.message.create(app.id, MessageIn(event_type="a.b", payload={"n": i})).id for i in range(3)]
    untouched = svix.message.create(other.id, MessageIn(event_type="a.b", payload={"n": 9}))

    task = svix.message.expunge_all_contents(app.id)

    assert task.id.startswith("qtask_") and task.task == BackgroundTaskType.APPLICATION_PURGE_CONTENT
    assert svix.background_task.get(task.id).data == {"messagesExpunged": 3}
    assert all(_payload(server, app.id, i) == {} for i in ids)
    assert _payload(server, other.id, untouched.id) == {"n": 9}
