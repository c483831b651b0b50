"""/metrics after a real run shows what the run did; /healthz and /readyz answer load balancers."""

from __future__ import annotations

import sqlite3

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from svix.api import ApplicationIn, EndpointIn, IngestSourceIn, MessageIn

from tests.api.polling import wait_until
from tests.operations.conftest import ServeFn, sdk
from tests.support.receiver import Receiver


def _scrape(url: str, **headers: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    answer = httpx.get(f"{url}/metrics", headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(answer.text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def _value(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.mark.parametrize("processes", ["1", "3"])  # all in one; a supervisor with API and worker apart
def test_metrics_count_a_sample_run(serve: ServeFn, receiver: Receiver, processes: str) -> None:
    server = serve(
        HOOKWIRE_RETRY_SCHEDULE="100ms", HOOKWIRE_CIRCUIT_BREAKER_FAILURES="0", HOOKWIRE_PROCESSES=processes
    )
    svix = sdk(server)
    app = svix.application.create(ApplicationIn(name="Acme"))
    good = svix.endpoint.create(app.id, EndpointIn(url=receiver.url + "/ok"))
    with Receiver() as failing:
        failing.default.status = 500
        svix.endpoint.create(app.id, EndpointIn(url=failing.url, event_types=None, channels=["bad"]))
        sent = [svix.message.create(app.id, MessageIn(event_type="a.b", payload={"n": i})) for i in range(5)]
        bad = svix.message.create(app.id, MessageIn(event_type="a.b", payload={"n": 9}, channels=["bad"]))
        for msg in sent:
            wait_until(
                lambda m=msg: svix.message_attempt.list_by_msg(app.id, m.id).data,  # type: ignore[misc]
                lambda attempts: len(attempts) >= 1,
                what="an attempt per message",
            )
        wait_until(
            lambda: svix.message_attempt.list_by_msg(app.id, bad.id).data,
            lambda attempts: len([a for a in attempts if a.response_status_code == 500]) >= 2,
            what="the bad message's two failed attempts",
        )
    source = svix.ingest.source.create(IngestSourceIn(name="bin", type="generic-webhook", config={}))  # type: ignore[arg-type]
    assert httpx.post(source.ingest_url, content=b"{}").status_code == 200

    samples = _scrape(server.url)  # no token needed by default
    assert _value(samples, "hookwire_deliveries_total", outcome="success", status_class="2xx") == 6
    assert _value(samples, "hookwire_deliveries_total", outcome="failure", status_class="5xx") == 1
    assert _value(samples, "hookwire_deliveries_total", outcome="exhausted", status_class="5xx") == 1
    assert _value(samples, "hookwire_attempt_duration_seconds_count") == 8
    assert _value(samples, "hookwire_message_to_success_seconds_count") == 6
    assert (
        _value(samples, "hookwire_inbound_requests_total", source_type="generic-webhook", outcome="accepted")
        == 1
    )
    created = _value(
        samples, "hookwire_api_requests_total", method="POST", route="/api/v1/app/{app_id}/msg", status="202"
    )
    assert created == 6
    assert _value(samples, "hookwire_queue_depth") == 0
    assert _value(samples, "hookwire_disabled_endpoints") == 0
    assert ("hookwire_open_circuits", ()) in samples
    assert good.id not in str(samples)  # no per-endpoint labels unless asked for


def test_metrics_can_require_the_admin_token(serve: ServeFn) -> None:
    server = serve(HOOKWIRE_METRICS_REQUIRE_TOKEN="true")
    answer = httpx.get(f"{server.url}/metrics")
    assert answer.status_code == 401 and answer.json()["code"] == "authentication_failed"
    samples = _scrape(server.url, authorization=f"Bearer {server.token}")
    assert ("hookwire_queue_depth", ()) in samples


def test_health_and_readiness_answer_without_a_token(serve: ServeFn, database_url: str) -> None:
    server = serve()
    assert httpx.get(f"{server.url}/healthz").json() == {"status": "ok"}
    assert httpx.get(f"{server.url}/readyz").json() == {"status": "ok"}
    if not database_url.startswith("sqlite"):
        pytest.skip("forgetting a migration is shown on the SQLite file")
    with sqlite3.connect(database_url.removeprefix("sqlite:///")) as db:
        db.execute("DELETE FROM schema_migrations WHERE version = 4")
    answer = httpx.get(f"{server.url}/readyz")
    assert answer.status_code == 503
    assert answer.json() == {
        "status": "unavailable",
        "reason": "migrations pending: 0004 (run `hookwire migrate`)",
    }
    assert httpx.get(f"{server.url}/healthz").status_code == 200  # alive, just not ready
