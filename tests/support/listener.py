"""`hookwire listen` as a real subprocess, with its stdout and stderr lines collected as they come."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from typing import IO


class ListenerProcess:
    def __init__(self, *args: str, url: str, token: str, **env: str) -> None:
        self.args = args
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("HOOKWIRE_")},
            "HOOKWIRE_URL": url,
            "HOOKWIRE_TOKEN": token,
            **env,
        }
        self.stdout: list[str] = []
        self.stderr: list[str] = []
        self._cond = threading.Condition()
        self.proc: subprocess.Popen[str] | None = None

    def start(self) -> ListenerProcess:
        self.stdout.clear()
        self.stderr.clear()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "hookwire", "listen", *self.args],
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None and self.proc.stderr is not None
        for stream, lines in ((self.proc.stdout, self.stdout), (self.proc.stderr, self.stderr)):
            threading.Thread(target=self._collect, args=(stream, lines), daemon=True).start()
        return self

    def _collect(self, stream: IO[str], lines: list[str]) -> None:
        for line in stream:
            with self._cond:
                lines.append(line.rstrip("\n"))
                self._cond.notify_all()

    def wait_for_stderr(self, text: str, timeout: float = 30.0, count: int = 1) -> str:
        """The count-th stderr line containing text, waiting for it (bounded)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = [line for line in self.stderr if text in line]
                if len(found) >= count:
                    return found[count - 1]
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"no stderr line with {text!r}; stderr: {self.stderr}")
                self._cond.wait(min(remaining, 0.5))

    def stop(self) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.terminate()
        return self.proc.wait(20)

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait(20)

    def __enter__(self) -> ListenerProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(20)
