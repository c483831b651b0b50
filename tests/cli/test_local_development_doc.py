"""docs/local-development.md, followed as written: every command in its sh blocks runs against a live
server, and every `hookwire listen` it shows connects and is ready to forward."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import TEST_SECRET_KEY
from tests.support.receiver import Receiver
from tests.support.server import HookwireProcess

DOC = Path(__file__).resolve().parents[2] / "docs" / "local-development.md"


def _commands() -> list[str]:
    commands = []
    for block in re.findall(r"```sh\n(.*?)```", DOC.read_text(), re.S):
        commands += [c.strip() for c in block.replace("\\\n", " ").splitlines() if c.strip()]
    return commands


def test_every_command_of_the_local_development_guide_runs(
    database_url: str, tmp_path: Path, receiver: Receiver
) -> None:
    commands = _commands()
    assert len([c for c in commands if c.startswith("hookwire listen")]) == 4
    with HookwireProcess(database_url, log=tmp_path / "hookwire.log") as server:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("HOOKWIRE_")},
            "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
            "HOOKWIRE_CONFIG_DIR": str(tmp_path / "config"),
            # what `hookwire token` needs to find the server's token (it runs beside the server)
            "HOOKWIRE_DATABASE_URL": database_url,
            "HOOKWIRE_SECRET_KEY": TEST_SECRET_KEY,
            "HOOKWIRE_API_TOKEN": server.token,
        }
        for command in commands:
            command = command.replace("http://127.0.0.1:8040", server.url)
            if not command.startswith("hookwire listen"):
                ran = subprocess.run(
                    ["bash", "-c", command],
                    env={**env, "HOOKWIRE_URL": server.url, "HOOKWIRE_TOKEN": server.token},
                    capture_output=True,
                    text=True,
                    timeout=60,
                )
                assert ran.returncode == 0, (command, ran.stderr)
                continue
            # the listeners use what `hookwire login` stored: no HOOKWIRE_URL / HOOKWIRE_TOKEN here
            command = command.replace("http://localhost:3000", receiver.url)
            listener = subprocess.Popen(
                ["bash", "-c", f"exec {command}"], env=env, stderr=subprocess.PIPE, text=True
            )
            try:
                assert listener.stderr is not None
                first = listener.stderr.readline()
                assert first.startswith("Ready! Forwarding"), (command, first, listener.stderr.read())
            finally:
                listener.terminate()
                assert listener.wait(20) == 0
