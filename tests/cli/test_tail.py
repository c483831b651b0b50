"""`hookwire tail` in a real terminal: tmux runs it, capture-pane reads the screen with its colours."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.receiver import Receiver, Reply
from tests.support.server import HookwireProcess

RED = re.compile(r"\x1b\[(?:[0-9;]*;)?31(?:;[0-9;]*)?m")


@pytest.fixture
def tmux() -> Iterator[str]:
    socket = f"hookwire-test-{uuid.uuid4().hex[:8]}"
    yield socket
    subprocess.run(["tmux", "-L", socket, "kill-server"], capture_output=True, timeout=10)


def _screen(socket: str) -> str:
    return subprocess.run(
        ["tmux", "-L", socket, "capture-pane", "-e", "-p", "-t", "tail"],
        capture_output=True,
        text=True,
        timeout=10,
    ).stdout


def _wait_screen(socket: str, text: str, timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        screen = _screen(socket)
        if text in screen:
            return screen
        time.sleep(0.2)
    raise AssertionError(f"{text!r} never showed; screen:\n{_screen(socket)}")


def test_a_failing_attempt_shows_in_red_under_a_real_terminal(
    database_url: str, tmp_path: Path, receiver: Receiver, tmux: str
) -> None:
    receiver.default = Reply(status=503, body=b"down")
    with HookwireProcess(database_url, log=tmp_path / "hookwire.log") as server:
        api = httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {server.token}"})
        app = api.post("/api/v1/app", json={"name": "shop"}).json()
        api.post(f"/api/v1/app/{app['id']}/endpoint", json={"url": receiver.url + "/hook"})
        env = {"HOOKWIRE_URL": server.url, "HOOKWIRE_TOKEN": server.token, "TERM": "xterm-256color"}
        assignments = [f"{k}={shlex.quote(v)}" for k, v in env.items()]
        command = " ".join(
            [*assignments, shlex.quote(sys.executable), "-m", "hookwire", "tail", "--app", app["id"]]
        )
        subprocess.run(
            ["tmux", "-L", tmux, "new-session", "-d", "-s", "tail", "-x", "200", "-y", "40", command],
            check=True,
            timeout=10,
            env={**os.environ, "TERM": "xterm-256color"},
        )
        _wait_screen(tmux, "following")
        message = api.post(f"/api/v1/app/{app['id']}/msg", json={"eventType": "invoice.paid", "payload": {}})
        screen = _wait_screen(tmux, "[503]")
    line = next(line for line in screen.splitlines() if "[503]" in line)
    assert message.json()["id"] in line and "invoice.paid" in line and receiver.url + "/hook" in line
    before_status = line[: line.index("[503]")]
    assert RED.search(before_status), repr(line)  # the status is drawn in red
