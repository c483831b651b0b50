"""A real `hookwire serve` (or `hookwire worker`) subprocess on 127.0.0.1, for end-to-end tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.conftest import TEST_SECRET_KEY

TOKEN = "test-token"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class HookwireProcess:
    """Starts hookwire with test settings; `url` and `token` are what an SDK client needs."""

    def __init__(
        self,
        database_url: str,
        *,
        command: str = "serve",
        log: Path | None = None,
        start_timeout: float = 30.0,
        **env: str,
    ) -> None:
        self.start_timeout = start_timeout
        self.database_url = database_url
        self.command = command
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.token = TOKEN
        self.env = {
            **os.environ,
            "HOOKWIRE_DATABASE_URL": database_url,
            "HOOKWIRE_PORT": str(self.port),
            "HOOKWIRE_API_TOKEN": TOKEN,
            "HOOKWIRE_SECRET_KEY": TEST_SECRET_KEY,
            "HOOKWIRE_ALLOW_PRIVATE_TARGETS": "true",
            "HOOKWIRE_RETRY_SCHEDULE": "200ms,400ms,800ms",
            "HOOKWIRE_POLL_INTERVAL": "0.2",
            "HOOKWIRE_LOG_LEVEL": "warning",
            # one process: starts in half the CPU; tests of the supervisor ask for more
            "HOOKWIRE_PROCESSES": "1",
            **env,
        }
        self._log_path = log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30.0) -> HookwireProcess:
        out = open(self._log_path, "ab") if self._log_path else subprocess.DEVNULL  # noqa: SIM115
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "hookwire", self.command], env=self.env, stdout=out, stderr=out
        )
        if self.command == "serve":
            try:
                self._wait_healthy(timeout)
            except BaseException:
                self.__exit__()  # a `with` block never entered would leave it running
                raise
        return self

    def _wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(f"hookwire {self.command} exited with {self.proc.returncode}")
            try:
                if httpx.get(f"{self.url}/api/v1/health", timeout=1).status_code == 204:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"hookwire did not become healthy within {timeout}s")

    def terminate(self, timeout: float = 30.0) -> int:
        """SIGTERM and wait: the graceful path."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout)

    def kill(self) -> None:
        """SIGKILL: the crash path."""
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait(10)

    def __enter__(self) -> HookwireProcess:
        return self.start(self.start_timeout)

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


def serve_until_healthy_then_stop(
    command: list[str], *, port: int, cwd: Path, env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    """Run a `serve` command line as a new user would, wait until it answers, SIGTERM it; what it
    printed (the banner is on stderr) and its exit code."""
    proc = subprocess.Popen(command, cwd=cwd, env=env, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/api/v1/health").status_code == 204:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        proc.terminate()
        _, stderr = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    return subprocess.CompletedProcess(command, proc.returncode, "", stderr)
