"""`hookwire listen` as a developer uses it: real server, real listener subprocess, real local receiver."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest
import standardwebhooks
import stripe

from tests.support.listener import ListenerProcess
from tests.support.receiver import Receiver
from tests.support.server import HookwireProcess

STRIPE_SECRET = "whsec_stripe_listen_test"


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[HookwireProcess]:
    with HookwireProcess(database_url, log=tmp_path / "hookwire.log") as proc:
        yield proc


def _api(server: HookwireProcess) -> httpx.Client:
    return httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {server.token}"}, timeout=30)


def _source(server: HookwireProcess, type_: str, uid: str, config: dict[str, object] | None = None) -> dict:  # type: ignore[type-arg]
    with _api(server) as api:
        answer = api.post(
            "/ingest/api/v1/source", json={"name": uid, "uid": uid, "type": type_, "config": config or {}}
        )
        assert answer.status_code == 201, answer.text
        return answer.json()  # type: ignore[no-any-return]


def _wait_for_forward(server: HookwireProcess, source_id: str, request_id: str) -> dict:  # type: ignore[type-arg]
    """The request's detail once a listener's local answer is stored with it."""
    deadline = time.monotonic() + 10
    with _api(server) as api:
        while True:
            detail = api.get(f"/ingest/api/v1/source/{source_id}/request/{request_id}").json()
            if detail["listenerForwards"] or time.monotonic() > deadline:
                return detail  # type: ignore[no-any-return]
            time.sleep(0.05)


def _listener(server: HookwireProcess, *args: str) -> ListenerProcess:
    return ListenerProcess(*args, url=server.url, token=server.token)


def test_stripe_signed_request_reaches_localhost_within_a_second_and_its_local_status_is_kept(
    server: HookwireProcess, receiver: Receiver
) -> None:
    source = _source(server, "stripe", "stripe-live", {"secret": STRIPE_SECRET})
    receiver.respond(202)
    with _listener(server, "--source", "stripe-live", "--forward-to", receiver.url + "/stripe") as listener:
        listener.wait_for_stderr("Ready!")
        body = '{"id":"evt_listen_1","object":"event","type":"invoice.paid"}'
        header = stripe.WebhookSignature.generate_signature_header(body, STRIPE_SECRET)
        sent = time.time()
        answer = httpx.post(
            source["ingestUrl"] + "/extra?mode=test",
            content=body,
            headers={"Stripe-Signature": header, "content-type": "application/json"},
        )
        assert answer.status_code == 200, answer.text
        [got] = receiver.wait_for(1, timeout=10)
        assert got.at - sent < 1.0, f"took {got.at - sent:.2f}s"
        # byte for byte, with the provider's signature: the local app verifies it as in production
        assert got.body == body.encode()
        event = stripe.Webhook.construct_event(
            got.body.decode(), got.headers["stripe-signature"], STRIPE_SECRET
        )
        assert event["id"] == "evt_listen_1"
        assert (got.method, got.path) == ("POST", "/stripe/extra?mode=test")

        request_id = answer.json()["id"]
        [forward] = _wait_for_forward(server, source["id"], request_id)["listenerForwards"]
        assert forward["status"] == 202 and forward["body"] == "ok"
        assert forward["url"] == receiver.url + "/stripe/extra?mode=test"
        line = next(line for line in listener.stdout if request_id in line)
        assert "[202] POST " + receiver.url + "/stripe/extra?mode=test" in line and "invoice.paid" in line
    assert listener.proc is not None and listener.proc.returncode is not None


def test_a_listener_that_was_away_gets_the_20_events_it_missed_in_order(
    server: HookwireProcess, receiver: Receiver
) -> None:
    source = _source(server, "generic-webhook", "bin")
    listener = _listener(server, "--source", "bin", "--forward-to", receiver.url + "/hook")
    with listener:
        listener.wait_for_stderr("Ready!")  # the server now holds its cursor
    listener.kill()
    for n in range(20):
        assert httpx.post(source["ingestUrl"], json={"n": n}).status_code == 200
    with listener:
        receiver.wait_for(20, timeout=30)
        time.sleep(0.5)  # a duplicate would have arrived by now
    assert [orjson.loads(r.body)["n"] for r in receiver.requests] == list(range(20))


def test_a_listener_reconnects_by_itself_when_the_server_restarts(
    server: HookwireProcess, receiver: Receiver
) -> None:
    source = _source(server, "generic-webhook", "bin")
    with _listener(server, "--source", "bin", "--forward-to", receiver.url + "/hook") as listener:
        listener.wait_for_stderr("Ready!")
        httpx.post(source["ingestUrl"], json={"n": 1})
        receiver.wait_for(1)
        server.terminate()
        listener.wait_for_stderr("lost the connection")
        server.start()
        listener.wait_for_stderr("connected to")
        httpx.post(source["ingestUrl"], json={"n": 2})
        got = receiver.wait_for(2)
        if orjson.loads(got[-1].body)["n"] != 2:  # the documented one duplicate per lost connection
            got = receiver.wait_for(3)
    ns = [orjson.loads(r.body)["n"] for r in got]
    assert ns in ([1, 2], [1, 1, 2])  # in order, nothing lost, at most one duplicate
    assert len([line for line in listener.stderr if "lost the connection" in line]) == 1


def test_app_listener_signs_with_the_printed_secret_so_standard_webhooks_verifies_it(
    server: HookwireProcess, receiver: Receiver
) -> None:
    with _api(server) as api:
        app = api.post("/api/v1/app", json={"name": "billing", "uid": "billing"}).json()
    with _listener(server, "--app", "billing", "--forward-to", receiver.url + "/webhooks") as listener:
        ready = listener.wait_for_stderr("signing secret is")
        secret = ready.split("signing secret is ")[1].split()[0]
        with _api(server) as api:
            api.post(f"/api/v1/app/{app['id']}/msg", json={"eventType": "invoice.paid", "payload": {"a": 1}})
        [got] = receiver.wait_for(1)
    assert got.path == "/webhooks"
    assert standardwebhooks.Webhook(secret).verify(got.body, got.headers) == {"a": 1}
    printed = ListenerProcess("--print-secret", url=server.url, token=server.token)
    with printed:
        assert printed.proc is not None and printed.proc.wait(30) == 0
    assert printed.stdout == [secret]  # stable: scripts can read it once and keep it


def test_events_filter_and_path_map_route_by_event_type(server: HookwireProcess, receiver: Receiver) -> None:
    with _api(server) as api:
        app = api.post("/api/v1/app", json={"name": "shop"}).json()
    args = (
        "--app",
        app["id"],
        "--forward-to",
        receiver.url + "/hook",
        "--events",
        "invoice.*,customer.created",
        "--path-map",
        "invoice.*=/billing",
        "-H",
        "X-Env: local",
    )
    with _listener(server, *args) as listener:
        listener.wait_for_stderr("Ready!")
        with _api(server) as api:
            for event_type in ("invoice.paid", "order.created", "customer.created", "invoice.voided"):
                api.post(f"/api/v1/app/{app['id']}/msg", json={"eventType": event_type, "payload": {}})
        got = receiver.wait_for(3)
        time.sleep(0.5)  # order.created would have arrived by now
    assert [r.path for r in receiver.requests] == ["/billing", "/hook", "/billing"]
    assert all(r.headers["x-env"] == "local" for r in got)


def test_an_unknown_source_or_a_wrong_token_exits_with_the_documented_code(server: HookwireProcess) -> None:
    with _listener(server, "--source", "nope", "--forward-to", "http://127.0.0.1:9/") as missing:
        assert missing.proc is not None and missing.proc.wait(30) == 4
    assert any("nope" in line for line in missing.stderr)
    wrong = ListenerProcess(
        "--source", "x", "--forward-to", "http://127.0.0.1:9/", url=server.url, token="wrong"
    )
    with wrong:
        assert wrong.proc is not None and wrong.proc.wait(30) == 3


def test_under_the_supervisor_listeners_get_inbound_requests_and_messages(
    database_url: str, tmp_path: Path, receiver: Receiver
) -> None:
    """API and workers in separate processes: events cross the supervisor's link."""
    with HookwireProcess(database_url, log=tmp_path / "hookwire.log", HOOKWIRE_PROCESSES="2") as server:
        source = _source(server, "generic-webhook", "bin")
        with _api(server) as api:
            app = api.post("/api/v1/app", json={"name": "billing"}).json()
        inbound = _listener(server, "--source", "bin", "--forward-to", receiver.url + "/in")
        outbound = _listener(server, "--app", app["id"], "--forward-to", receiver.url + "/out")
        with inbound, outbound:
            inbound.wait_for_stderr("Ready!")
            outbound.wait_for_stderr("Ready!")
            httpx.post(source["ingestUrl"], json={"n": 1})
            with _api(server) as api:
                api.post(f"/api/v1/app/{app['id']}/msg", json={"eventType": "e", "payload": {"n": 2}})
            got = receiver.wait_for(2)
    assert sorted(r.path for r in got) == ["/in", "/out"]


def test_replay_reforwards_recent_history_first_and_json_output_marks_it(
    server: HookwireProcess, receiver: Receiver
) -> None:
    source = _source(server, "generic-webhook", "bin")
    args = ("--source", "bin", "--forward-to", receiver.url + "/hook", "--output", "json")
    with _listener(server, *args) as listener:
        listener.wait_for_stderr("Ready!")
        ids = [httpx.post(source["ingestUrl"], json={"n": n}).json()["id"] for n in range(3)]
        receiver.wait_for(3)
        _wait_for_forward(server, source["id"], ids[-1])  # the cursor is past all three
    with _listener(server, *args, "--replay", "2") as again:
        got = receiver.wait_for(5)
        deadline = time.monotonic() + 10
        while len(again.stdout) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
    assert [orjson.loads(r.body)["n"] for r in got] == [0, 1, 2, 1, 2]
    lines = [orjson.loads(line) for line in again.stdout]
    assert [line["replay"] for line in lines] == [True, True]
    assert all(line["status"] == 200 and line["method"] == "POST" for line in lines)
