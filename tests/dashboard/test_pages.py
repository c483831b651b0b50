"""The dashboard over HTTP on both databases: numbers, live events, sessions, CSRF, offline docs."""

from __future__ import annotations

import re

import httpx
import pytest
from svix.api import ApplicationIn, EndpointIn, EventTypeIn, MessageIn, Svix

from tests.api.polling import wait_until
from tests.dashboard.conftest import csrf_of, signed_in
from tests.support.receiver import Receiver
from tests.support.server import HookwireProcess


def _card(page: str, title: str) -> str:
    match = re.search(rf"{re.escape(title)}</div><div class=\"value\">([^<]+)</div>", page)
    assert match, f"no card {title!r}"
    return match.group(1)


def test_home_and_application_pages_count_what_happened(
    svix: Svix, server: HookwireProcess, receiver: Receiver
) -> None:
    app = svix.application.create(ApplicationIn(name="Counted"))
    good = svix.endpoint.create(app.id, EndpointIn(url=f"{receiver.url}/ok"))
    with Receiver() as failing:
        failing.default.status = 500
        bad = svix.endpoint.create(app.id, EndpointIn(url=f"{failing.url}/down"))
        svix.message.create(app.id, MessageIn(event_type="a.b", payload={}))
        failing.wait_for(4)  # the first try and the three retries of the test schedule
    with signed_in(server) as client:
        home = wait_until(lambda: client.get("/ui").text, lambda t: _card(t, "Attempts, last 24 h") == "5")
        assert _card(home, "Success rate, last 24 h") == "20.0%"
        assert f"/ui/apps/{app.id}/endpoints/{bad.id}" in home  # listed under "need attention"
        page = client.get(f"/ui/apps/{app.id}").text
    rows = {
        m.group(1): m.group(2) for m in re.finditer(r'endpoints/(ep_\w+)">.*?class="badge (\w+)"', page, re.S)
    }
    assert rows == {good.id: "healthy", bad.id: "failing"}


# Two processes: the attempt is recorded by the worker process and reaches the API process's stream
# through the event channel's cross-process link, as in a real deployment.
@pytest.mark.server_env(HOOKWIRE_UI_MAX_STREAMS="1", HOOKWIRE_PROCESSES="2")
def test_live_events_stream_to_the_browser_with_a_cap_on_streams(
    svix: Svix, server: HookwireProcess, receiver: Receiver
) -> None:
    app = svix.application.create(ApplicationIn(name="Live"))
    endpoint = svix.endpoint.create(app.id, EndpointIn(url=f"{receiver.url}/live"))
    with signed_in(server) as client, client.stream("GET", "/ui/events", timeout=15) as events:
        assert events.headers["content-type"].startswith("text/event-stream")
        lines = events.iter_lines()
        assert next(lines) == "retry: 3000"
        assert client.get("/ui/events").status_code == 503  # the one allowed stream is taken
        msg = svix.message.create(app.id, MessageIn(event_type="a.b", payload={}))
        seen = [next(lines) for _ in range(3)]
    assert seen[0] == "" and seen[1] == "event: attempt.recorded"
    assert f'"msgId":"{msg.id}"' in seen[2] and f'"endpointId":"{endpoint.id}"' in seen[2]
    # the stream's slot was given back when it closed
    with signed_in(server) as client, client.stream("GET", "/ui/events", timeout=15) as again:
        assert again.status_code == 200


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # no SQL of its own
def test_sessions_csrf_and_offline_docs(server: HookwireProcess) -> None:
    anonymous = httpx.get(f"{server.url}/ui/apps", timeout=10)
    assert anonymous.status_code == 303 and anonymous.headers["location"] == "/ui/signin?next=/ui/apps"
    forged = httpx.get(f"{server.url}/ui/apps", cookies={"hw_session": "9999999999.x.deadbeef"}, timeout=10)
    assert forged.status_code == 303
    with signed_in(server) as client:
        assert client.post("/ui/apps", data={"name": "no token"}).status_code == 403
        assert client.post("/ui/apps", data={"name": "bad token", "csrf": "x" * 32}).status_code == 403
        csrf = csrf_of(client.get("/ui/apps").text)
        made = client.post("/ui/apps", data={"name": "with token", "csrf": csrf})
        assert made.status_code == 303 and made.headers["location"].startswith("/ui/apps/app_")
        assert client.get("/ui/signin?next=//evil.example").text.count('value="/ui"') == 1  # no open redirect
        for page in ("/ui", "/ui/apps", "/ui/event-types", "/ui/sources", "/ui/automations"):
            assert client.get(page).status_code == 200, page
    # Behind a TLS-terminating proxy; httpx keeps Secure cookies to itself over http, so send it by hand.
    proxied = {"x-forwarded-proto": "https"}
    csrf = csrf_of(httpx.get(f"{server.url}/ui/signin", headers=proxied, timeout=10).text)
    answer = httpx.post(
        f"{server.url}/ui/signin",
        data={"csrf": csrf, "token": server.token, "next": "/ui"},
        headers={**proxied, "cookie": f"hw_csrf={csrf}"},
        timeout=10,
    )
    assert answer.status_code == 303
    cookie = answer.headers["set-cookie"].lower()
    assert (
        "hw_session=" in cookie and "secure" in cookie and "httponly" in cookie and "samesite=lax" in cookie
    )

    # API docs and their assets come from this server, not a CDN.
    assert httpx.get(f"{server.url}/", timeout=10).headers["location"] == "/ui"
    for path in ("/docs", "/redoc"):
        page = httpx.get(server.url + path, timeout=10).text
        sources = re.findall(r'(?:src|href)="([^"]+)"', page)
        assert sources and all(
            s.startswith("/ui/static/vendor/") or s.startswith("/ui/static/") for s in sources
        )
        for source in sources:
            assert httpx.get(server.url + source, timeout=10).status_code == 200, source


@pytest.mark.server_env(HOOKWIRE_ALLOW_PRIVATE_TARGETS="false")
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # no SQL of its own
def test_replaying_a_captured_request_obeys_the_ssrf_guard(svix: Svix, server: HookwireProcess) -> None:
    headers = {"authorization": f"Bearer {server.token}"}
    with httpx.Client(base_url=server.url, headers=headers, timeout=10) as api:
        source = api.post("/ingest/api/v1/source", json={"name": "bin", "type": "generic-webhook"}).json()
        assert httpx.post(source["ingestUrl"], json={"a": 1}, timeout=10).status_code < 300
        captured = api.get(f"/ingest/api/v1/source/{source['id']}/request").json()["data"][0]
        replay = f"/ingest/api/v1/source/{source['id']}/request/{captured['id']}/replay"
        refused = api.post(replay, json={"url": f"{server.url}/in/elsewhere"})
        assert refused.status_code == 422 and "refusing to connect to 127.0.0.1" in refused.text
        assert api.post(replay, json={"url": "ftp://example.com/"}).status_code == 422


def test_messages_page_filters_by_delivery_status(
    svix: Svix, server: HookwireProcess, receiver: Receiver
) -> None:
    app = svix.application.create(ApplicationIn(name="Filtered"))
    for name in ("good", "bad"):
        svix.event_type.create(EventTypeIn(name=name, description=f"a {name} one"))
    svix.endpoint.create(app.id, EndpointIn(url=f"{receiver.url}/ok", event_types=["good"]))
    with Receiver() as failing:
        failing.default.status = 500
        svix.endpoint.create(app.id, EndpointIn(url=f"{failing.url}/down", event_types=["bad"]))
        good = svix.message.create(app.id, MessageIn(event_type="good", payload={}))
        bad = svix.message.create(app.id, MessageIn(event_type="bad", payload={}))
        failing.wait_for(4)  # the first try and the three retries of the test schedule
    receiver.wait_for(1)
    with signed_in(server) as client:

        def listed(status: str) -> set[str]:
            page = client.get(f"/ui/apps/{app.id}/messages", params={"status": status}).text
            return set(re.findall(r"messages/(msg_\w+)\"", page))

        assert wait_until(lambda: listed("failed"), lambda ids: ids == {bad.id}) == {bad.id}
        assert listed("succeeded") == {good.id}
        assert listed("") == {good.id, bad.id}
        assert listed("no-such-status") == {good.id, bad.id}  # an unknown value is "any", not an error
