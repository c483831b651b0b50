"""Fixtures for operations tests: a live `hookwire serve` with operations settings."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from svix.api import Svix, SvixOptions

from tests.automations.test_runs import source  # noqa: F401 (the automation tests' fixture)
from tests.delivery.conftest import workers  # noqa: F401 (the delivery tests' fixture, shared)
from tests.support.receiver import Receiver
from tests.support.server import HookwireProcess

ServeFn = Callable[..., HookwireProcess]


@pytest.fixture
def serve(database_url: str, tmp_path: Path) -> Iterator[ServeFn]:
    """Start a server with extra HOOKWIRE_* settings: `serve(HOOKWIRE_X="...")`."""
    with ExitStack() as stack:

        def start(**env: str) -> HookwireProcess:
            proc = HookwireProcess(database_url, log=tmp_path / "hookwire.log", **env)
            stack.callback(proc.__exit__, None, None, None)  # also when start() times out
            return proc.start()

        yield start


def sdk(server: HookwireProcess) -> Svix:
    return Svix(server.token, SvixOptions(server_url=server.url, retry_schedule=[]))


@pytest.fixture
def ops_receiver() -> Iterator[Receiver]:
    """The operator's operational webhook receiver."""
    with Receiver() as server:
        yield server


@pytest.fixture
def slack() -> Iterator[Receiver]:
    """A Slack-style incoming webhook (takes `{"text": ...}`)."""
    with Receiver() as server:
        yield server
