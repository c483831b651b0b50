"""The README's SDK example, run as a new user would: twice, against a live server."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tests.support.server import HookwireProcess

README = Path(__file__).resolve().parents[1] / "README.md"


def test_sdk_example_runs_and_runs_again(database_url: str, tmp_path: Path) -> None:
    [example] = re.findall(r"```python\n(from svix.*?)```", README.read_text(), re.S)
    with HookwireProcess(database_url, log=tmp_path / "hookwire.log") as server:
        code = (
            example.replace('"hw_Jx0..."', repr(server.token)).replace("http://127.0.0.1:8040", server.url)
            + "\nprint(app.id, endpoint.id, secret)\n"
        )
        runs = [
            subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
            for _ in range(2)
        ]
    for run in runs:
        assert run.returncode == 0, run.stderr
    first, second = (run.stdout.split() for run in runs)
    assert first == second  # the same application, endpoint and secret both times
    assert first[2].startswith("whsec_")
