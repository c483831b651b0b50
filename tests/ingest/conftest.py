"""Ingest end-to-end fixtures: a live `hookwire serve` per database and an svix client."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from svix.api import Svix, SvixOptions

from tests.support.server import HookwireProcess


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[HookwireProcess]:
    with HookwireProcess(database_url, log=tmp_path / "hookwire.log") as proc:
        yield proc


@pytest.fixture
def svix(server: HookwireProcess) -> Svix:
    return Svix(server.token, SvixOptions(server_url=server.url, retry_schedule=[]))
