"""Child processes of a benchmark run: started on 127.0.0.1, bounded in time, always stopped.

`Supervisor` starts every process of a run and stops whatever is still running at the
end, so an exception in a scenario never leaves a server behind. Each process logs to
a file in the run's temporary directory (its tail is shown when it fails) and its peak
resident memory is read from `/proc/<pid>/status` (VmHWM, kept by the kernel) — by a
background sampler while it runs and once more just before it is stopped.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import threading
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def read_peak_rss_kb(pid: int) -> int | None:
    """VmHWM of a live process, in KiB (None once it is gone)."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


def child_pids(pid: int) -> list[int]:
    """Direct children of a process (a Celery prefork pool's workers)."""
    found: list[int] = []
    with contextlib.suppress(OSError):
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as children:
                found += [int(c) for c in children.read().split()]
    return found


class Process:
    """One child process; `peak_rss_mb` maps its pid (and its children's) to peak RSS in MB."""

    def __init__(self, name: str, argv: Sequence[str], *, env: dict[str, str] | None, log_dir: Path) -> None:
        self.name = name
        self.argv = list(argv)
        self.env = env
        self.log_path = log_dir / f"{name}.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.peak_rss_kb: dict[str, int] = {}
        self._lock = threading.Lock()

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self) -> Process:
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                self.argv, env=self.env, cwd=REPO, stdout=log, stderr=log, stdin=subprocess.DEVNULL
            )
        return self

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def sample_rss(self) -> None:
        if not self.running():
            return
        pids = [(self.name, self.pid)]
        pids += [(f"{self.name}[{child}]", child) for child in child_pids(self.pid)]
        with self._lock:
            for label, pid in pids:
                kb = read_peak_rss_kb(pid)
                if kb is not None:
                    self.peak_rss_kb[label] = max(kb, self.peak_rss_kb.get(label, 0))

    @property
    def peak_rss_mb(self) -> dict[str, float]:
        with self._lock:
            return {label: round(kb / 1024, 1) for label, kb in self.peak_rss_kb.items()}

    def stop(self, timeout: float = 30.0) -> int | None:
        """SIGTERM, wait up to `timeout`, then SIGKILL. Returns the exit code."""
        if self.proc is None:
            return None
        self.sample_rss()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        return self.proc.returncode

    def log_tail(self, lines: int = 15) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


class Supervisor:
    """Starts the processes of a run, samples their memory, and stops them all at the end."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self._processes: list[Process] = []
        self._stop_sampling = threading.Event()
        self._sampler = threading.Thread(target=self._sample_loop, name="rss-sampler", daemon=True)
        self._sampler.start()

    def start(self, name: str, argv: Sequence[str], env: dict[str, str] | None = None) -> Process:
        taken = {p.name for p in self._processes}
        unique, n = name, 1
        while unique in taken:
            n += 1
            unique = f"{name}-{n}"
        process = Process(unique, argv, env=env, log_dir=self.log_dir).start()
        self._processes.append(process)
        return process

    def _sample_loop(self) -> None:
        while not self._stop_sampling.wait(0.5):
            for process in list(self._processes):
                process.sample_rss()

    def stop_all(self) -> None:
        for process in reversed(self._processes):
            if process.running():
                process.stop(timeout=15)
        self._stop_sampling.set()


async def wait_exit(process: Process, timeout: float) -> int | None:
    """Wait for a process to exit on its own, at most `timeout` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while process.running() and loop.time() < deadline:
        await asyncio.sleep(0.1)
    return None if process.proc is None else process.proc.poll()
