"""`hookwire serve` with more than one process: a supervisor over API and worker children.

Real subprocesses throughout: the children are found in /proc, killed with SIGKILL and must come
back; SIGTERM must stop them all; a message posted to the API child must be delivered by the
worker child, woken across processes (the safety-net poll is set to 30 s, so only a wake-up can
deliver within the bounds below).
"""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.support.receiver import Receiver
from tests.support.server import HookwireProcess

ENV = {"HOOKWIRE_PROCESSES": "2", "HOOKWIRE_POLL_INTERVAL": "30"}


def _children(supervisor: int) -> dict[int, str]:
    """pid -> role of the supervisor's live children."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        state = stat.rsplit(")", 1)[1].split()[0]
        if ppid == supervisor and b"_child" in argv and state != "Z":
            found[int(entry.name)] = "api" if b"api" in argv else "worker"
    return found


def _wait_children(
    supervisor: int, want: dict[str, int], avoid: set[int], timeout: float = 60
) -> dict[int, str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        children = _children(supervisor)
        roles = sorted(children.values())
        if roles == sorted(r for r, n in want.items() for _ in range(n)) and not (set(children) & avoid):
            return children
        time.sleep(0.05)
    raise AssertionError(f"children of {supervisor}: {_children(supervisor)}, wanted {want}")


def _wait_healthy(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/api/v1/health", timeout=2).status_code == 204:
                return
        except httpx.HTTPError:
            time.sleep(0.05)
    raise AssertionError("the API did not come back")


def _setup(api: httpx.Client, receiver: Receiver) -> str:
    app = api.post("/api/v1/app", json={"name": "Acme"}).json()["id"]
    created = api.post(f"/api/v1/app/{app}/endpoint", json={"url": receiver.url + "/hook"})
    assert created.status_code == 201, created.text
    return str(app)


def _send(api: httpx.Client, app: str, n: int) -> float:
    response = api.post(f"/api/v1/app/{app}/msg", json={"eventType": "order.paid", "payload": {"n": n}})
    assert response.status_code == 202, response.text
    return time.time()


def _wait_recorded(api: httpx.Client, app: str, count: int, timeout: float = 15.0) -> None:
    """Until `count` successful attempts are on record for the application."""
    deadline = time.monotonic() + timeout
    while True:
        attempts = api.get(f"/api/v1/app/{app}/attempt/endpoint/{_endpoint(api, app)}", params={"status": 0})
        if len(attempts.json()["data"]) >= count:
            return
        assert time.monotonic() < deadline, attempts.text
        time.sleep(0.05)


def _endpoint(api: httpx.Client, app: str) -> str:
    return str(api.get(f"/api/v1/app/{app}/endpoint").json()["data"][0]["id"])


def test_children_deliver_come_back_after_kill_and_stop_on_sigterm(
    database_url: str, receiver: Receiver, tmp_path: Path
) -> None:
    server = HookwireProcess(database_url, log=tmp_path / "serve.log", start_timeout=90, **ENV)
    with server:
        assert server.proc is not None
        supervisor = server.proc.pid
        children = _wait_children(supervisor, {"api": 1, "worker": 1}, set())
        with httpx.Client(base_url=server.url, headers={"authorization": f"Bearer {server.token}"}) as api:
            app = _setup(api, receiver)
            _send(api, app, 0)
            receiver.wait_for(1, timeout=10)

            worker = next(pid for pid, role in children.items() if role == "worker")
            os.kill(worker, signal.SIGKILL)
            children = _wait_children(supervisor, {"api": 1, "worker": 1}, {worker})
            _send(api, app, 1)
            receiver.wait_for(2, timeout=15)  # the new worker connected to the wake-ups too

            api_pid = next(pid for pid, role in children.items() if role == "api")
            os.kill(api_pid, signal.SIGKILL)
            children = _wait_children(supervisor, {"api": 1, "worker": 1}, {api_pid})
            _wait_healthy(server.url)
            _send(api, app, 2)
            receiver.wait_for(3, timeout=15)

        assert server.terminate() == 0
        assert _children(supervisor) == {}
        assert not any(Path(f"/proc/{pid}").exists() for pid in children)
    assert sorted(r.body for r in receiver.requests) == [b'{"n":0}', b'{"n":1}', b'{"n":2}']


def test_a_commit_in_the_api_process_wakes_a_worker_in_another(
    database_url: str, receiver: Receiver, tmp_path: Path
) -> None:
    """202 -> arrival at the receiver, one message at a time: bounded by the wake-up, not the
    30 s poll. The median is printed (`pytest -s`); docs/benchmarks.md has quiet-machine numbers."""
    server = HookwireProcess(database_url, log=tmp_path / "serve.log", start_timeout=90, **ENV)
    auth = {"authorization": f"Bearer {server.token}"}
    with server, httpx.Client(base_url=server.url, headers=auth) as api:
        app = _setup(api, receiver)
        _send(api, app, -1)  # warm up: connection pools, caches
        receiver.wait_for(1, timeout=10)
        gaps = []
        for n in range(20):
            accepted = _send(api, app, n)
            arrived = receiver.wait_for(n + 2, timeout=5)[-1].at
            gaps.append(arrived - accepted)
    print(
        f"202 -> arrival across processes: median {statistics.median(gaps) * 1000:.1f} ms, "
        f"max {max(gaps) * 1000:.1f} ms"
    )
    assert max(gaps) < 5  # every one by a wake-up: the poll would take up to 30 s


def test_the_workers_of_one_serve_take_their_turns_and_all_deliver(
    database_url: str, receiver: Receiver, tmp_path: Path
) -> None:
    """Each worker child is told its turn among the workers (store/pg_wakeups.py), and with
    turns taken every message is still delivered, promptly, one at a time and in a burst."""
    env = {**ENV, "HOOKWIRE_PROCESSES": "4"}
    server = HookwireProcess(database_url, log=tmp_path / "serve.log", start_timeout=90, **env)
    auth = {"authorization": f"Bearer {server.token}"}
    with server, httpx.Client(base_url=server.url, headers=auth) as api:
        assert server.proc is not None
        children = _wait_children(server.proc.pid, {"api": 2, "worker": 2}, set())
        turns = []
        for pid, role in children.items():
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            if role == "worker":
                turns.append(argv[argv.index(b"--turn") + 1])
        assert sorted(turns) == [b"0/2", b"1/2"]

        app = _setup(api, receiver)
        for n in range(5):
            accepted = _send(api, app, n)
            arrived = receiver.wait_for(n + 1, timeout=5)[-1].at
            assert arrived - accepted < 5  # a wake-up, not the 30 s poll
        for n in range(5, 105):
            _send(api, app, n)
        receiver.wait_for(105, timeout=30)
    assert sorted(int(r.body[5:-1]) for r in receiver.requests) == list(range(105))  # {"n":N}


def test_a_malformed_turn_is_a_usage_error_not_a_traceback() -> None:
    for turn in ("x", "2/2", "1"):
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "hookwire",
                "_child",
                "worker",
                "--parent-pid",
                "1",
                "--listen-fd",
                "3",
                "--turn",
                turn,
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 2, done.stderr
        assert "expected SLOT/WORKERS" in done.stderr and "Traceback" not in done.stderr
