"""A live `hookwire serve` per test database, driven through the official svix SDK.

`@pytest.mark.server_env(HOOKWIRE_X="...")` adds environment settings to that test's server.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from svix.api import Svix, SvixOptions

from tests.support.server import HookwireProcess


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "server_env(**env): HOOKWIRE_* settings for the test's server")


@pytest.fixture
def server(request: pytest.FixtureRequest, database_url: str, tmp_path: object) -> Iterator[HookwireProcess]:
    marker = request.node.get_closest_marker("server_env")
    env = marker.kwargs if marker else {}
    with HookwireProcess(database_url, log=tmp_path / "hookwire.log", **env) as proc:  # type: ignore[operator]
        yield proc


@pytest.fixture
def svix(server: HookwireProcess) -> Svix:
    return Svix(server.token, SvixOptions(server_url=server.url, retry_schedule=[]))
