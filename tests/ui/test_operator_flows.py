"""The operator's flows in a real browser: sign in, set up, watch deliveries live, debug, resend."""

from __future__ import annotations

import re
import subprocess
import uuid
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import expect
from svix.api import ApplicationIn, EndpointIn, EventTypeIn, MessageIn, Svix, SvixOptions

from tests.support.receiver import Receiver, Reply
from tests.support.server import HookwireProcess
from tests.ui.conftest import screenshot


def _unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def _mark_no_reload(page: Any) -> None:
    page.evaluate("window.__stillHere = true")


def _assert_no_reload(page: Any) -> None:
    assert page.evaluate("window.__stillHere === true"), "the page was reloaded"


def test_first_sign_in_shows_what_to_do_next(browser: Any, tmp_path: Path) -> None:
    """A new server: the sign-in form, then a home page whose first step can be copied and run."""
    with HookwireProcess(f"sqlite:///{tmp_path}/fresh.db") as server:
        context = browser.new_context(base_url=server.url, permissions=["clipboard-read", "clipboard-write"])
        page = context.new_page()
        page.goto("/")
        page.wait_for_url("**/ui/signin?next=/ui")
        page.get_by_label("Admin token").fill("not-the-token")
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_text("That is not the admin token.")).to_be_visible()
        expect(page.get_by_label("Admin token")).to_have_attribute("aria-invalid", "true")
        screenshot(page, tmp_path, "signin-error")
        page.get_by_label("Admin token").fill(server.token)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url("**/ui")
        cookie = next(c for c in context.cookies() if c["name"] == "hw_session")
        assert cookie["httpOnly"] and cookie["sameSite"] == "Lax" and not cookie["secure"]
        expect(page.get_by_role("heading", name="Send your first webhook")).to_be_visible()
        page.get_by_role("button", name="Copy commands").click()
        copied = page.evaluate("navigator.clipboard.readText()")
        screenshot(page, tmp_path, "home-first-time")
        context.close()

        # The copied commands work as they are, once the token is filled in.
        script = "\n".join([f"export HOOKWIRE_API_TOKEN={server.token}", *copied.splitlines()[1:]])
        subprocess.run(["bash", "-ec", script], check=True, capture_output=True, timeout=30)
        svix = Svix(server.token, SvixOptions(server_url=server.url))
        assert [m.event_type for m in svix.message.list("my-first-app").data] == ["user.signup"]


def test_set_up_in_the_browser_and_watch_the_attempt_arrive_live(
    page: Any, ui_receiver: Receiver, tmp_path: Path
) -> None:
    event_type = _unique("order.paid")
    page.goto("/ui/event-types")
    page.get_by_label("Name").fill(event_type)
    page.get_by_label("Description").fill("An order was paid")
    page.get_by_role("button", name="Add event type").click()
    expect(page.get_by_role("heading", name=event_type)).to_be_visible()

    page.goto("/ui/apps")
    page.get_by_label("Name").fill("Acme (browser test)")
    page.get_by_role("button", name="Create application").click()
    expect(page.get_by_role("heading", name="Acme (browser test)")).to_be_visible()
    page.get_by_label("URL").fill(f"{ui_receiver.url}/acme")
    page.get_by_label("Description").fill("Acme's order webhooks")
    page.get_by_role("button", name="Add endpoint").click()
    expect(page.get_by_text("Endpoint created.")).to_be_visible()
    expect(page.get_by_text("No attempts yet")).to_be_visible()
    expect(page.locator("#live-status")).to_contain_text("Live")

    _mark_no_reload(page)
    page.get_by_label("Send an example of").select_option(event_type)
    page.get_by_role("button", name="Send example").click()
    expect(page.locator("#example-result")).to_contain_text("sent as message")
    row = page.locator("#activity table tbody tr").first
    expect(row).to_contain_text("success")
    expect(page.locator("#health-badge")).to_have_text("healthy")
    _assert_no_reload(page)
    screenshot(page, tmp_path, "endpoint-live-attempt")

    row.get_by_role("link").click()
    expect(page.get_by_role("heading", name=re.compile("Attempt"))).to_be_visible()
    expect(page.locator("#response-body")).to_contain_text('"thanks": "from the receiver"')
    expect(page.get_by_text("webhook-signature")).to_be_visible()
    expect(page.get_by_text("v1,•••••• (masked)")).to_be_visible()
    screenshot(page, tmp_path, "attempt-detail")


def test_failing_receiver_turns_the_badge_red_and_a_resend_succeeds(
    page: Any, svix: Svix, tmp_path: Path
) -> None:
    with Receiver() as receiver:
        receiver.default = Reply(500, {}, b"database is down")
        app = svix.application.create(ApplicationIn(name="Flaky customer"))
        endpoint = svix.endpoint.create(app.id, EndpointIn(url=f"{receiver.url}/hook"))
        page.goto(f"/ui/apps/{app.id}/endpoints/{endpoint.id}")
        expect(page.locator("#live-status")).to_contain_text("Live")
        _mark_no_reload(page)
        msg = svix.message.create(app.id, MessageIn(event_type="invoice.failed", payload={"invoice": 7}))
        expect(page.locator("#health-badge")).to_have_text("failing")
        _assert_no_reload(page)
        screenshot(page, tmp_path, "endpoint-failing")

        receiver.wait_for(4)  # the first try and the three retries of the test schedule
        receiver.default = Reply(200, {}, b"fixed")
        page.locator("#activity table tbody tr").first.get_by_role("link").click()
        expect(page.locator("#response-body")).to_contain_text("database is down")
        page.get_by_role("button", name="Resend").click()
        page.wait_for_url(f"**/endpoints/{endpoint.id}**")
        expect(page.locator("#health-badge")).to_have_text("healthy")
        expect(page.locator("#activity table tbody tr").first).to_contain_text("success")
        assert receiver.requests[-1].headers["webhook-id"] == msg.id
        screenshot(page, tmp_path, "endpoint-recovered")


def test_request_bin_shows_requests_live_copies_them_as_curl_and_replays_them(
    page: Any, ui_server: HookwireProcess, ui_receiver: Receiver, tmp_path: Path
) -> None:
    page.goto("/ui/sources")
    page.get_by_label("Name").fill(_unique("bin"))
    page.get_by_label("Type").select_option("generic-webhook")
    page.get_by_role("button", name="Create source").click()
    ingest_url = page.get_by_label("Ingest URL").input_value()
    assert ingest_url.startswith(ui_server.url + "/in/")
    expect(page.get_by_text("Nothing received yet")).to_be_visible()
    expect(page.locator("#live-status")).to_contain_text("Live")

    _mark_no_reload(page)
    answer = httpx.post(
        ingest_url + "/orders?debug=1", json={"order": 42}, headers={"x-demo": "yes"}, timeout=10
    )
    assert answer.status_code < 300
    request = page.locator("#requests details.request").first
    expect(request).to_contain_text("POST /orders?debug=1")
    expect(request).to_contain_text("accepted")
    expect(request).to_contain_text('"order": 42')
    _assert_no_reload(page)

    request.get_by_role("button", name="Copy as curl").click()
    expect(page.locator("#copy-status")).to_have_text("Copied to the clipboard.")
    curl = page.evaluate("navigator.clipboard.readText()")
    assert curl.startswith("curl -X POST '" + ingest_url + "/orders?debug=1'")
    assert "-H 'x-demo: yes'" in curl and """--data-raw '{"order":42}'""" in curl

    request.get_by_label("Replay to URL").fill(f"{ui_receiver.url}/replayed")
    request.get_by_role("button", name="Replay").click()
    expect(request.get_by_role("status")).to_contain_text("200")
    replayed = ui_receiver.requests[-1]
    assert (replayed.path, replayed.body, replayed.headers["x-demo"]) == ("/replayed", b'{"order":42}', "yes")
    _assert_no_reload(page)
    screenshot(page, tmp_path, "request-bin")


def test_a_form_without_its_csrf_token_is_refused(page: Any, svix: Svix, tmp_path: Path) -> None:
    name = _unique("csrf-probe")
    page.goto("/ui/apps")
    page.evaluate("document.querySelectorAll('input[name=csrf]').forEach(e => e.remove())")
    page.get_by_label("Name").fill(name)
    page.get_by_role("button", name="Create application").click()
    expect(page.get_by_role("heading", name="Form expired")).to_be_visible()
    screenshot(page, tmp_path, "csrf-refused")

    forged = page.request.post("/ui/apps", form={"name": name, "csrf": "not-the-token"}, max_redirects=0)
    assert forged.status == 403
    assert name not in [a.name for a in svix.application.list().data]


def test_the_catalogue_shows_each_event_types_schema_and_examples(page: Any, svix: Svix) -> None:
    name = _unique("user.created")
    schema = {"type": "object", "examples": [{"user": "ada"}]}
    svix.event_type.create(EventTypeIn(name=name, description="A user signed up", schemas={"1": schema}))
    page.goto("/ui/event-types")
    card = page.locator("section", has=page.get_by_role("heading", name=name))
    expect(card).to_contain_text("A user signed up")
    card.get_by_text("Example payload 1").click()
    expect(card.locator("pre").last).to_have_text('{\n  "user": "ada"\n}')
