"""The customer portal in a real browser, opened from links made by the official Svix SDK."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import expect
from svix.api import (
    ApplicationIn,
    ApplicationTokenExpireIn,
    AppPortalAccessIn,
    EndpointIn,
    EventTypeIn,
    Svix,
)

from tests.support.receiver import Receiver
from tests.support.server import HookwireProcess
from tests.ui.conftest import screenshot


def _app_with_endpoint(svix: Svix, name: str, url: str) -> tuple[str, str]:
    app = svix.application.create(ApplicationIn(name=name))
    endpoint = svix.endpoint.create(app.id, EndpointIn(url=url, description=f"{name}'s endpoint"))
    return app.id, endpoint.id


def test_a_portal_link_shows_one_application_and_nothing_else(
    svix: Svix, fresh_context: Any, ui_receiver: Receiver, ui_server: HookwireProcess, tmp_path: Path
) -> None:
    tag = uuid.uuid4().hex[:6]
    app_a, endpoint_a = _app_with_endpoint(svix, f"Customer A {tag}", f"{ui_receiver.url}/a-{tag}")
    _, endpoint_b = _app_with_endpoint(svix, f"Customer B {tag}", f"{ui_receiver.url}/b-{tag}")
    svix.event_type.create(EventTypeIn(name=f"shipment.sent-{tag}", description="A parcel left"))
    access = svix.authentication.app_portal_access(app_a, AppPortalAccessIn())
    assert access.url.startswith(ui_server.url + "/portal/login#key=")

    page = fresh_context.new_page()
    page.goto(access.url)
    page.wait_for_url("**/portal")
    expect(page.get_by_role("link", name=f"{ui_receiver.url}/a-{tag}")).to_be_visible()
    expect(page.get_by_text(f"/b-{tag}")).to_have_count(0)
    expect(page.get_by_role("heading", name="Add endpoint")).to_be_visible()
    screenshot(page, tmp_path, "portal-endpoints")

    assert page.goto(f"/portal/endpoints/{endpoint_b}").status == 404
    assert page.goto(f"/ui/apps/{app_a}").status == 404  # an operator URL, seen with a portal session
    assert page.goto("/ui").status == 404
    screenshot(page, tmp_path, "portal-other-app-404")

    # The token itself opens nothing on the operator API.
    refused = httpx.get(f"{ui_server.url}/api/v1/app", headers={"authorization": f"Bearer {access.token}"})
    assert refused.status_code == 401

    page.goto(f"/portal/endpoints/{endpoint_a}")
    expect(page.get_by_role("heading", name="Edit")).to_be_visible()
    page.get_by_role("button", name="Reveal secret").click()
    expect(page.locator("#secret-value")).to_contain_text("whsec_")
    page.get_by_role("link", name="Testing").click()
    page.get_by_label("Event type").select_option(f"shipment.sent-{tag}")
    page.get_by_role("button", name="Send example").click()
    page.wait_for_url("**tab=logs")
    expect(page.locator("#activity table tbody tr").first).to_contain_text("success")
    expect(page.locator("#live-status")).to_contain_text("Live:")
    screenshot(page, tmp_path, "portal-logs")
    page.locator("#activity table tbody tr").first.get_by_role("link").click()
    expect(page.locator("#response-body")).to_contain_text("from the receiver")
    screenshot(page, tmp_path, "portal-attempt")


def test_a_read_only_link_shows_no_edit_controls(svix: Svix, fresh_context: Any, tmp_path: Path) -> None:
    app_id, endpoint_id = _app_with_endpoint(svix, "Read-only customer", "https://example.com/hook")
    access = svix.authentication.app_portal_access(app_id, AppPortalAccessIn(read_only=True))
    page = fresh_context.new_page()
    page.goto(access.url)
    page.wait_for_url("**/portal")
    expect(page.get_by_role("link", name="https://example.com/hook")).to_be_visible()
    expect(page.get_by_text("Read-only customer · read-only")).to_be_visible()
    expect(page.get_by_role("heading", name="Add endpoint")).to_have_count(0)
    page.get_by_role("link", name="https://example.com/hook").click()
    expect(page.get_by_role("heading", name="https://example.com/hook")).to_be_visible()
    for control in ("Save", "Delete", "Disable", "Reveal secret", "Rotate secret"):
        expect(page.get_by_role("button", name=control)).to_have_count(0)
    page.get_by_role("link", name="Testing").click()
    expect(page.get_by_role("button", name="Send example")).to_have_count(0)
    screenshot(page, tmp_path, "portal-read-only")

    # The JSON API refuses what the pages do not offer.
    csrf = page.locator('meta[name="csrf-token"]').get_attribute("content")
    patched = page.request.patch(
        f"/portal/api/v1/endpoint/{endpoint_id}", data={"disabled": True}, headers={"x-csrf-token": csrf}
    )
    assert patched.status == 404


def test_an_expired_or_revoked_link_is_refused(svix: Svix, fresh_context: Any, tmp_path: Path) -> None:
    app_id, _ = _app_with_endpoint(svix, "Expired customer", "https://example.com/expired")
    kept = svix.authentication.app_portal_access(app_id, AppPortalAccessIn(session_id="keep"))
    ended = svix.authentication.app_portal_access(app_id, AppPortalAccessIn(session_id="end"))
    svix.authentication.expire_all(app_id, ApplicationTokenExpireIn(session_ids=["end"]))

    page = fresh_context.new_page()
    page.goto(ended.url)
    expect(page.locator("#login-status")).to_have_text(
        "This portal link has expired or was revoked. Ask for a new link."
    )
    assert page.goto("/portal").status == 401
    screenshot(page, tmp_path, "portal-expired")

    page.goto(kept.url)  # another session of the same application is untouched
    page.wait_for_url("**/portal")
    expect(page.get_by_role("link", name="https://example.com/expired")).to_be_visible()
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/portal/login")
    assert page.goto("/portal").status == 401
