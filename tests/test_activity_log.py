"""What serve and worker print: one line per event while few, a sum when many, never a secret."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import httpx
import orjson
import pytest
import stripe

from hookwire.activity import Activity, redact_path
from tests.support.receiver import Receiver
from tests.support.server import HookwireProcess


def test_lines_turn_into_a_sum_above_the_rate(caplog: pytest.LogCaptureFixture) -> None:
    activity = Activity(summary_above=10)
    with caplog.at_level(logging.INFO, logger="hookwire.activity"):
        for n in range(1204):
            activity.attempt(
                {"status": 2 if n % 400 == 0 else 0, "msgId": f"msg_{n}", "responseStatusCode": 200}
            )
        summary = activity.flush()
    assert summary is not None and summary.startswith("1,204 deliveries, 4 failed in the last")
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) <= 12  # the first lines of the second, then the sum
    assert lines[-1] == summary


def test_quiet_traffic_is_one_line_each_and_no_sum(caplog: pytest.LogCaptureFixture) -> None:
    activity = Activity(summary_above=50)
    with caplog.at_level(logging.INFO, logger="hookwire.activity"):
        activity.request("GET", "/in/abc123token/orders", 200, 3.2)
        activity.inbound({"requestId": "req_1", "sourceId": "src_1", "status": "rejected"})
        assert activity.flush() is None
    assert [r.getMessage() for r in caplog.records] == [
        "GET /in/***/orders -> 200 (3 ms)",
        "inbound req_1 on src_1: rejected",
    ]
    assert redact_path("/api/v1/app") == "/api/v1/app"


def test_serve_logs_requests_attempts_and_inbound_as_json_lines_without_secrets(
    database_url: str, tmp_path: Path, receiver: Receiver
) -> None:
    log = tmp_path / "hookwire.log"
    receiver.respond(503)
    with HookwireProcess(database_url, log=log, HOOKWIRE_LOG_LEVEL="info") as server:
        api = httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {server.token}"})
        app = api.post("/api/v1/app", json={"name": "a"}).json()
        endpoint = api.post(f"/api/v1/app/{app['id']}/endpoint", json={"url": receiver.url + "/x"}).json()
        secret = api.get(f"/api/v1/app/{app['id']}/endpoint/{endpoint['id']}/secret").json()["key"]
        api.post(f"/api/v1/app/{app['id']}/msg", json={"eventType": "e", "payload": {}})
        receiver.wait_for(2)  # a 503, then the retry
        source = api.post(
            "/ingest/api/v1/source", json={"name": "s", "type": "stripe", "config": {"secret": "whsec_abc"}}
        ).json()
        body = '{"id":"evt_1","type":"invoice.paid"}'
        signature = stripe.WebhookSignature.generate_signature_header(body, "whsec_abc")
        httpx.post(source["ingestUrl"], content=body, headers={"Stripe-Signature": signature})
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and '"kind":"inbound"' not in log.read_text():
            time.sleep(0.1)
    text = log.read_text()
    lines = [orjson.loads(line) for line in text.splitlines() if line.startswith("{")]
    kinds = {line.get("kind") for line in lines}
    assert {"api", "attempt", "inbound"} <= kinds
    failed = [line for line in lines if line.get("kind") == "attempt" and line["failed"]]
    assert failed and failed[0]["responseStatusCode"] == 503 and failed[0]["level"] == "warning"
    ingest_token = source["ingestUrl"].rsplit("/", 1)[1]
    for secret_text in (server.token, secret, "whsec_abc", ingest_token, signature):
        assert secret_text not in text
