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
import time
from collections.abc import Callable, Sequence
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


_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time a live process has used so far."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / _TICKS  # utime, stime


def pids_named(command: str) -> list[int]:
    """Every process whose command name is `command` (the PostgreSQL server's backends)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/comm") as comm:
                    if comm.read().strip() == command:
                        found.append(int(entry))
            except OSError:
                continue
    return found


def machine_cpu() -> tuple[float, float, float]:
    """(busy, steal, total) jiffies of the whole machine since boot, from /proc/stat."""
    try:
        with open("/proc/stat") as stat:
            values = [float(v) for v in stat.readline().split()[1:]]
    except (OSError, ValueError):
        return 0.0, 0.0, 0.0
    idle = values[3] + (values[4] if len(values) > 4 else 0.0)  # idle + iowait
    steal = values[7] if len(values) > 7 else 0.0
    total = sum(values[:8])
    return total - idle, steal, total


class CpuMeter:
    """CPU used by groups of processes between `start()` and `stop()`, as % of one core.

    Beside the groups it reports the whole machine (`machine, all processes`, up to
    100 x CPU count) and what the hypervisor took (`steal`), so a figure measured while
    something else was busy on the machine says so.
    """

    def __init__(self, groups: dict[str, Callable[[], list[int]]]) -> None:
        self._groups = groups
        self._before: dict[int, float] = {}
        self._machine_before = (0.0, 0.0, 0.0)
        self._began = 0.0

    def _sample(self) -> dict[str, dict[int, float]]:
        samples: dict[str, dict[int, float]] = {}
        for name, pids in self._groups.items():
            samples[name] = {pid: s for pid in pids() if (s := cpu_seconds(pid)) is not None}
        return samples

    def start(self) -> None:
        self._began = time.monotonic()
        self._machine_before = machine_cpu()
        self._before = {pid: s for group in self._sample().values() for pid, s in group.items()}

    def stop(self) -> dict[str, float]:
        wall = max(time.monotonic() - self._began, 1e-6)
        used = {}
        for name, group in self._sample().items():
            seconds = sum(s - self._before.get(pid, 0.0) for pid, s in group.items())
            used[name] = round(100 * seconds / wall, 1)
        busy, steal, total = (a - b for a, b in zip(machine_cpu(), self._machine_before, strict=True))
        if total > 0:
            cores = os.cpu_count() or 1
            used["machine, all processes"] = round(100 * cores * busy / total, 1)
            used["steal"] = round(100 * cores * steal / total, 1)
        return used


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

    def pids(self) -> list[int]:
        """This process and its children, while it runs."""
        if not self.running():
            return []
        return [self.pid, *child_pids(self.pid)]

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

    def __init__(self, log_dir: Path, profile_dir: Path | None = None) -> None:
        self.log_dir = log_dir
        self.profile_dir = profile_dir  # when set, hookwire processes run under cProfile
        self._processes: list[Process] = []
        self._stop_sampling = threading.Event()
        self._sampler = threading.Thread(target=self._sample_loop, name="rss-sampler", daemon=True)
        self._sampler.start()

    def unique_name(self, name: str) -> str:
        taken = {p.name for p in self._processes}
        unique, n = name, 1
        while unique in taken:
            n += 1
            unique = f"{name}-{n}"
        return unique

    def start(self, name: str, argv: Sequence[str], env: dict[str, str] | None = None) -> Process:
        unique = self.unique_name(name)
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
