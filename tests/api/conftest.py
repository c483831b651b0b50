"""A live `hookwire serve` per test database, driven through the official svix SDK."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from svix.api import Svix, SvixOptions

from tests.support.server import HookwireProcess


@pytest.fixture
def server(database_url: str, tmp_path: object) -> Iterator[HookwireProcess]:
    with HookwireProcess(database_url, log=tmp_path / "hookwire.log") as proc:  # type: ignore[operator]
        yield proc


@pytest.fixture
def svix(server: HookwireProcess) -> Svix:
    return Svix(server.token, SvixOptions(server_url=server.url, retry_schedule=[]))
