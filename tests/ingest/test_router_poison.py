"""One inbound request that cannot be routed never stops the router (SQLite and PostgreSQL)."""

from __future__ import annotations

import dataclasses

import orjson

from hookwire.ingest.destinations import create_app_route
from hookwire.ingest.models import AppRouteIn, IngestSourceIn
from hookwire.ingest.receive import receive
from hookwire.ingest.requests import get_request
from hookwire.ingest.router import BATCH, IngestRouter
from hookwire.ingest.sources import create_source
from hookwire.outbound.applications import create_app
from hookwire.outbound.messages import list_messages
from hookwire.outbound.models import ApplicationIn
from hookwire.runtime import Runtime


async def _accept(rt: Runtime, token: str, body: dict[str, object]) -> str:
    answer = await receive(
        rt,
        token=token,
        method="POST",
        path="",
        query="",
        headers={"content-type": "application/json"},
        body=orjson.dumps(body),
    )
    assert answer.status == 200, answer.body
    return str(orjson.loads(answer.body)["id"])


async def test_a_request_whose_transformation_raises_is_failed_with_the_reason_and_the_rest_are_routed(
    runtime: Runtime,
) -> None:
    rt = dataclasses.replace(runtime, settings=runtime.settings.with_overrides(max_payload_bytes=3000))
    source = await create_source(rt, IngestSourceIn(name="shop", type="generic-webhook", config={}))
    token = source.ingest_url.rsplit("/", 1)[1]
    app, _ = await create_app(rt, ApplicationIn(name="orders"))
    # abs() of a string raises inside JMESPath; three copies of a 1,500-byte note are over the
    # 3,000-byte limit, although the request itself was not.
    await create_app_route(rt, source.id, AppRouteIn(app_id=app.id, transformation="{total: abs(total)}"))
    tripled = "{a: note, b: note, c: note}"
    await create_app_route(rt, source.id, AppRouteIn(app_id=app.id, transformation=tripled))

    poison = await _accept(rt, token, {"total": "not a number", "note": "x"})
    too_big = await _accept(rt, token, {"total": 3, "note": "n" * 1500})
    good = [await _accept(rt, token, {"total": -i, "note": f"ok {i}"}) for i in range(BATCH + 5)]

    router = IngestRouter(rt)
    handled = 0
    for _ in range(10):
        routed = await router.route_due()
        handled += routed
        if not routed:
            break
    assert handled == BATCH + 7

    for request_id, words in ((poison, "abs"), (too_big, "the limit is 3000")):
        failed = await get_request(rt, source.id, request_id)
        assert failed.status == "failed" and failed.routed_at is not None
        assert failed.reason is not None and words in failed.reason, failed.reason
    for request_id in good:
        assert (await get_request(rt, source.id, request_id)).status == "accepted"
    messages = await list_messages(rt, app.id, limit=250, iterator=None)
    assert len(messages.data) == 2 * len(good)
    assert await router.route_due() == 0  # nothing comes back: the failed ones are settled
