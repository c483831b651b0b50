"""The front door holds: a giant header, thousands of idle clients and a connection flood
against a real `hookwire serve` on 127.0.0.1, sent from the test itself.

While the abuse runs, /api/v1/health keeps answering fast and a message is delivered.
Every loop is bounded in count and time.
"""

from __future__ import annotations

import resource
import select
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.support.receiver import Receiver
from tests.support.server import HookwireProcess

MIB = 1024 * 1024
IDLE_CONNECTIONS = 2000
PARTIAL_HEAD = b"POST /api/v1/app HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "


@pytest.fixture(scope="module", autouse=True)
def enough_open_files() -> Iterator[None]:
    """This test process holds thousands of sockets: its own soft limit must allow them."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = IDLE_CONNECTIONS + 1000
    if hard < wanted:
        pytest.skip(f"the open-file hard limit ({hard}) is below the {wanted} this test needs")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, wanted), hard))
    yield
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


@pytest.fixture
def sqlite_server(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[HookwireProcess]:
    marker = request.node.get_closest_marker("server_env")
    env = marker.kwargs if marker else {}
    with HookwireProcess(f"sqlite:///{tmp_path}/hookwire.db", log=tmp_path / "hookwire.log", **env) as proc:
        yield proc


@contextmanager
def idle_clients(port: int, count: int) -> Iterator[list[socket.socket]]:
    """`count` connections that each sent half a request head and then nothing."""
    opened: list[socket.socket] = []
    try:
        for n in range(count):
            sock = socket.create_connection(("127.0.0.1", port), timeout=5)
            sock.sendall(PARTIAL_HEAD)
            opened.append(sock)
            if n % 200 == 199:  # let the server accept them: the kernel's accept queue is finite
                time.sleep(0.2)
        yield opened
    finally:
        for sock in opened:
            sock.close()


def _still_open(sock: socket.socket) -> bool:
    sock.setblocking(False)  # with a timeout set, Python would wait for data despite MSG_DONTWAIT
    try:
        return sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) != b""
    except BlockingIOError:
        return True  # nothing to read and not closed
    except OSError:
        return False


def _health_latencies(url: str, count: int) -> list[float]:
    latencies = []
    with httpx.Client(timeout=5) as client:
        for _ in range(count):
            started = time.perf_counter()
            assert client.get(f"{url}/api/v1/health").status_code == 204
            latencies.append(time.perf_counter() - started)
    return sorted(latencies)


def test_a_100_mib_header_is_refused_with_431_after_reading_only_the_limit(
    sqlite_server: HookwireProcess,
) -> None:
    sock = socket.create_connection(("127.0.0.1", sqlite_server.port), timeout=10)
    sock.setblocking(False)
    chunk = b"a" * MIB
    head = b"GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: "
    pending = memoryview(head + chunk)
    sent, answer = 0, b""
    started = time.perf_counter()
    deadline = started + 20
    while time.perf_counter() < deadline and sent < 100 * MIB:
        readable, writable, _ = select.select([sock], [sock], [], 1)
        if readable:
            try:
                answer = sock.recv(4096)
            except ConnectionResetError:
                answer = b"reset"
            break
        if writable:
            try:
                n = sock.send(pending)
            except (BrokenPipeError, ConnectionResetError):
                answer = b"reset"
                break
            sent += n
            pending = pending[n:] if n < len(pending) else memoryview(chunk)
    elapsed = time.perf_counter() - started
    sock.close()
    assert answer.startswith(b"HTTP/1.1 431"), answer[:200]
    assert sent < 20 * MIB  # refused long before the 100 MiB were through
    assert elapsed < 2.0, elapsed
    print(f"\n100 MiB header: 431 after {sent / 1024:.0f} KiB sent, {elapsed * 1000:.0f} ms")
    # The server is unharmed.
    assert max(_health_latencies(sqlite_server.url, 20)) < 0.5


@pytest.mark.server_env(HOOKWIRE_HEADER_TIMEOUT="120")  # held until their deadline: keep it out of reach
def test_thousands_of_idle_clients_are_held_while_health_stays_fast_and_messages_are_delivered(
    sqlite_server: HookwireProcess, receiver: Receiver
) -> None:
    admin = {"authorization": f"Bearer {sqlite_server.token}"}
    url = sqlite_server.url
    app = httpx.post(f"{url}/api/v1/app", headers=admin, json={"name": "Acme"}).json()
    endpoint = {"url": receiver.url + "/hook"}
    assert httpx.post(f"{url}/api/v1/app/{app['id']}/endpoint", headers=admin, json=endpoint).is_success

    with idle_clients(sqlite_server.port, IDLE_CONNECTIONS) as idle:
        latencies = _health_latencies(url, 300)
        message = {"eventType": "invoice.paid", "payload": {"n": 1}}
        sent = httpx.post(f"{url}/api/v1/app/{app['id']}/msg", headers=admin, json=message, timeout=5)
        assert sent.status_code == 202, sent.text
        [delivered] = receiver.wait_for(1, timeout=10)
        held = sum(_still_open(sock) for sock in idle)
    p99 = latencies[int(len(latencies) * 0.99) - 1]
    assert p99 < 0.1, f"health p99 {p99 * 1000:.1f} ms with {held} idle clients"
    assert held == IDLE_CONNECTIONS  # held, not dropped, until their head deadline
    assert delivered.headers["webhook-id"] == sent.json()["id"]
    print(f"\n{held} idle clients held; health p99 {p99 * 1000:.1f} ms, max {latencies[-1] * 1000:.1f} ms")


@pytest.mark.server_env(HOOKWIRE_HEADER_TIMEOUT="1")
def test_a_client_that_never_finishes_its_request_head_is_closed_at_the_deadline(
    sqlite_server: HookwireProcess,
) -> None:
    with idle_clients(sqlite_server.port, 20) as idle:
        silent = socket.create_connection(("127.0.0.1", sqlite_server.port), timeout=5)
        started = time.perf_counter()
        answers = [sock.recv(4096) for sock in idle]  # blocks until the server answers and closes
        assert silent.recv(4096) == b""  # sent nothing: closed without an answer
        elapsed = time.perf_counter() - started
        silent.close()
    assert all(a.startswith(b"HTTP/1.1 408") for a in answers), answers[0][:100]
    assert 0.5 < elapsed < 4.0, elapsed


@pytest.mark.server_env(HOOKWIRE_MAX_CONNECTIONS="100")
def test_past_the_connection_cap_new_clients_get_a_fast_503_and_open_ones_keep_working(
    sqlite_server: HookwireProcess,
) -> None:
    with httpx.Client(timeout=5) as kept:
        assert kept.get(f"{sqlite_server.url}/api/v1/health").status_code == 204
        with idle_clients(sqlite_server.port, 99):
            time.sleep(0.3)  # let the server accept them
            started = time.perf_counter()
            refused = httpx.get(f"{sqlite_server.url}/api/v1/health", timeout=5)
            elapsed = time.perf_counter() - started
            assert kept.get(f"{sqlite_server.url}/api/v1/health").status_code == 204
        assert refused.status_code == 503 and refused.json()["code"] == "too_many_connections"
        assert elapsed < 0.5, elapsed
        # Once the idle clients are gone, new clients are served again.
        time.sleep(0.3)
        assert httpx.get(f"{sqlite_server.url}/api/v1/health", timeout=5).status_code == 204
