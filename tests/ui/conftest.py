"""Browser tests: one headless Debian Chromium for the whole session, driven by Playwright.

Chromium comes from the system (`apt-get install -y chromium`, done by `make test` and
`.ci/run`), never from Playwright's own download. Without it the browser tests skip and
say why; with CI=true they fail instead. One hookwire server (SQLite) and one receiver
serve every browser test; each test makes its own applications, so tests stay independent.

The shared fixtures are package-scoped, which for tests/ui is the same as session-scoped (pytest
runs a package's tests together), with one difference that matters: Playwright's sync API holds
an event loop on the main thread while it runs, and it must be gone before the async tests of
other packages start.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from svix.api import Svix, SvixOptions

from tests.support.receiver import Receiver, Reply
from tests.support.server import HookwireProcess

AXE = Path(__file__).parent / "assets" / "axe-4.14.1.min.js"
RECEIVER_BODY = b'{"thanks": "from the receiver"}'


def _chromium() -> str:
    path = shutil.which("chromium")
    if path is None:
        reason = "Debian's chromium is not installed (apt-get install -y chromium); `make test` installs it"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return path


@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    executable = _chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=executable, headless=True, args=["--no-sandbox"]
        )
        yield chromium
        chromium.close()


@pytest.fixture(scope="package")
def ui_receiver() -> Iterator[Receiver]:
    with Receiver() as receiver:
        receiver.default = Reply(200, {"content-type": "application/json"}, RECEIVER_BODY)
        yield receiver


@pytest.fixture(scope="package")
def ui_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HookwireProcess]:
    base = tmp_path_factory.mktemp("ui-server")
    with HookwireProcess(f"sqlite:///{base}/hookwire.db", log=base / "hookwire.log") as proc:
        yield proc


@pytest.fixture(scope="package")
def svix(ui_server: HookwireProcess) -> Svix:
    return Svix(ui_server.token, SvixOptions(server_url=ui_server.url, retry_schedule=[]))


@pytest.fixture(scope="package")
def operator_state(
    browser: Any, ui_server: HookwireProcess, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """A signed-in browser state, made once through the sign-in form."""
    context = browser.new_context(base_url=ui_server.url)
    page = context.new_page()
    page.goto("/ui")
    assert "/ui/signin" in page.url
    page.get_by_label("Admin token").fill(ui_server.token)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/ui")
    path = tmp_path_factory.mktemp("state") / "operator.json"
    context.storage_state(path=str(path))
    context.close()
    return path


@pytest.fixture
def page(browser: Any, ui_server: HookwireProcess, operator_state: Path) -> Iterator[Any]:
    """A signed-in operator page in its own browser context (clipboard allowed)."""
    context = browser.new_context(
        base_url=ui_server.url,
        storage_state=str(operator_state),
        permissions=["clipboard-read", "clipboard-write"],
    )
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


@pytest.fixture
def fresh_context(browser: Any, ui_server: HookwireProcess) -> Iterator[Any]:
    """A browser context with no cookies at all (a customer opening a portal link)."""
    context = browser.new_context(base_url=ui_server.url)
    context.set_default_timeout(15_000)
    yield context
    context.close()


def screenshot(page: Any, tmp_path: Path, name: str) -> Path:
    path = tmp_path / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """Serious and critical axe-core findings on the current page."""
    page.add_script_tag(path=str(AXE))
    results = page.evaluate("async () => (await axe.run(document, {resultTypes: ['violations']})).violations")
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "nodes": [n["target"] for n in v["nodes"]][:5],
        }
        for v in results
        if v["impact"] in ("serious", "critical")
    ]
