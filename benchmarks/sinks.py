"""The receivers seen from the orchestrator: start one, count what arrived, time a drain.

Two kinds. `RecordingSink` is `benchmarks.receiver` in its own process: it records arrival
times (latency scenarios need them) and answers `/hang` by never answering. `NginxSink`
is nginx with `return 200` from a temporary config, used for the throughput scenarios when
`which nginx` finds one, so the receiver is never the bottleneck; it counts requests with
`stub_status`, and a drain is timed by polling that counter.
"""

from __future__ import annotations

import asyncio
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import aiohttp

from benchmarks.processes import Process, Supervisor, free_port

POLL_SECONDS = 0.02
PROGRESS_SECONDS = 15.0


class DrainStalled(RuntimeError):
    """Time ran out, nothing new arrived for too long, or a process it depends on died."""

    def __init__(self, message: str, count: int, first_at: float | None, last_at: float) -> None:
        super().__init__(message)
        self.count = count
        self.first_at = first_at
        self.last_at = last_at


@dataclass(frozen=True)
class Drain:
    """`count` requests arrived between `first_at` and `last_at` (wall-clock seconds)."""

    count: int
    first_at: float
    last_at: float
    timeline: list[tuple[float, int]] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        return max(self.last_at - self.first_at, 1e-6)

    @property
    def rate(self) -> float:
        """Requests per second from the first arrival to the last (the first one starts the clock)."""
        return (self.count - 1) / self.seconds if self.count > 1 else 0.0


class Sink(Protocol):
    kind: str
    url: str
    process: Process

    async def reset(self) -> None: ...

    async def posts(self) -> int: ...

    async def wait_for(
        self,
        expected: int,
        *,
        timeout: float,
        alive: Any = None,
        progress: Any = None,
        on_first: Any = None,
    ) -> Drain: ...

    async def close(self) -> None: ...


async def _get_json(session: aiohttp.ClientSession, url: str) -> Any:
    async with session.get(url) as response:
        response.raise_for_status()
        return await response.json(content_type=None)


async def _wait_up(session: aiohttp.ClientSession, url: str, process: Process, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not process.running():
            raise RuntimeError(f"{process.name} exited at start:\n{process.log_tail()}")
        try:
            async with session.get(url) as response:
                if response.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.05)
    raise RuntimeError(f"{process.name} did not answer {url} within {timeout}s")


async def _poll_until(
    expected: int,
    read: Any,
    *,
    timeout: float,
    alive: Any,
    progress: Any = None,
    on_first: Any = None,
    stall_seconds: float = 60.0,
) -> tuple[int, float | None, float, list[tuple[float, int]]]:
    """Poll `read()` (the count so far) until it reaches `expected`.

    Returns (count, first arrival, last poll, timeline): the timeline holds (seconds since
    the first arrival, count) every PROGRESS_SECONDS, and `progress(count, seconds)` is
    called at each of those points; `on_first()` is called when the first one is seen.
    """
    first_at: float | None = None
    last_change = time.monotonic()
    deadline = last_change + timeout
    seen = 0
    timeline: list[tuple[float, int]] = []
    next_mark = 0.0
    while True:
        count = await read()
        now = time.time()
        if count > seen:
            seen, last_change = count, time.monotonic()
            if first_at is None:
                first_at = now - POLL_SECONDS / 2
                if on_first is not None:
                    on_first()
        if first_at is not None and now - first_at >= next_mark:
            timeline.append((round(now - first_at, 2), count))
            if progress is not None and next_mark > 0:
                progress(count, now - first_at)
            next_mark += PROGRESS_SECONDS
        if count >= expected:
            return count, first_at, now, timeline
        if time.monotonic() > deadline:
            problem = f"{count} of {expected} arrived within {timeout:.0f}s"
        elif time.monotonic() - last_change > stall_seconds:
            problem = f"stalled at {count} of {expected} for {stall_seconds:.0f}s"
        elif alive is not None and not alive():
            problem = f"a process exited; {count} of {expected} arrived"
        else:
            await asyncio.sleep(POLL_SECONDS)
            continue
        raise DrainStalled(problem, count, first_at, now)


class RecordingSink:
    """`benchmarks.receiver`: counts, records arrival times, and hangs on `/hang`."""

    kind = "python-asyncio (uvloop)"

    def __init__(self, process: Process, port: int) -> None:
        self.process = process
        self.url = f"http://127.0.0.1:{port}"
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))

    @classmethod
    async def start(cls, supervisor: Supervisor) -> RecordingSink:
        port = free_port()
        argv = [sys.executable, "-m", "benchmarks.receiver", "--port", str(port)]
        sink = cls(supervisor.start("receiver", argv), port)
        try:
            await _wait_up(sink._session, f"{sink.url}/_stats", sink.process, timeout=20)
        except BaseException:
            await sink.close()
            raise
        return sink

    async def reset(self) -> None:
        await _get_json(self._session, f"{self.url}/_reset")

    async def stats(self) -> dict[str, Any]:
        stats: dict[str, Any] = await _get_json(self._session, f"{self.url}/_stats")
        return stats

    async def posts(self) -> int:
        return int((await self.stats())["posts"])

    async def samples(self) -> list[tuple[str, int, float, float]]:
        """(path, seq, arrival, sent_at) of every first arrival since the last call."""
        rows = await _get_json(self._session, f"{self.url}/_samples")
        return [(str(path), int(seq), float(arrival), float(sent)) for path, seq, arrival, sent in rows]

    async def wait_for(
        self,
        expected: int,
        *,
        timeout: float,
        alive: Any = None,
        progress: Any = None,
        on_first: Any = None,
    ) -> Drain:
        count, _, _, timeline = await _poll_until(
            expected, self.posts, timeout=timeout, alive=alive, progress=progress, on_first=on_first
        )
        stats = await self.stats()
        return Drain(count, stats["first_at"], stats["last_at"], timeline)

    async def close(self) -> None:
        await self._session.close()


_NGINX_CONF = """\
worker_processes 1;
daemon off;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 8192; }}
http {{
    access_log off;
    client_body_temp_path {dir}/tmp/body;
    proxy_temp_path {dir}/tmp/proxy;
    fastcgi_temp_path {dir}/tmp/fastcgi;
    uwsgi_temp_path {dir}/tmp/uwsgi;
    scgi_temp_path {dir}/tmp/scgi;
    keepalive_requests 10000000;
    keepalive_timeout 120s;
    client_max_body_size 4m;
    server {{
        listen 127.0.0.1:{port} backlog=4096;
        location = /_stats {{ stub_status; }}
        location / {{ return 200; }}
    }}
}}
"""


class NginxSink:
    """nginx answering 200 to everything; counts requests through `stub_status`."""

    kind = "nginx"

    def __init__(self, process: Process, port: int) -> None:
        self.process = process
        self.url = f"http://127.0.0.1:{port}"
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        self._polls = 0
        self._base = 0

    @staticmethod
    def available() -> str | None:
        return shutil.which("nginx")

    @classmethod
    async def start(cls, supervisor: Supervisor, nginx: str, workdir: Path) -> NginxSink:
        port = free_port()
        conf_dir = workdir / "nginx"
        (conf_dir / "tmp").mkdir(parents=True, exist_ok=True)
        conf = conf_dir / "nginx.conf"
        conf.write_text(_NGINX_CONF.format(dir=conf_dir, port=port))
        process = supervisor.start(
            "nginx", [nginx, "-p", str(conf_dir), "-e", str(conf_dir / "error.log"), "-c", str(conf)]
        )
        sink = cls(process, port)
        try:
            await _wait_up(sink._session, f"{sink.url}/_stats", process, timeout=20)
            await sink.reset()
        except BaseException:
            await sink.close()
            raise
        return sink

    async def _requests(self) -> int:
        self._polls += 1
        async with self._session.get(f"{self.url}/_stats") as response:
            text = await response.text()
        # "Active connections: 1 \nserver accepts handled requests\n 5 5 9 \n..."
        return int(text.splitlines()[2].split()[2])

    async def reset(self) -> None:
        self._base = 0
        self._base = await self.posts()

    async def posts(self) -> int:
        requests = await self._requests()
        return requests - self._polls - self._base

    async def wait_for(
        self,
        expected: int,
        *,
        timeout: float,
        alive: Any = None,
        progress: Any = None,
        on_first: Any = None,
    ) -> Drain:
        count, first_at, last_at, timeline = await _poll_until(
            expected, self.posts, timeout=timeout, alive=alive, progress=progress, on_first=on_first
        )
        return Drain(count, first_at or last_at, last_at, timeline)

    async def close(self) -> None:
        await self._session.close()
