"""Dashboard and portal over plain HTTP (no browser), against a real server on each database."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from tests.api.conftest import server, svix  # noqa: F401  (the same live-server fixtures as the API tests)
from tests.support.server import HookwireProcess


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "server_env(**env): HOOKWIRE_* settings for the test's server")


def csrf_of(page: str) -> str:
    match = re.search(r'name="csrf-token" content="([^"]+)"', page)
    assert match, "the page carries no CSRF token"
    return match.group(1)


@contextmanager
def signed_in(server: HookwireProcess) -> Iterator[httpx.Client]:  # noqa: F811
    """An httpx client holding an operator session, made through the sign-in form."""
    with httpx.Client(base_url=server.url, timeout=10) as client:
        csrf = csrf_of(client.get("/ui/signin").text)
        answer = client.post("/ui/signin", data={"csrf": csrf, "token": server.token, "next": "/ui"})
        assert answer.status_code == 303 and answer.headers["location"] == "/ui"
        yield client
