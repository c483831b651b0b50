"""axe-core (vendored, injected by the test) on the main pages, and a 375 px wide phone screen."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from svix.api import ApplicationIn, AppPortalAccessIn, EndpointIn, MessageIn, Svix

from tests.api.polling import wait_until
from tests.support.receiver import Receiver
from tests.ui.conftest import axe_violations, screenshot


@pytest.fixture(scope="module")
def delivered(svix: Svix, ui_receiver: Receiver) -> dict[str, str]:
    """An application with an endpoint and one delivered message (made through the SDK)."""
    app = svix.application.create(ApplicationIn(name="Accessible Co"))
    endpoint = svix.endpoint.create(app.id, EndpointIn(url=f"{ui_receiver.url}/a11y", description="Orders"))
    msg = svix.message.create(app.id, MessageIn(event_type="order.created", payload={"order": 1}))
    attempts = wait_until(
        lambda: svix.message_attempt.list_by_msg(app.id, msg.id).data, bool, what="the first attempt"
    )
    return {"app": app.id, "endpoint": endpoint.id, "msg": msg.id, "attempt": attempts[0].id}


def _pages(ids: dict[str, str]) -> dict[str, str]:
    app, endpoint, msg, attempt = ids["app"], ids["endpoint"], ids["msg"], ids["attempt"]
    return {
        "home": "/ui",
        "endpoint": f"/ui/apps/{app}/endpoints/{endpoint}",
        "attempt": f"/ui/apps/{app}/messages/{msg}/attempts/{attempt}",
    }


def test_operator_pages_have_no_serious_accessibility_violations(
    page: Any, delivered: dict[str, str], tmp_path: Path
) -> None:
    page.set_content('<html lang="en"><title>t</title><main><img src="x.png"></main></html>')
    assert [v["id"] for v in axe_violations(page)] == ["image-alt"]  # the checker does run and report

    found = {}
    for name, path in _pages(delivered).items():
        page.goto(path)
        if name == "endpoint":
            expect(page.locator("#activity table")).to_be_visible()
        found[name] = axe_violations(page)
        screenshot(page, tmp_path, f"axe-{name}")
    assert found == {name: [] for name in found}


def test_portal_pages_have_no_serious_accessibility_violations(
    svix: Svix, fresh_context: Any, delivered: dict[str, str], tmp_path: Path
) -> None:
    access = svix.authentication.app_portal_access(delivered["app"], AppPortalAccessIn())
    page = fresh_context.new_page()
    page.goto(access.url)
    page.wait_for_url("**/portal")
    found = {"portal-endpoints": axe_violations(page)}
    page.goto(f"/portal/endpoints/{delivered['endpoint']}?tab=logs")
    expect(page.locator("#activity table")).to_be_visible()
    found["portal-logs"] = axe_violations(page)
    page.goto(f"/portal/messages/{delivered['msg']}/attempts/{delivered['attempt']}")
    found["portal-attempt"] = axe_violations(page)
    assert found == {name: [] for name in found}


def test_pages_fit_a_375_pixel_wide_screen(page: Any, delivered: dict[str, str], tmp_path: Path) -> None:
    page.set_viewport_size({"width": 375, "height": 800})
    for name, path in _pages(delivered).items():
        page.goto(path)
        width = page.evaluate("document.documentElement.scrollWidth")
        screenshot(page, tmp_path, f"phone-{name}")
        assert width <= 375, f"{name} is {width}px wide at a 375px viewport"
