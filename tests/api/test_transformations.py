"""Endpoint transformations through the official svix SDK: the JavaScript handler changes what is
sent (and signed), and one that loops forever, allocates without bound, throws or cancels is
stopped and recorded on its attempt while the other endpoints keep receiving."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from svix.api import (
    ApplicationIn,
    EndpointIn,
    EventTypeIn,
    MessageAttemptListByEndpointOptions,
    MessageIn,
    Svix,
)
from svix.exceptions import HTTPValidationError
from svix.models import (
    EndpointTransformationPatch,
    IngestEndpointIn,
    IngestEndpointTransformationPatch,
    IngestSourceIn,
    MessageStatus,
)
from svix.webhooks import Webhook

from tests.api.polling import wait_until
from tests.support.receiver import Receiver

RESHAPE = """
function handler(webhook) {
  webhook.method = "PUT";
  webhook.url = webhook.url + "/reshaped";
  webhook.headers["X-Plan"] = webhook.variables.plan;
  webhook.payload = { text: "paid " + webhook.payload.amount, type: webhook.eventType };
  return webhook;
}
"""
BROKEN = {
    "loops": "function handler(webhook) { while (true) {} }",
    "hogs": "function handler(webhook) { const a = []; while (true) a.push('x'.repeat(1 << 20) + a.length) }",
    "throws": "function handler(webhook) { throw new Error('no such customer'); }",
    "cancels": "function handler(webhook) { webhook.cancel = true; return webhook; }",
}


def _simulate(svix: Svix, app_id: str, endpoint_id: str, body: dict[str, Any]) -> Any:
    """POST …/transformation/simulate through the SDK's own request code (2.9.x has no method for it)."""
    api = svix.endpoint.transformation
    return api._request_sync(
        method="post",
        path="/api/v1/app/{app_id}/endpoint/{endpoint_id}/transformation/simulate",
        path_params={"app_id": app_id, "endpoint_id": endpoint_id},
        json_body=json.dumps(body),
    ).json()


@pytest.mark.server_env(HOOKWIRE_RETRY_SCHEDULE="1h", HOOKWIRE_TRANSFORMATION_TIME_LIMIT="0.2")
def test_transformation_reshapes_the_request_and_broken_ones_are_recorded(
    svix: Svix, receiver: Receiver
) -> None:
    app = svix.application.create(ApplicationIn(name="Transformed"))
    svix.event_type.create(EventTypeIn(name="invoice.paid", description="paid"))
    good = svix.endpoint.create(app.id, EndpointIn(url=receiver.url + "/good"))
    svix.endpoint.transformation.patch(
        app.id, good.id, EndpointTransformationPatch(code=RESHAPE, enabled=True, variables={"plan": "pro"})
    )
    stored = svix.endpoint.transformation.get(app.id, good.id)
    assert stored.code == RESHAPE and stored.enabled and stored.variables == {"plan": "pro"}

    simulated = _simulate(
        svix,
        app.id,
        good.id,
        {"code": RESHAPE, "eventType": "invoice.paid", "payload": {"amount": 3}, "variables": {"plan": "x"}},
    )
    assert simulated == {
        "url": receiver.url + "/good/reshaped",
        "payload": '{"text":"paid 3","type":"invoice.paid"}',
        "method": "PUT",
        "cancel": False,
    }
    with pytest.raises(HTTPValidationError):
        _simulate(
            svix, app.id, good.id, {"code": BROKEN["throws"], "eventType": "invoice.paid", "payload": {}}
        )

    broken = {}
    for name, code in BROKEN.items():
        ep = svix.endpoint.create(app.id, EndpointIn(url=f"{receiver.url}/{name}"))
        svix.endpoint.transformation.patch(
            app.id, ep.id, EndpointTransformationPatch(code=code, enabled=True)
        )
        broken[name] = ep.id
    svix.endpoint.create(app.id, EndpointIn(url=receiver.url + "/plain"))

    for amount in (1, 2):
        svix.message.create(app.id, MessageIn(event_type="invoice.paid", payload={"amount": amount}))
    requests = receiver.wait_for(4, timeout=60)
    by_path: dict[str, list[Any]] = {}
    for request in requests:
        by_path.setdefault(request.path, []).append(request)
    assert set(by_path) == {"/good/reshaped", "/plain"}
    first = by_path["/good/reshaped"][0]
    assert first.method == "PUT" and first.headers["x-plan"] == "pro"
    secret = svix.endpoint.get_secret(app.id, good.id).key
    Webhook(secret).verify(first.body, first.headers)  # the transformed body is what is signed
    assert json.loads(first.body) in ({"text": f"paid {n}", "type": "invoice.paid"} for n in (1, 2))
    assert [r.body for r in by_path["/plain"]] in (
        [b'{"amount":1}', b'{"amount":2}'],
        [b'{"amount":2}', b'{"amount":1}'],
    )

    expected = {
        "loops": "CPU-time limit",
        "hogs": "memory limit",
        "throws": "no such customer",
        "cancels": "canceled by the endpoint's transformation",
    }
    for name, endpoint_id in broken.items():
        attempts = wait_until(
            lambda endpoint_id=endpoint_id: (
                svix.message_attempt.list_by_endpoint(
                    app.id, endpoint_id, MessageAttemptListByEndpointOptions()
                ).data
            ),
            lambda found: len(found) == 2,
            timeout=60,
            what=f"two recorded attempts on the {name} endpoint",
        )
        for attempt in attempts:
            assert expected[name] in attempt.response, (name, attempt.response)
            wanted = MessageStatus.CANCELED if name == "cancels" else MessageStatus.FAIL
            assert attempt.status == wanted, (name, attempt.status)


def test_ingest_endpoint_transformation_reshapes_the_forwarded_body(
    svix: Svix, receiver: Receiver, server: Any
) -> None:
    source = svix.ingest.source.create(IngestSourceIn(name="bin", type="generic-webhook", config={}))  # type: ignore[arg-type]
    forward = svix.ingest.endpoint.create(source.id, IngestEndpointIn(url=receiver.url + "/fwd"))
    code = "function handler(webhook) { webhook.payload = { wrapped: webhook.payload }; return webhook; }"
    svix.ingest.endpoint.transformation.patch(
        source.id, forward.id, IngestEndpointTransformationPatch(code=code, enabled=True)
    )
    stored = svix.ingest.endpoint.transformation.get(source.id, forward.id)
    assert stored.code == code and stored.enabled

    httpx.post(source.ingest_url or "", json={"order": 7}, timeout=10)
    [request] = receiver.wait_for(1, timeout=30)
    assert json.loads(request.body) == {"wrapped": {"order": 7}}
