"""`hookwire serve` as a supervisor: API and delivery workers in separate child processes.

Why: the API and the workers each want a core; in one process they share one GIL. The parent
migrates, prints the banner, binds the listening socket once (every API child accepts on the
same socket, so the kernel spreads connections), on SQLite runs the event hub the children
link to, then starts the children and keeps them running:

- a child that exits while the supervisor runs is started again (backoff from 0.5 s to 10 s,
  reset once it has lived a minute);
- SIGTERM/SIGINT is passed to every child, which stops gracefully (workers finish in-flight
  attempts and hand back their leases); a child still running after the grace period is
  killed. The supervisor then exits 0;
- a child dies with its supervisor (PR_SET_PDEATHSIG on Linux, and a check of its parent id),
  so a `kill -9` of the supervisor leaves nothing behind.

Children are `hookwire _child api|worker` (hidden command) with the supervisor's resolved
settings in `HOOKWIRE_CHILD_SETTINGS`, so flags given to `serve` reach every child.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import json
import logging
import os
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import click

from hookwire.cli import heap
from hookwire.cli.banner import banner
from hookwire.cli.ports import bind_listen_socket
from hookwire.cli.runtime import open_runtime
from hookwire.operations import metrics
from hookwire.settings import SETTINGS, Settings

log = logging.getLogger("hookwire.supervisor")

SETTINGS_ENV = "HOOKWIRE_CHILD_SETTINGS"
_BACKOFF_START, _BACKOFF_MAX, _HEALTHY_AFTER = 0.5, 10.0, 60.0
_GRACE_EXTRA = 10.0  # seconds beyond the request timeout a child gets to stop


@dataclass(frozen=True)
class ProcessPlan:
    api: int
    workers: int

    def child_args(self) -> list[list[str]]:
        """Each child's role and, for a worker, its turn among the workers (store/pg_wakeups.py)."""
        return [["api"]] * self.api + [
            ["worker", "--turn", f"{i}/{self.workers}"] for i in range(self.workers)
        ]


def process_count(settings: Settings) -> int:
    """How many processes `serve` runs: the setting, or one per CPU when it is 0."""
    return settings.processes or os.cpu_count() or 1


def plan_processes(settings: Settings, count: int) -> ProcessPlan:
    """Split `count` processes: half (rounded down, at least one) run the API, the rest the
    workers; without workers every process serves the API."""
    if not settings.workers:
        return ProcessPlan(api=count, workers=0)
    api = max(1, count // 2)
    return ProcessPlan(api=api, workers=max(1, count - api))


def encode_settings(settings: Settings) -> str:
    return json.dumps({s.name: getattr(settings, s.name) for s in SETTINGS})


def decode_settings(environ: Mapping[str, str]) -> Settings:
    return Settings(**json.loads(environ[SETTINGS_ENV]))


def die_with_parent(parent_pid: int) -> None:
    """Called first thing in a child: be killed when the supervisor dies, however it dies."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() != parent_pid:  # the supervisor died before prctl took effect
        os._exit(1)


class _Child:
    """One supervised child: started, watched and started again until the supervisor stops."""

    def __init__(self, role: str, argv: list[str], env: dict[str, str], fds: tuple[int, ...]) -> None:
        self.role = role
        self._argv = argv
        self._env = env
        self._fds = fds
        self.proc: asyncio.subprocess.Process | None = None
        self.restarts = 0

    async def keep_running(self, stopping: asyncio.Event) -> None:
        backoff = _BACKOFF_START
        while not stopping.is_set():
            started = time.monotonic()
            self.proc = await asyncio.create_subprocess_exec(
                *self._argv, env=self._env, pass_fds=self._fds, start_new_session=True
            )
            code = await self.proc.wait()
            if stopping.is_set():
                return
            if time.monotonic() - started > _HEALTHY_AFTER:
                backoff = _BACKOFF_START
            log.error(
                "%s process %d exited with %s; starting it again in %.1fs",
                self.role,
                self.proc.pid,
                code,
                backoff,
            )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), backoff)
            backoff = min(backoff * 2, _BACKOFF_MAX)
            self.restarts += 1

    def signal(self, sig: int) -> None:
        if self.proc is not None and self.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(sig)


async def supervise(settings: Settings, count: int, config: Path | None) -> None:
    from hookwire.cli.main import install_stop_handlers

    sock = bind_listen_socket(settings.host, settings.port)  # first: a taken port fails at once
    try:
        opened = await open_runtime(settings)  # migrate and settle the admin token once, here
    except BaseException:
        sock.close()
        raise
    await opened.rt.db.close()
    resolved = opened.rt.settings
    plan = plan_processes(resolved, count)
    hub = None
    tmpdir = tempfile.mkdtemp(prefix="hookwire-")
    resolved = metrics.for_children(resolved, tmpdir)  # /metrics of any child sums them all
    env = {**os.environ, SETTINGS_ENV: encode_settings(resolved)}
    base = [sys.executable, "-m", "hookwire", "_child", "--parent-pid", str(os.getpid())]
    if config is not None:
        base += ["--config", str(config)]
    if resolved.is_sqlite:
        from hookwire.event_links.socket_hub import EventHub

        hub = EventHub(os.path.join(tmpdir, "events.sock"))
        await hub.start()
        base += ["--event-hub", hub.path]
    children = [
        _Child(args[0], [*base, *args, "--listen-fd", str(sock.fileno())], env, (sock.fileno(),))
        for args in plan.child_args()
    ]
    stopping = asyncio.Event()
    install_stop_handlers(stopping.set)
    click.echo(banner(opened), err=True)
    click.echo(
        f"  processes:   {plan.api} API + {plan.workers} worker (pid {os.getpid()} supervises; "
        "--processes 1 runs everything in one)",
        err=True,
    )
    tasks = [asyncio.create_task(child.keep_running(stopping)) for child in children]
    heap.settle()
    try:
        await stopping.wait()
    finally:
        stopping.set()
        for child in children:
            child.signal(signal.SIGTERM)
        grace = resolved.request_timeout + _GRACE_EXTRA
        _, late = await asyncio.wait(tasks, timeout=grace)
        if late:
            log.error("%d child processes did not stop within %.0fs; killing them", len(late), grace)
            for child in children:
                child.signal(signal.SIGKILL)
            await asyncio.wait(late, timeout=5)
        sock.close()
        if hub is not None:
            await hub.close()
        shutil.rmtree(tmpdir, ignore_errors=True)
