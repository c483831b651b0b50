"""The receive path as a provider meets it: dedupe under concurrency, the request bin, rejects kept."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

import httpx
from svix.api import IngestEndpointIn, IngestSourceIn, Svix
from svix.webhooks import Webhook

from tests.support.receiver import Receiver
from tests.support.server import HookwireProcess

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def _admin(server: HookwireProcess) -> dict[str, str]:
    return {"Authorization": f"Bearer {server.token}"}


def _requests(server: HookwireProcess, source_id: str, **params: str) -> list[dict[str, object]]:
    answer = httpx.get(
        f"{server.url}/ingest/api/v1/source/{source_id}/request", headers=_admin(server), params=params
    )
    assert answer.status_code == 200, answer.text
    return answer.json()["data"]  # type: ignore[no-any-return]


def test_same_delivery_sent_1000_times_by_50_clients_is_stored_and_forwarded_once(
    svix: Svix, receiver: Receiver, server: HookwireProcess
) -> None:
    source = svix.ingest.source.create(IngestSourceIn(name="svix in", type="svix", config={"secret": SECRET}))  # type: ignore[arg-type]
    svix.ingest.endpoint.create(source.id, IngestEndpointIn(url=receiver.url + "/forward"))
    body = '{"type":"order.created","data":{"id":7}}'
    now = datetime.now(UTC)
    headers = {
        "webhook-id": "msg_same_delivery",
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Webhook(SECRET).sign("msg_same_delivery", now, body),
    }

    async def blast() -> list[int]:
        limits = httpx.Limits(max_connections=50)
        async with httpx.AsyncClient(limits=limits, timeout=30) as client:
            gate = asyncio.Semaphore(50)

            async def one() -> int:
                async with gate:
                    try:
                        response = await client.post(source.ingest_url or "", content=body, headers=headers)
                    except httpx.ReadError:
                        # A kept-alive connection dropped under a loaded CI machine (seen about once
                        # in four full runs, not reproduced alone; an open question in the issue's
                        # note). A provider resends such a delivery; the dedupe under test is the same.
                        response = await client.post(source.ingest_url or "", content=body, headers=headers)
                    return response.status_code

            return await asyncio.gather(*(one() for _ in range(1000)))

    statuses = asyncio.run(blast())
    assert statuses.count(200) == 1000
    [forward] = receiver.wait_for(1)
    assert forward.body == body.encode()
    accepted = _requests(server, source.id, status="accepted")
    assert [r["eventId"] for r in accepted] == ["msg_same_delivery"]
    time.sleep(0.5)  # a second forward would have arrived by now
    assert len(receiver.requests) == 1


def test_request_bin_captures_a_put_with_query_and_headers_exactly(
    svix: Svix, server: HookwireProcess
) -> None:
    source = svix.ingest.source.create(IngestSourceIn(name="bin", type="generic-webhook", config={}))  # type: ignore[arg-type]
    answer = httpx.put(
        f"{source.ingest_url}/orders/42?expand=items&flag",
        content=b"\x00binary\xff",
        headers={"X-Custom": "Value 1", "content-type": "application/octet-stream"},
    )
    assert answer.status_code == 200
    [captured] = _requests(server, source.id)
    assert captured["method"] == "PUT"
    assert captured["path"] == "/orders/42"
    assert captured["query"] == "expand=items&flag"
    assert captured["headers"]["x-custom"] == "Value 1"  # type: ignore[index]
    assert captured["bodyBase64"] == "AGJpbmFyef8="


def test_forged_request_is_kept_as_rejected_and_not_forwarded(
    svix: Svix, receiver: Receiver, server: HookwireProcess
) -> None:
    source = svix.ingest.source.create(IngestSourceIn(name="gh", type="github", config={"secret": "s3cret"}))  # type: ignore[arg-type]
    svix.ingest.endpoint.create(source.id, IngestEndpointIn(url=receiver.url))
    answer = httpx.post(
        source.ingest_url or "", content=b'{"zen":"x"}', headers={"X-Hub-Signature-256": "sha256=" + "0" * 64}
    )
    assert answer.status_code == 401
    [kept] = _requests(server, source.id)
    assert kept["status"] == "rejected" and kept["reason"]
    assert receiver.requests == []


def test_slack_url_verification_is_answered_with_the_challenge(svix: Svix, server: HookwireProcess) -> None:
    from slack_sdk.signature import SignatureVerifier

    source = svix.ingest.source.create(IngestSourceIn(name="slack", type="slack", config={"secret": "sss"}))  # type: ignore[arg-type]
    challenge = "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"
    body = f'{{"token":"t","challenge":"{challenge}","type":"url_verification"}}'
    ts = str(int(time.time()))
    signature = SignatureVerifier("sss").generate_signature(timestamp=ts, body=body)
    answer = httpx.post(
        source.ingest_url or "",
        content=body,
        headers={"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature},
    )
    assert answer.status_code == 200
    assert answer.json() == {"challenge": challenge}


def test_rotating_the_token_changes_the_url_and_retires_the_old_one(
    svix: Svix, server: HookwireProcess
) -> None:
    source = svix.ingest.source.create(IngestSourceIn(name="bin", type="generic-webhook", config={}))  # type: ignore[arg-type]
    rotated = svix.ingest.source.rotate_token(source.id)
    assert rotated.ingest_url != source.ingest_url
    assert httpx.post(source.ingest_url or "", content=b"{}").status_code == 404
    assert httpx.post(rotated.ingest_url, content=b"{}").status_code == 200


def test_stripe_events_route_into_an_application_as_messages(
    svix: Svix, receiver: Receiver, server: HookwireProcess
) -> None:
    import stripe
    from svix.api import ApplicationIn, EndpointIn

    app = svix.application.create(ApplicationIn(name="customers"))
    svix.endpoint.create(app.id, EndpointIn(url=receiver.url + "/customer", event_types=None))
    source = svix.ingest.source.create(
        IngestSourceIn(name="stripe", type="stripe", config={"secret": "whsec_x"})
    )  # type: ignore[arg-type]
    route = httpx.post(
        f"{server.url}/ingest/api/v1/source/{source.id}/app-route",
        headers=_admin(server),
        json={
            "appId": app.id,
            "eventTypeMap": {"invoice.paid": "billing.invoice_paid"},
            "filter": "data.object.amount > `100`",
            "transformation": "{invoice: data.object.id, amount: data.object.amount}",
        },
    )
    assert route.status_code == 201, route.text
    for event_id, amount in (("evt_small", 50), ("evt_big", 500)):
        obj = f'{{"id":"in_1","amount":{amount}}}'
        body = f'{{"id":"{event_id}","type":"invoice.paid","data":{{"object":{obj}}}}}'
        header = stripe.WebhookSignature.generate_signature_header(body, "whsec_x")
        assert (
            httpx.post(
                source.ingest_url or "", content=body, headers={"Stripe-Signature": header}
            ).status_code
            == 200
        )

    [delivered] = receiver.wait_for(1)
    assert delivered.body == b'{"invoice":"in_1","amount":500}'
    [message] = svix.message.list(app.id).data
    assert message.event_type == "billing.invoice_paid"
